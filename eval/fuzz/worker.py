"""One atheris (libFuzzer) process on one target; started by :mod:`eval.fuzz.campaign`.

Run as ``python -m eval.fuzz.worker CONFIG_JSON``. Python exceptions are classified here, in
the process: allowed typed errors go to a histogram, anything else is saved and counted as a
crash, and fuzzing goes on. What Python cannot catch (a segfault in compressai's rANS decoder,
an input over the per-input time limit, memory over ``rss_limit_mb``) is libFuzzer's: it writes
a ``crash-``, ``timeout-`` or ``oom-`` file and exits, and the campaign counts it and restarts.
Counters are flushed to ``stats_path`` every 0.2 s and at the end.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import atheris

__all__ = ["main", "pad_entropy_streams"]

_FLUSH_S = 0.2


def main(argv: list[str]) -> None:
    """Fuzz until ``runs`` inputs or ``seconds`` have passed, then exit(0) (never returns)."""
    config: dict[str, Any] = json.loads(argv[1])
    from eval.fuzz.stats import Stats, crash_signature
    from eval.fuzz.target import Mutation, describe

    corpus, artifacts = Path(config["corpus"]), Path(config["artifacts"])
    if config["target"] == "planted":
        from eval.fuzz.planted import planted_target

        target = planted_target(artifacts.parent)
    else:
        with atheris.instrument_imports(include=config["instrument"]):
            import torch

            from eval.fuzz.targets import build_target
        torch.set_num_threads(1)
        target = build_target(config["target"], config["max_pixels"], config["real"])
    warnings.simplefilter("ignore")  # 16-bit and decompression-bomb warnings, once per input
    corpus.mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    for i, seed in enumerate(target.seeds):
        (corpus / f"seed-{target.name}-{i:03d}").write_bytes(seed)
    stats_path = Path(config["stats_path"])
    (stats_path.parent / "target.json").write_text(json.dumps(describe(target)))
    stats = Stats()
    deadline = time.monotonic() + config["seconds"]
    last_flush = time.monotonic()

    def finish() -> None:
        stats.save(stats_path)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    def note(stage: str) -> None:
        stats.stages[stage] += 1

    def test_one_input(data: bytes) -> None:
        nonlocal last_flush
        stats.executions += 1
        try:
            target.run(data, note)
            stats.ok += 1
        except target.allowed as error:
            stats.record_typed(error)
        except Exception as error:  # anything else is a bug in the code under test
            stats.record_crash(crash_signature(error), f"{type(error).__name__}: {error}", data, artifacts)
            last_flush = 0.0  # flush now: a hang or a signal may follow before the next flush
        now = time.monotonic()
        if stats.executions >= config["runs"] or now >= deadline:
            finish()
        if now - last_flush > _FLUSH_S:
            stats.save(stats_path)
            last_flush = now

    def mutator(data: bytes, max_size: int, seed: int) -> bytes:
        try:
            return target.mutate(data, max_size, Mutation(random.Random(seed), target.seeds, atheris.Mutate))
        except Exception as error:  # a mutator bug must not end the run; it is reported
            stats.harness_errors[crash_signature(error)] += 1
            return bytes(atheris.Mutate(data, max_size))

    stats.save(stats_path)
    atheris.Setup(
        [
            argv[0],
            str(corpus),
            f"-timeout={config['timeout_s']}",
            f"-rss_limit_mb={config['rss_limit_mb']}",
            f"-max_len={config['max_len']}",
            f"-seed={config['seed']}",
            f"-artifact_prefix={artifacts}/",
            f"-max_total_time={int(config['seconds']) + 60}",
            "-print_final_stats=1",
        ],
        test_one_input,
        custom_mutator=mutator,
    )
    atheris.Fuzz()
    finish()  # libFuzzer stopped on its own (its time limit)


if __name__ == "__main__":
    main(sys.argv)
