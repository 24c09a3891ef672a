"""Replay one input in a fresh process and time it: ``python -m eval.fuzz.replay CONFIG_JSON FILE``.

The campaign replays every input libFuzzer stopped for a time-out: libFuzzer's limit is wall
time, and on a machine shared with other jobs a slow-but-finite input can pass it. The replay
prints ``ready`` once the target is built, then one JSON line with the CPU seconds the input
took, the wall seconds and what it raised. The campaign counts a hang when the input does not
finish within 5x the limit after ``ready`` (an endless loop or a deadlock), or took more CPU
time than the limit.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

__all__ = ["main"]


def main(argv: list[str]) -> None:
    config: dict[str, Any] = json.loads(argv[1])
    data = Path(argv[2]).read_bytes()
    warnings.simplefilter("ignore")
    if config["target"] == "planted":
        from eval.fuzz.planted import planted_target

        target = planted_target(Path(argv[2]).parent)
    else:
        import torch

        from eval.fuzz.targets import build_target

        torch.set_num_threads(1)
        target = build_target(config["target"], config["max_pixels"], config["real"])
    print("ready", flush=True)
    cpu, wall, outcome = time.process_time(), time.perf_counter(), "accepted"
    try:
        target.run(data, lambda stage: None)
    except Exception as error:  # reported, not judged: the campaign decides
        outcome = f"{type(error).__name__}: {str(error)[:200]}"
    print(json.dumps({"cpu_s": round(time.process_time() - cpu, 3),
                      "wall_s": round(time.perf_counter() - wall, 3), "outcome": outcome}))


if __name__ == "__main__":
    main(sys.argv)
