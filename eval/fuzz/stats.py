"""Counters of a fuzz run: executions, crashes, hangs and the typed errors seen, as JSON."""

from __future__ import annotations

import hashlib
import json
import re
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Stats", "crash_signature", "normalize_message"]


def normalize_message(error: BaseException) -> str:
    """``Type: message`` with numbers replaced by N, so similar errors share one histogram row."""
    first_line = str(error).splitlines()[0] if str(error) else ""
    first_line = re.sub(r"<[^<>]* object at 0x[0-9a-f]+>", "<file>", first_line)
    message = re.sub(r"\b0x[0-9a-f]+\b", "X", first_line)  # hex values
    message = re.sub(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{4,}\b", "X", message)  # hex ids
    message = re.sub(r"\d+(\.\d+)?", "N", message)
    return f"{type(error).__name__}: {message[:90]}"


def crash_signature(error: BaseException) -> str:
    """Exception type and the innermost frame: one row per distinct bug."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno} in {frames[-1].name}" if frames else ""
    return f"{type(error).__name__}{where}"


@dataclass
class Stats:
    """What one worker (or a whole campaign, after :meth:`merge`) saw.

    Attributes:
        executions: Inputs run.
        ok: Inputs the target accepted without an error.
        crashes: Inputs that raised a disallowed exception, broke an invariant, or killed the
            process (signal, out of memory).
        hangs: Inputs that ran past the per-input time limit.
        typed_errors: Allowed exceptions by class name.
        messages: Allowed exceptions by normalised message (top rows are reported).
        stages: How far inputs got (``parsed``, ``latents``, ``decoded``, ``encoded``).
        crash_signatures: Distinct crashes: signature -> {count, message, artifact}.
        harness_errors: Exceptions in the mutators (bugs of the harness, not of the code
            under test; the input is then mutated by libFuzzer alone).
    """

    executions: int = 0
    ok: int = 0
    crashes: int = 0
    hangs: int = 0
    typed_errors: Counter[str] = field(default_factory=Counter)
    messages: Counter[str] = field(default_factory=Counter)
    stages: Counter[str] = field(default_factory=Counter)
    crash_signatures: dict[str, dict[str, Any]] = field(default_factory=dict)
    harness_errors: Counter[str] = field(default_factory=Counter)

    def record_typed(self, error: BaseException) -> None:
        self.typed_errors[type(error).__name__] += 1
        self.messages[normalize_message(error)] += 1

    def record_crash(self, signature: str, message: str, data: bytes | None, artifacts: Path) -> None:
        """Count a crash; the first input of each signature is saved as ``pyexc-<sha1>``."""
        self.crashes += 1
        entry = self.crash_signatures.setdefault(signature, {"count": 0, "message": message[:300]})
        entry["count"] += 1
        if data is not None and "artifact" not in entry:
            path = artifacts / f"pyexc-{hashlib.sha1(data).hexdigest()[:16]}"
            path.write_bytes(data)
            entry["artifact"] = str(path)

    def merge(self, other: Stats) -> None:
        self.executions += other.executions
        self.ok += other.ok
        self.crashes += other.crashes
        self.hangs += other.hangs
        self.typed_errors.update(other.typed_errors)
        self.messages.update(other.messages)
        self.stages.update(other.stages)
        self.harness_errors.update(other.harness_errors)
        for signature, entry in other.crash_signatures.items():
            mine = self.crash_signatures.setdefault(signature, {**entry, "count": 0})
            mine["count"] += entry["count"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "executions": self.executions,
            "ok": self.ok,
            "crashes": self.crashes,
            "hangs": self.hangs,
            "typed_errors": dict(self.typed_errors.most_common()),
            "messages": dict(self.messages.most_common()),
            "stages": dict(self.stages.most_common()),
            "crash_signatures": self.crash_signatures,
            "harness_errors": dict(self.harness_errors),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Stats:
        return cls(
            executions=data["executions"],
            ok=data["ok"],
            crashes=data["crashes"],
            hangs=data["hangs"],
            typed_errors=Counter(data["typed_errors"]),
            messages=Counter(data["messages"]),
            stages=Counter(data["stages"]),
            crash_signatures=data["crash_signatures"],
            harness_errors=Counter(data.get("harness_errors", {})),
        )

    def save(self, path: Path) -> None:
        """Write atomically (a reader never sees half a file)."""
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_dict()))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Stats:
        return cls.from_dict(json.loads(path.read_text())) if path.is_file() else cls()
