"""Run one target to a budget of inputs or seconds, restarting the worker after native crashes.

The campaign process never imports the code under test: it starts :mod:`eval.fuzz.worker`
subprocesses, reads their counters, and turns libFuzzer's exits into counts: ``crash-`` (a
signal) and ``oom-`` files are crashes; a ``timeout-`` file is replayed in a fresh process
(:mod:`eval.fuzz.replay`) and is a hang when it also takes more CPU time than the limit, or
never finishes (libFuzzer's limit is wall time, which a busy machine stretches). A worker
that dies without leaving a file (killed by the kernel, say) is a crash too.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.fuzz.stats import Stats

__all__ = ["Budget", "run_campaign"]

_LIBFUZZER_KINDS = {"timeout": "hang", "crash": "crash", "oom": "crash", "leak": "crash"}
_PROGRESS_S = 30.0


@dataclass(frozen=True)
class Budget:
    """Limits of a campaign.

    Attributes:
        runs: Inputs to run in total (seeds included), or None for no limit.
        seconds: Wall-clock seconds, or None for no limit.
        timeout_s: Per-input time limit; an input over it is a hang.
        max_pixels: ``max_pixels`` of the codecs under test.
        rss_limit_mb: Memory limit of a worker; going over it is a crash.
        max_len: Largest input libFuzzer builds.
        max_restarts: Give up after this many worker deaths.
    """

    runs: int | None = 1000
    seconds: float | None = None
    timeout_s: int = 20
    max_pixels: int = 2**18
    rss_limit_mb: int = 6144
    max_len: int = 65536
    max_restarts: int = 50


def _artifacts(folder: Path) -> set[Path]:
    return {p for p in folder.iterdir() if p.is_file()} if folder.is_dir() else set()


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _replay(config: dict[str, Any], path: Path, timeout_s: int) -> dict[str, Any]:
    """CPU and wall time of one input in a fresh process (see :mod:`eval.fuzz.replay`).

    Returns an empty dict when the input did not finish within 5x ``timeout_s``.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "eval.fuzz.replay", json.dumps(config), str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert process.stdout is not None
    try:
        if process.stdout.readline().strip() != "ready":  # start-up is not timed
            return {}
        watchdog = threading.Timer(5 * timeout_s, process.kill)
        watchdog.start()
        line = process.stdout.readline()
        watchdog.cancel()
        return dict(json.loads(line)) if line.strip() else {}
    except ValueError:
        return {}
    finally:
        process.kill()
        process.wait()


def run_campaign(
    target: str,
    budget: Budget,
    work_dir: Path,
    corpus: Path | None = None,
    real: bool = True,
    seed: int = 1,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Fuzz ``target`` within ``budget``; returns the summary (also written to work_dir/summary.json).

    Args:
        target: ``container``, ``decode`` or ``image``.
        budget: Input, time and memory limits.
        work_dir: Worker logs, counters and crash/hang inputs (``artifacts/``) go here.
        corpus: Corpus folder kept between runs (default ``work_dir/corpus``).
        real: Also fuzz the shipped ``hyperprior`` weights (decode target) when installed.
        seed: libFuzzer's random seed (worker k uses ``seed + k``).
        log: Progress lines.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    artifacts = work_dir / "artifacts"
    artifacts.mkdir(exist_ok=True)
    corpus = corpus or work_dir / "corpus"
    total, start = Stats(), time.monotonic()
    deaths: list[dict[str, str]] = []
    slow: list[dict[str, Any]] = []
    for restart in range(budget.max_restarts + 1):
        runs_left = None if budget.runs is None else budget.runs - total.executions
        seconds_left = None if budget.seconds is None else budget.seconds - (time.monotonic() - start)
        if (runs_left is not None and runs_left <= 0) or (seconds_left is not None and seconds_left <= 0):
            break
        stats_path = work_dir / f"worker-{restart}.json"
        stats_path.unlink(missing_ok=True)
        config = {
            "target": target,
            "runs": runs_left if runs_left is not None else 2**62,
            "seconds": seconds_left if seconds_left is not None else 1e9,
            "corpus": str(corpus),
            "artifacts": str(artifacts),
            "stats_path": str(stats_path),
            "timeout_s": budget.timeout_s,
            "rss_limit_mb": budget.rss_limit_mb,
            "max_len": budget.max_len,
            "max_pixels": budget.max_pixels,
            "real": real,
            "seed": seed + restart,
            "instrument": ["neuralcodec", "PIL"] if target == "image" else ["neuralcodec"],
        }
        before = _artifacts(artifacts)
        log_path = work_dir / f"worker-{restart}.log"
        with log_path.open("w") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "eval.fuzz.worker", json.dumps(config)],
                stdout=log_file, stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[2],
            )
            last = time.monotonic()
            while process.poll() is None:
                time.sleep(0.2)
                if time.monotonic() - last > _PROGRESS_S:
                    last = time.monotonic()
                    now = Stats.load(stats_path)
                    log(f"[{target}] {total.executions + now.executions} inputs, "
                        f"{total.crashes + now.crashes} crashes, {total.hangs} hangs, "
                        f"{time.monotonic() - start:.0f} s")
        worker = Stats.load(stats_path)
        new = sorted(_artifacts(artifacts) - before)
        deadly = [p for p in new if p.name.split("-")[0] in _LIBFUZZER_KINDS]
        for path in deadly:
            kind = path.name.split("-")[0]
            worker.executions += 1  # the input that killed the worker was not flushed
            if _LIBFUZZER_KINDS[kind] == "hang":
                replay = _replay(config, path, budget.timeout_s)
                if replay.get("cpu_s", float("inf")) > budget.timeout_s:
                    worker.hangs += 1
                else:  # over the wall-clock limit only because the machine was busy
                    slow.append({"artifact": str(path), **replay})
                    log(f"[{target}] time-out not a hang on replay: {replay}")
            else:
                worker.record_crash(f"libFuzzer {kind}", _tail(log_path, 12), None, artifacts)
                worker.crash_signatures[f"libFuzzer {kind}"].setdefault("artifact", str(path))
            deaths.append({"kind": kind, "artifact": str(path), "log": str(log_path)})
        if process.returncode != 0 and not deadly:
            worker.record_crash(f"worker exit status {process.returncode}", _tail(log_path, 12), None, artifacts)
            deaths.append({"kind": f"exit {process.returncode}", "artifact": "", "log": str(log_path)})
        total.merge(worker)
        if deadly or process.returncode:
            log(f"[{target}] worker {restart} died ({', '.join(d['kind'] for d in deaths[-1:])}); restarting")
        elif worker.executions == 0:
            break  # nothing ran: do not spin
    elapsed = time.monotonic() - start
    summary = {
        "target": target,
        "budget": {"runs": budget.runs, "seconds": budget.seconds, "timeout_s": budget.timeout_s,
                   "max_pixels": budget.max_pixels, "rss_limit_mb": budget.rss_limit_mb},
        "elapsed_s": round(elapsed, 1),
        "inputs_per_s": round(total.executions / elapsed, 1) if elapsed else 0.0,
        "worker_restarts": len(deaths),
        "deaths": deaths,
        "timeouts_not_hangs": slow,
        **total.to_dict(),
    }
    (work_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary
