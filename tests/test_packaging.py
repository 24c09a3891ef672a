"""A user's install: the wheel carries the weights, and an installed copy codes offline.

The wheel is built from a copy of the project (so the checkout's build/ is never touched),
installed into an empty folder outside the checkout, and run from there through a pipe with
``NEURALCODEC_WEIGHTS`` unset, so the codec can only find the weights the wheel installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from neuralcodec import registry

ROOT = Path(__file__).resolve().parent.parent
#: What a build needs: the project's metadata, the package, and the weights it links to.
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "neuralcodec", "weights")

pytestmark = [pytest.mark.weights, pytest.mark.slow]


def _pip(*args: str, cwd: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args, "--no-deps",
                    "--no-index"], cwd=cwd, check=True, timeout=600)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the project."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", ".*"))
        else:
            shutil.copy2(ROOT / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    _pip("wheel", "--no-build-isolation", "-w", str(dist), str(source), cwd=source)
    (built,) = dist.glob("neuralcodec-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty folder with only the wheel installed into it."""
    target = tmp_path_factory.mktemp("site")
    _pip("install", "--target", str(target), str(wheel), cwd=target)
    return target


@pytest.fixture
def user_env(installed: Path) -> Iterator[dict[str, str]]:
    """The environment of a user of the installed copy: no NEURALCODEC_WEIGHTS, no checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("NEURALCODEC_WEIGHTS", "PYTHONPATH")}
    env["PYTHONPATH"] = str(installed)  # torch, compressai etc. come from this interpreter
    yield env


def test_wheel_carries_every_weight_file_and_the_metadata(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = [p.relative_to(ROOT / "weights") for p in (ROOT / "weights").rglob("*")
               if p.is_file() and not p.name.startswith(".")]
    assert any(p.suffix == ".safetensors" for p in shipped)
    missing = [str(p) for p in shipped if f"neuralcodec/_weights/{p.as_posix()}" not in names]
    assert not missing, f"not in the wheel: {missing}"
    assert "neuralcodec/py.typed" in names
    assert "neuralcodec-0.1.0.dist-info/licenses/LICENSE" in names
    metadata = zipfile.ZipFile(wheel).read("neuralcodec-0.1.0.dist-info/METADATA").decode()
    assert "License-Expression: Apache-2.0" in metadata


def test_installed_copy_round_trips_through_a_pipe(
    installed: Path, user_env: dict[str, str], tmp_path: Path
) -> None:
    """``cat a.png | neuralcodec compress - -o - | neuralcodec decompress - -o - > b.png``,
    run outside the checkout with the installed package and its own weights."""
    python = sys.executable
    where = subprocess.run([python, "-c", "import neuralcodec; print(neuralcodec.__file__)"], cwd=tmp_path,
                           env=user_env, capture_output=True, text=True, check=True, timeout=60)
    assert Path(where.stdout.strip()).is_relative_to(installed)
    lines = subprocess.run([python, "-m", "neuralcodec", "models"], cwd=tmp_path, env=user_env,
                           capture_output=True, text=True, check=True, timeout=60).stdout.splitlines()
    for spec in registry.CODECS:
        if spec.weights_file is not None:  # each with weights: installed, from the installed copy
            row = next(i for i, line in enumerate(lines) if line.startswith(f"{spec.name} "))
            assert " installed " in lines[row] and str(installed) in lines[row + 1], lines[row:row + 2]
    sample = ROOT / "tests" / "data" / "sample.png"
    pipe = (f"cat '{sample}' | '{python}' -m neuralcodec compress - -o - -q 3 "
            f"| '{python}' -m neuralcodec decompress - -o - > out.png")
    result = subprocess.run(["bash", "-o", "pipefail", "-c", pipe], cwd=tmp_path, env=user_env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    with Image.open(sample) as a, Image.open(tmp_path / "out.png") as b:
        assert a.size == b.size
        original = np.asarray(a.convert("RGB"), dtype=np.float64)
        decoded = np.asarray(b.convert("RGB"), dtype=np.float64)
    assert 10 * np.log10(255**2 / np.mean((original - decoded) ** 2)) > 25
