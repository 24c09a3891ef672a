"""``python -m eval list|all``: every listed command names a runnable module; no study runs here."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
from pathlib import Path

import pytest

from eval import __main__ as eval_all


def _has_main(path: Path) -> bool:
    """A top-level ``def main`` and an ``if __name__ == "__main__"`` block, read without importing."""
    tree = ast.parse(path.read_text())
    defines = any(isinstance(node, ast.FunctionDef) and node.name == "main" for node in tree.body)
    guarded = any(isinstance(node, ast.If) and "__main__" in ast.unparse(node.test) for node in tree.body)
    return defines and guarded


@pytest.mark.parametrize("study", eval_all.STUDIES, ids=lambda s: s.name)
def test_every_command_names_a_runnable_module(study: eval_all.Study) -> None:
    for command in study.commands:
        spec = importlib.util.find_spec(command[0])
        assert spec is not None, f"{study.name}: no module {command[0]}"
        if spec.submodule_search_locations is not None:  # a package runs its __main__
            spec = importlib.util.find_spec(f"{command[0]}.__main__")
            assert spec is not None, f"{study.name}: package {command[0]} has no __main__"
        assert spec.origin and _has_main(Path(spec.origin)), f"{study.name}: {spec.origin} has no main() entry point"


def test_names_are_unique() -> None:
    names = [s.name for s in eval_all.STUDIES]
    assert len(names) == len(set(names))


def test_list_prints_every_study_its_commands_and_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert eval_all.main(["list"]) == 0
    out = capsys.readouterr().out
    for study in eval_all.STUDIES:
        assert study.name in out and study.report in out
        for command in study.commands:
            assert eval_all.command_line(study, command) in out
    assert "OMP_NUM_THREADS=1 python -m eval.studies.large --skip-kodak" in out


def test_all_runs_in_order_and_stops_at_the_first_failure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[list[str]] = []

    def fake_run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        calls.append(argv[2:])  # after sys.executable, -m
        return subprocess.CompletedProcess(argv, 3 if argv[2:3] == ["eval.studies.speed"] else 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    assert eval_all.main(["all", "--only", "speed,rd,determinism"]) == 1
    assert [c[0] for c in calls] == ["eval.rd", "eval.studies.speed"]  # catalog order, then stop
    assert "eval: study speed failed (exit 3): python -m eval.studies.speed; stopped" in capsys.readouterr().err

    calls.clear()
    assert eval_all.main(["all", "--only", "speed,rd,determinism", "--skip", "rd", "--keep-going"]) == 1
    assert [c[0] for c in calls] == ["eval.studies.speed", "eval.studies.determinism"]
    assert "1 of 2 studies failed: speed" in capsys.readouterr().err


def test_unknown_study_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as error:
        eval_all.main(["all", "--only", "nope"])
    assert error.value.code == 2
