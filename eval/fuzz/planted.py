"""A target with planted bugs, to check the harness itself counts crashes and hangs.

Once per campaign (marker files in the work folder): a Python ``IndexError``, a segfault, and
one mutation that makes an input which sleeps past the per-input limit (in the replay too);
every other input raises an allowed error. A correct campaign reports 2 crashes and 1 hang. Imports no torch, so it starts
fast (tests/test_fuzz.py).
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable
from pathlib import Path

from eval.fuzz.target import Mutation, Target

__all__ = ["PlantedError", "planted_target"]


_HANG = b"planted hang"


class PlantedError(ValueError):
    """The allowed error of the planted target."""


def planted_target(work_dir: Path) -> Target:
    """The planted target; ``work_dir`` holds the once-per-campaign markers."""

    def once(name: str) -> bool:
        marker = work_dir / f"planted-{name}"
        if marker.exists():
            return False
        marker.touch()
        return True

    def run(data: bytes, note: Callable[[str], None]) -> None:
        note("run")
        if data == _HANG:  # decided by the input, so the campaign's replay hangs too
            time.sleep(3600)
        if once("index"):
            raise IndexError("planted")
        if once("segv"):
            ctypes.string_at(0)
        raise PlantedError(f"{len(data)} bytes")

    def mutate(data: bytes, max_size: int, mutation: Mutation) -> bytes:
        return _HANG if once("hang") else mutation.raw(data, max_size)

    return Target("planted", run, (PlantedError,), mutate, [b"seed"], [])
