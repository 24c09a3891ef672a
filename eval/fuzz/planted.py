"""A target with planted bugs, to check the harness itself counts crashes and hangs.

Once per campaign (marker files in the work folder), in this order: a Python ``IndexError``, an
input that sleeps past the per-input limit, and a segfault; every other input raises an
allowed error. A correct campaign reports 2 crashes and 1 hang. Imports no torch, so it starts
fast (tests/test_fuzz.py).
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable
from pathlib import Path

from eval.fuzz.target import Mutation, Target

__all__ = ["PlantedError", "planted_target"]


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
        if once("index"):
            raise IndexError("planted")
        if once("hang"):
            time.sleep(3600)
        if once("segv"):
            ctypes.string_at(0)
        raise PlantedError(f"{len(data)} bytes")

    def mutate(data: bytes, max_size: int, mutation: Mutation) -> bytes:
        return mutation.raw(data, max_size)

    return Target("planted", run, (PlantedError,), mutate, [b"seed"], [])
