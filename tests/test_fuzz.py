"""The atheris fuzz harness (eval/fuzz): short campaigns of every target, and the harness itself.

The campaigns run in subprocesses, all at once (a crash must not take pytest down, and most of
their time is importing torch; about 25 s, so they are marked ``slow``). Long runs:
eval/reports/fuzz/README.md.
"""

from __future__ import annotations

import io
import json
import random
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("atheris")

from eval.fuzz.mutators import byte_mutator, mutate_container, mutate_image  # noqa: E402
from eval.fuzz.target import Mutation  # noqa: E402
from neuralcodec import Codec, container  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
#: Inputs per target in the unit test (seeds included); the long runs are in the report.
RUNS = {"container": 300, "decode": 150, "image": 250, "planted": 60}


Campaigns = dict[str, tuple[subprocess.Popen[str], Path]]


@pytest.fixture(scope="module")
def campaigns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Campaigns]:
    """All short campaigns, started together; each test waits for its own."""
    out = tmp_path_factory.mktemp("fuzz")
    processes: Campaigns = {}
    for target, runs in RUNS.items():
        command = [sys.executable, "-m", "eval.fuzz", "--target", target, "--runs", str(runs),
                   "--out", str(out), "--no-report", "--no-real", "--max-pixels", str(2**16),
                   "--timeout", "2" if target == "planted" else "30", "--seed", "7"]
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        processes[target] = (process, out / target)
    yield processes
    for process, _ in processes.values():
        if process.poll() is None:
            process.kill()


def _summary(campaigns: Campaigns, target: str) -> dict[str, Any]:
    process, out = campaigns[target]
    output, _ = process.communicate(timeout=300)
    assert (out / "summary.json").is_file(), output
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return summary | {"output": output, "returncode": process.returncode}


@pytest.mark.slow
@pytest.mark.parametrize("target", ["container", "decode", "image"])
def test_short_fuzz_run_finds_no_crash_or_hang(campaigns: Campaigns, target: str) -> None:
    summary = _summary(campaigns, target)
    assert summary["crashes"] == 0, summary["crash_signatures"]
    assert summary["hangs"] == 0, summary["deaths"]
    assert summary["returncode"] == 0, summary["output"]
    assert not summary["harness_errors"], summary["harness_errors"]
    assert summary["executions"] == RUNS[target]
    assert summary["typed_errors"], "every target must also see rejected inputs"
    assert summary["ok"] > 0, "and accepted ones"
    if target == "decode":  # the mutations got below the CRCs, into the entropy decoder
        assert summary["stages"]["latents"] > 0 and summary["stages"]["decoded"] > 0
        assert summary["typed_errors"].get("BitstreamError", 0) > 0


@pytest.mark.slow
def test_harness_counts_planted_crashes_and_hangs(campaigns: Campaigns) -> None:
    """A Python exception, a hang and a segfault are all counted, and fuzzing goes on after each."""
    summary = _summary(campaigns, "planted")
    assert summary["crashes"] == 2 and summary["hangs"] == 1, summary
    signatures = set(summary["crash_signatures"])
    assert "libFuzzer crash" in signatures and any(s.startswith("IndexError") for s in signatures)
    assert summary["executions"] == RUNS["planted"]
    assert summary["returncode"] == 1  # the command fails when anything was found
    assert sorted(death["kind"] for death in summary["deaths"]) == ["crash", "timeout"]
    assert summary["timeouts_not_hangs"] == []  # the planted hang hangs on replay too


# -- the mutators, in process -------------------------------------------------------------------


def test_container_mutations_get_past_the_crcs(tiny_codec: Codec, tiny_image: Image.Image) -> None:
    seed = tiny_codec.encode(tiny_image, 3)
    rng = random.Random(0)
    mutation = Mutation(rng, [seed], byte_mutator(rng))  # atheris.Mutate needs a running fuzzer
    mutants = [mutate_container(seed, 1 << 16, mutation) for _ in range(300)]
    parsed = 0
    for mutant in mutants:
        try:
            container.unpack(mutant)
            parsed += 1
        except container.ContainerError:
            pass
    assert len(set(mutants)) > 250  # they differ
    assert 0.3 < parsed / len(mutants) < 0.95  # most pass the CRCs, some do not


def test_png_mutations_keep_chunk_crcs(tiny_image: Image.Image) -> None:
    buffer = io.BytesIO()
    tiny_image.save(buffer, format="PNG")
    seed, rng, valid = buffer.getvalue(), random.Random(1), 0
    mutation = Mutation(rng, [seed], byte_mutator(rng))
    for _ in range(100):
        mutant = mutate_image(seed, 1 << 20, mutation)
        offset, ok = 8, mutant[:8] == seed[:8]
        while ok and offset + 12 <= len(mutant):
            (length,) = struct.unpack_from(">I", mutant, offset)
            chunk = mutant[offset + 4 : offset + 8 + length]
            crc = mutant[offset + 8 + length : offset + 12 + length]
            ok = len(crc) == 4 and struct.unpack(">I", crc)[0] == zlib.crc32(chunk)
            offset += 12 + length
        valid += ok and offset == len(mutant)
    assert valid > 40  # the PNG-aware moves patch every chunk CRC
