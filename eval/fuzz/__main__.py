"""``python -m eval.fuzz --target {container,decode,image,all} --runs N [--seconds S]``.

Runs a fuzz campaign per target (see :mod:`eval.fuzz.campaign`), prints the summary, writes it
to ``--out`` (default build/fuzz/<target>/) and merges it into eval/reports/fuzz/ unless
``--no-report``. Exit status 1 when any crash or hang was found.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from eval.fuzz.campaign import Budget, run_campaign
from eval.fuzz.report import REPORT_DIR, update_report

__all__ = ["main"]

_TARGETS = ("container", "decode", "image")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m eval.fuzz", description=__doc__.split("\n\n")[1])
    parser.add_argument("--target", choices=(*_TARGETS, "all", "planted"), default="all",
                        help="planted: a self-test with known bugs (2 crashes, 1 hang)")
    parser.add_argument("--runs", type=int, help="inputs per target, seeds included")
    parser.add_argument("--seconds", type=float, help="wall-clock seconds per target")
    parser.add_argument("--corpus", type=Path, help="corpus folder kept between runs (per target)")
    parser.add_argument("--out", type=Path, default=Path("build/fuzz"), help="logs, crash inputs")
    parser.add_argument("--timeout", type=int, default=20, help="per-input limit in seconds (hang)")
    parser.add_argument("--max-pixels", type=int, default=2**18, help="codec limit (default 2**18)")
    parser.add_argument("--rss-limit-mb", type=int, default=6144)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-real", action="store_true", help="tiny codec only, even with weights")
    parser.add_argument("--no-report", action="store_true", help="do not update eval/reports/fuzz/")
    parser.add_argument("--label", help="row name in the report (default: the target)")
    parser.add_argument("--report-dir", type=Path, default=REPORT_DIR)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.runs is None and args.seconds is None:
        args.runs = 1000
    budget = Budget(runs=args.runs, seconds=args.seconds, timeout_s=args.timeout,
                    max_pixels=args.max_pixels, rss_limit_mb=args.rss_limit_mb)
    command = "python -m eval.fuzz " + shlex.join(sys.argv[1:] if argv is None else list(argv))
    summaries = []
    for target in _TARGETS if args.target == "all" else (args.target,):
        corpus = args.corpus / target if args.corpus else None
        summary = run_campaign(target, budget, args.out / target, corpus, real=not args.no_real,
                               seed=args.seed, log=lambda line: print(line, file=sys.stderr, flush=True))
        summary["command"] = command
        summary["label"] = args.label or target
        summary["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        summary.update(_described(args.out / target))
        summary["code"] = _code_version()
        (args.out / target / "summary.json").write_text(json.dumps(summary, indent=2))
        summaries.append(summary)
        print(f"{target}: {summary['executions']} inputs in {summary['elapsed_s']} s, "
              f"{summary['crashes']} crashes, {summary['hangs']} hangs, "
              f"typed errors {summary['typed_errors']}", flush=True)
    if not args.no_report:
        print(f"report: {update_report(summaries, args.report_dir)}")
    return 1 if any(s["crashes"] or s["hangs"] for s in summaries) else 0


def _code_version() -> str:
    """The commit fuzzed, with ``+changes`` when the working tree differed from it."""
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha + ("+changes" if dirty else "")


def _described(work_dir: Path) -> dict[str, object]:
    """Codecs, seed count and allowed errors, as the worker wrote them next to its counters."""
    path = work_dir / "target.json"
    return json.loads(path.read_text()) if path.is_file() else {}


if __name__ == "__main__":
    sys.exit(main())
