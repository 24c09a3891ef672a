"""The package stays light: importing it pulls in no training, evaluation or plotting code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("pytorch_lightning", "lightning", "lightning_fabric", "matplotlib", "train", "eval")

_PROBE = """
import importlib, json, pkgutil, sys
import neuralcodec
before = sorted(sys.modules)
names = [m.name for m in pkgutil.walk_packages(neuralcodec.__path__, "neuralcodec.")]
for name in names:
    importlib.import_module(name)
print(json.dumps({"package": before, "all": sorted(sys.modules), "submodules": names}))
"""


@pytest.fixture(scope="module")
def loaded() -> dict[str, list[str]]:
    """``sys.modules`` in a fresh interpreter run from the repository root (where ``train`` and
    ``eval`` would be importable): after ``import neuralcodec``, then after every submodule."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _offenders(modules: list[str], forbidden: str) -> list[str]:
    return [m for m in modules if m == forbidden or m.startswith(forbidden + ".")]


@pytest.mark.parametrize("forbidden", FORBIDDEN)
def test_import_neuralcodec_does_not_load(loaded: dict[str, list[str]], forbidden: str) -> None:
    assert not _offenders(loaded["package"], forbidden), f"`import neuralcodec` loaded {forbidden}"


@pytest.mark.parametrize("forbidden", FORBIDDEN)
def test_no_submodule_loads(loaded: dict[str, list[str]], forbidden: str) -> None:
    assert not _offenders(loaded["all"], forbidden), f"a neuralcodec module loaded {forbidden}"


def test_the_probe_sees_the_package(loaded: dict[str, list[str]]) -> None:
    """The check itself works: the modules it walked and their dependencies are listed."""
    expected = {"neuralcodec.cli", "neuralcodec.cli.coding", "neuralcodec.metrics", "neuralcodec.models.fixed_point"}
    assert expected <= set(loaded["submodules"])
    assert {"neuralcodec.api", "torch", "compressai", "neuralcodec.cli"} <= set(loaded["all"])


@pytest.mark.parametrize("heavy", ["torch", "compressai", "neuralcodec.api"])
def test_import_neuralcodec_is_light(loaded: dict[str, list[str]], heavy: str) -> None:
    """Importing the package, its errors and registry loads no torch (PEP 562 for the API)."""
    assert not _offenders(loaded["package"], heavy)


_COMMAND_PROBE = """
import json, sys
from neuralcodec.cli import main
try:
    status = main(sys.argv[1:])
except SystemExit as exit:
    status = exit.code
print(json.dumps({"status": status, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["models"], ["info", "FILE"],
                                  ["compress", "--help"], ["decompress", "--help"]])
def test_light_commands_import_no_torch(argv: list[str], tmp_path: Path) -> None:
    """``--help``, ``--version``, ``models`` and ``info`` answer without loading torch or compressai."""
    ncc = tmp_path / "tiny.ncc"
    ncc.write_bytes((ROOT / "tests" / "expected" / "container-rgb.bin").read_bytes())
    argv = [str(ncc) if arg == "FILE" else arg for arg in argv]
    result = subprocess.run([sys.executable, "-c", _COMMAND_PROBE, *argv], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    report = json.loads(result.stderr.strip().splitlines()[-1])
    assert report["status"] == 0, result.stderr
    for heavy in ("torch", "compressai", "neuralcodec.api"):
        assert not _offenders(report["modules"], heavy), f"{argv} loaded {heavy}"
