"""``python -m eval list|all``: every report, regenerated one study after another.

    python -m eval list                          # the studies, what each runs, where it writes
    python -m eval all                           # every study in turn (hours); stops at the first failure
    python -m eval all --only rd,speed           # these studies only (in the order below)
    python -m eval all --skip tasks,training --keep-going   # run the rest even after a failure

Each command runs as ``sys.executable -m MODULE ...`` in a subprocess from the repository root,
so a study's imports, threads and environment stay its own; its output goes to this terminal.
The commands are each study's documented one (module docstring, README or report README); a
study that needs another's results lists that command first, so it also runs alone
(``--only gan``). Every command can also be run by hand, e.g. ``python -m eval.studies.speed``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Study", "STUDIES", "command_line", "main"]

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Study:
    """One report and the commands that regenerate it."""

    name: str  # what --only and --skip take
    report: str  # the folder (or files) it writes, relative to the repository root
    commands: tuple[tuple[str, ...], ...]  # each ``MODULE ARG...``, run as ``python -m``, in order
    env: tuple[tuple[str, str], ...] = ()  # set for its commands, e.g. the thread count it was measured with


def _commands(*lines: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(shlex.split(line)) for line in lines)


#: In the order ``all`` runs them: the Kodak results come before what reads them (gan, cards).
STUDIES: tuple[Study, ...] = (
    Study("rd", "eval/reports/kodak/", _commands("eval.rd --dataset kodak")),
    Study("rd-camvid", "eval/reports/camvid/", _commands("eval.rd --dataset camvid --limit 12")),
    Study("gan", "eval/reports/gan/", _commands(
        "eval.rd --dataset kodak --codecs neuralcodec-gan --no-crops", "eval.studies.gan")),
    Study("speed", "eval/reports/speed/", _commands("eval.studies.speed")),
    Study("determinism", "eval/reports/determinism/", _commands("eval.studies.determinism")),
    Study("large", "eval/reports/large/", _commands(
        "eval.studies.large --skip-kodak", "eval.studies.large --skip-memory --kodak-limit 8"),
        env=(("OMP_NUM_THREADS", "1"),)),
    Study("concurrency", "eval/reports/threads/ (prints; README by hand)", _commands(
        "eval.studies.concurrency --threads 4 --images 4 --size 256")),
    Study("edge", "eval/reports/edge/", _commands("eval.studies.edge")),
    Study("edge-cards", "weights/*-encoder-*.md", _commands("eval.studies.edge_cards")),
    Study("tasks", "eval/reports/tasks/, weights/heads/*.md", _commands(
        "eval.studies.task_runs", "eval.studies.tasks")),
    Study("training", "eval/reports/training/", _commands(
        "eval.studies.train_speed run --candidates current,fast-lr-rounded,fast,fast-lr --budget-min 12 "
        "--threads 1 --parallel 2",
        "eval.studies.train_speed report")),
    Study("learning-curve", "eval/reports/training/learning-curve.png", _commands(
        "eval.studies.learning_curve report")),
    Study("dataset", "eval/reports/dataset/", _commands(
        "eval.studies.dataset_throughput --split test -q 3 --runs 1x1 2x1 "
        "--out eval/reports/dataset/throughput-233.json",
        "eval.studies.dataset_throughput --split test -q 3 --runs 2x1 1x1 "
        "--out eval/reports/dataset/throughput-233-reversed.json")),
    Study("dataset-summary", "eval/reports/dataset/ (prints the table of build/datasets/)", _commands(
        "eval.studies.dataset_summary")),
    Study("fuzz", "eval/reports/fuzz/", _commands("eval.fuzz --target all --runs 1000")),
    Study("model-cards", "weights/*.md, weights/README.md", _commands("eval.studies.model_card")),
)


def command_line(study: Study, command: Sequence[str]) -> str:
    """The shell line a person would type for ``command`` of ``study``."""
    env = " ".join(f"{key}={value}" for key, value in study.env)
    return (f"{env} " if env else "") + "python -m " + shlex.join(command)


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in {s.name for s in STUDIES}]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown studies {', '.join(unknown)}; known: {', '.join(s.name for s in STUDIES)}")
    return names


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m eval", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="print the studies, their commands and report folders")
    run_all = actions.add_parser("all", help="regenerate every report, one study after another")
    run_all.add_argument("--only", type=_names, default=[], metavar="A,B", help="these studies only")
    run_all.add_argument("--skip", type=_names, default=[], metavar="A,B", help="leave these out")
    run_all.add_argument("--keep-going", action="store_true", help="run the rest after a failure")
    return parser


def _list() -> None:
    width = max(len(s.name) for s in STUDIES)
    for study in STUDIES:
        print(f"{study.name:<{width}}  -> {study.report}")
        for command in study.commands:
            print(f"{'':<{width}}     {command_line(study, command)}")


def _run(study: Study, number: int, total: int) -> tuple[int, str]:
    """Runs ``study``'s commands in order; the status and command line of the first that failed."""
    env = {**os.environ, **dict(study.env)}
    for command in study.commands:
        line = command_line(study, command)
        print(f"== [{number}/{total}] {study.name}: {line}", flush=True)
        start = time.monotonic()
        status = subprocess.run([sys.executable, "-m", *command], cwd=ROOT, env=env).returncode
        print(f"== [{number}/{total}] {study.name}: exit {status} after {time.monotonic() - start:.0f} s", flush=True)
        if status != 0:
            return status, line
    return 0, ""


def _run_all(only: Sequence[str], skip: Sequence[str], keep_going: bool) -> int:
    chosen = [s for s in STUDIES if (not only or s.name in only) and s.name not in skip]
    failed = []
    for number, study in enumerate(chosen, 1):
        status, line = _run(study, number, len(chosen))
        if status == 0:
            continue
        failed.append(study.name)
        if not keep_going:
            print(f"eval: study {study.name} failed (exit {status}): {line}; stopped "
                  f"(--keep-going runs the rest)", file=sys.stderr)
            return 1
        print(f"eval: study {study.name} failed (exit {status}): {line}; going on", file=sys.stderr)
    if failed:
        print(f"eval: {len(failed)} of {len(chosen)} studies failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"eval: {len(chosen)} studies done", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.action == "list":
        _list()
        return 0
    try:
        return _run_all(args.only, args.skip, args.keep_going)
    except KeyboardInterrupt:
        print("eval: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
