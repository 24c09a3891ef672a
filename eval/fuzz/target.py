"""The shape of a fuzz target, and the error for a broken invariant. No heavy imports."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["Mutation", "Mutator", "Target", "OracleError", "describe"]


@dataclass(frozen=True)
class Mutation:
    """What a mutator draws on.

    Attributes:
        rng: Randomness, seeded by libFuzzer (so runs are reproducible).
        donors: The seed files, for splicing.
        raw: A byte-level mutator ``(data, max_size) -> bytes``: ``atheris.Mutate`` (libFuzzer's
            mutations, dictionaries, comparison tracing) inside a fuzzer,
            :func:`eval.fuzz.mutators.byte_mutator` elsewhere (atheris.Mutate needs a running
            fuzzer).
    """

    rng: random.Random
    donors: Sequence[bytes]
    raw: Callable[[bytes, int], bytes]


#: ``(data, max_size, mutation) -> mutated``.
Mutator = Callable[[bytes, int, Mutation], bytes]


class OracleError(AssertionError):
    """A call returned, but its result breaks an invariant (counted as a crash)."""


@dataclass(frozen=True)
class Target:
    """A fuzz target.

    Attributes:
        name: ``container``, ``decode`` or ``image``.
        run: Feeds one input to the code under test; ``note(label)`` counts how far it got.
        allowed: Exceptions that are correct answers to hostile input.
        mutate: Structure-aware mutator (see :mod:`eval.fuzz.mutators`).
        seeds: Valid inputs made at run time.
        codecs: Names of the codecs exercised.
    """

    name: str
    run: Callable[[bytes, Callable[[str], None]], None]
    allowed: tuple[type[BaseException], ...]
    mutate: Mutator
    seeds: list[bytes]
    codecs: list[str]


def describe(target: Target) -> dict[str, object]:
    """Plain data about a target for the report."""
    return {"target": target.name, "codecs": target.codecs, "seeds": len(target.seeds),
            "allowed": [e.__name__ for e in target.allowed]}

