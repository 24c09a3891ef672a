"""Images/s of ``neuralcodec compress-dataset`` for several process / thread settings, back to back.

    python -m eval.studies.dataset_throughput --split test -q 3 --runs 1x2 1x1 2x1 \
        --out eval/reports/dataset/throughput.json

Each run ``PxT`` (P processes, T torch threads each) codes the same images into a fresh folder
under ``build/dataset-throughput/`` through the real command line (a subprocess), so start-up is
measured too. Reported: the job's own images/s (coding loop, between barriers), the command's wall
time, and the 1-minute load average before and after (other jobs share this machine).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from train.codec.data import data_root

__all__ = ["main"]

_LINE = re.compile(r"(\d+) images \((\d+) coded.*?([\d.]+) images/s over ([\d.]+) s \((\d+) processes x (\d+) threads\)")


def _run(source: Path, folder: Path, quality: float, splits: list[str], processes: int, threads: int,
         workers: int, limit: int | None) -> dict[str, object]:
    shutil.rmtree(folder, ignore_errors=True)
    command = [sys.executable, "-m", "neuralcodec.cli", "compress-dataset", str(source), str(folder),
               "-q", str(quality), "--devices", str(processes), "--threads", str(threads),
               "--num-workers", str(workers), "--split", *splits]
    if limit is not None:
        command += ["--limit", str(limit)]
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall_s = time.perf_counter() - start
    match = _LINE.search(done.stdout)
    if done.returncode != 0 or match is None:
        raise SystemExit(f"run failed ({done.returncode}): {done.stderr[-2000:]}")
    images, coded, images_per_s, loop_s, world, used_threads = match.groups()
    return {
        "processes": int(world), "threads": int(used_threads), "workers": workers,
        "images": int(images), "coded": int(coded), "images_per_s": float(images_per_s),
        "loop_s": float(loop_s), "wall_s": round(wall_s, 1),
        "wall_images_per_s": round(int(coded) / wall_s, 3),
        "load_before": load_before, "load_after": os.getloadavg()[0],
        "command": " ".join(command[1:]).replace(sys.executable, "python"),
    }


def main() -> None:
    """Run the settings back to back and write a JSON record."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, default=data_root() / "camvid")
    parser.add_argument("--split", nargs="+", default=["test"])
    parser.add_argument("-q", "--quality", type=float, default=3.0)
    parser.add_argument("--runs", nargs="+", default=["1x2", "1x1", "2x1"], help="PROCESSESxTHREADS")
    parser.add_argument("--workers", type=int, default=1, help="DataLoader workers per process")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--out", type=Path, default=Path("eval/reports/dataset/throughput.json"))
    args = parser.parse_args()
    results = []
    for setting in args.runs:
        processes, threads = (int(v) for v in setting.split("x"))
        folder = Path("build/dataset-throughput") / f"{setting}"
        result = _run(args.source, folder, args.quality, args.split, processes, threads, args.workers, args.limit)
        print(json.dumps(result), flush=True)
        results.append(result)
    trees = [Path("build/dataset-throughput") / s for s in args.runs]
    identical = [
        sorted((p.relative_to(t).as_posix(), p.read_bytes()) for p in t.rglob("*.ncc"))
        == sorted((p.relative_to(trees[0]).as_posix(), p.read_bytes()) for p in trees[0].rglob("*.ncc"))
        for t in trees
    ]
    record = {"source": str(args.source), "splits": args.split, "quality": args.quality,
              "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "runs": results, "bitstreams_identical_to_first_run": identical}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.out}; bitstreams identical to the first run: {identical}")


if __name__ == "__main__":
    main()
