"""``python -m eval.studies.train_speed``: what a fixed CPU budget of training buys, recipe by recipe.

Each candidate recipe continues the same start weights (the shipped hyperprior) for the same
wall-clock budget with the same seed and thread count, through the repository's own training
entry point (``python -m train.codec.fit``), with validation off. Its last checkpoint (and, when the
recipe keeps one, its weight average) is then coded on the first Kodak images at a few
qualities, with real bitstreams, and compared with the start weights by BD-rate (PSNR-RGB).
Throughput is the pixels trained per second of budget.

    python -m eval.studies.train_speed run --candidates current,fast --budget-min 14 --threads 1 --parallel 2
    python -m eval.studies.train_speed evaluate           # code the checkpoints not evaluated yet
    python -m eval.studies.train_speed throughput --threads 2 --parallel 1   # steps/s of each setting
    python -m eval.studies.train_speed report             # tables -> eval/reports/training/

Results go to ``eval/reports/training/results.json`` (one entry per candidate, merged across
invocations) and ``README.md`` there gets the table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from eval.rd.bdrate import bd_rate
from eval.rd.report import REPORTS_DIR
from neuralcodec import registry
from neuralcodec.models import CodecModel
from neuralcodec.weights import read_tensors
from train.codec.checkpoints import AVERAGE_PREFIX, MODEL_PREFIX, restore_model
from train.codec.data import FixedImages, RandomCrops, data_root, list_images, load_uint8
from train.codec.rd_module import RateDistortionModule
from train.codec.validation import coded_metrics

__all__ = ["Candidate", "CANDIDATES", "evaluate_model", "kodak_images", "load_weights", "model_from", "main"]

OUT_DIR = REPORTS_DIR / "training"
RUNS_DIR = Path("runs/train-speed")
BASE_CONFIG = "train/configs/hyperprior-cpu.yaml"
#: Qualities and images coded for each candidate: enough for a BD-rate, cheap enough to repeat.
QUALITIES = (1.0, 2.0, 4.0, 6.0, 8.0)
NUM_IMAGES = 8


@dataclass(frozen=True)
class Candidate:
    """A training recipe: overrides of the CPU config, on the ``train.codec.fit`` command line."""

    name: str
    description: str
    overrides: tuple[str, ...]


_FAST = ("--model.channels_last", "true", "--model.bf16", "true")
_SCHEDULE = ("--model.lr", "5e-4", "--model.warmup_steps", "50", "--model.average_decay", "0.995")

CANDIDATES: dict[str, Candidate] = {
    c.name: c
    for c in (
        Candidate("current", "shipped recipe: Adam 2e-4 constant, 192² × 8, float32", ()),
        Candidate("channels-last", "current + channels-last memory format", _FAST[:2]),
        Candidate("fast", "current + channels-last + bf16 autocast of the transforms", _FAST),
        Candidate(
            "fast-lr", "fast + peak lr 5e-4 after 50 warm-up steps + weight average (0.995)",
            _FAST + _SCHEDULE,
        ),
        Candidate(
            "fast-lr-rounded", "fast-lr + g_s decodes the rounded latent (mixed quantization)",
            _FAST + _SCHEDULE + ("--model.rounded_synthesis", "true"),
        ),
        Candidate(
            "fast-lr-128", "fast-lr with 128² × 18 crops (same pixels per step)",
            _FAST + _SCHEDULE + ("--data.patch_size", "128", "--data.batch_size", "18"),
        ),
    )
}


def _run_dir(name: str) -> Path:
    return RUNS_DIR / name


def _launch(candidate: Candidate, budget_min: float, threads: int, init_weights: str) -> subprocess.Popen[bytes]:
    folder = _run_dir(candidate.name)
    folder.mkdir(parents=True, exist_ok=True)
    minutes = int(budget_min)
    seconds = round((budget_min - minutes) * 60)
    command = [
        sys.executable, "-m", "train.codec.fit", "fit", "--config", BASE_CONFIG,
        "--model.init_weights", init_weights,
        "--trainer.max_steps", "1000000",
        "--trainer.max_time", f"00:00:{minutes:02d}:{seconds:02d}",
        "--trainer.limit_val_batches", "0",
        "--trainer.enable_progress_bar", "false",
        "--trainer.default_root_dir", str(folder),
        *candidate.overrides,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    log = open(folder / "train.log", "wb")  # noqa: SIM115 - closed with the process
    (folder / "command.txt").write_text(" ".join(command) + "\n")
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)


def run(names: Sequence[str], budget_min: float, threads: int, parallel: int, init_weights: str) -> None:
    """Train each candidate for ``budget_min`` minutes, ``parallel`` at a time."""
    pending = [CANDIDATES[n] for n in names]
    running: list[tuple[Candidate, subprocess.Popen[bytes], float]] = []
    with tqdm(total=len(pending), desc="candidates") as bar:
        while pending or running:
            while pending and len(running) < parallel:
                candidate = pending.pop(0)
                running.append((candidate, _launch(candidate, budget_min, threads, init_weights), time.time()))
            time.sleep(5)
            for item in [r for r in running if r[1].poll() is not None]:
                candidate, process, start = item
                running.remove(item)
                _record(candidate.name, {
                    "description": candidate.description,
                    "overrides": list(candidate.overrides),
                    "budget_min": budget_min,
                    "threads": threads,
                    "parallel": parallel,
                    "wall_s": round(time.time() - start, 1),
                    "exit_code": process.returncode,
                })
                bar.update()


def _last_checkpoint(name: str) -> Path:
    found = sorted(_run_dir(name).rglob("last.ckpt"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise FileNotFoundError(f"no last.ckpt under {_run_dir(name)}")
    return found[-1]


def kodak_images(limit: int) -> list[torch.Tensor]:
    """The first ``limit`` Kodak images, (1, 3, H, W) each."""
    images = FixedImages(list_images(data_root() / "kodak")[:limit])
    return [images[i][None] for i in range(len(images))]


@torch.inference_mode()
def evaluate_model(model: CodecModel, images: Sequence[torch.Tensor]) -> dict[str, list[float]]:
    """Mean bpp and PSNR over ``images`` at each of :data:`QUALITIES`, from real bitstreams."""
    model.eval()
    with torch.no_grad():
        model.update(force=True, update_quantiles=True)
    sums = {f"{k}_q{q:g}": 0.0 for q in QUALITIES for k in ("bpp", "psnr")}
    for x in images:
        for key, value in coded_metrics(model, x, QUALITIES).items():
            sums[key] += value
    return {
        "bpp": [sums[f"bpp_q{q:g}"] / len(images) for q in QUALITIES],
        "psnr": [sums[f"psnr_q{q:g}"] / len(images) for q in QUALITIES],
    }


def model_from(checkpoint: dict, prefix: str, codec: str = "hyperprior") -> CodecModel:
    """The ``codec`` model held under ``prefix`` in a training checkpoint."""
    model = registry.get(codec).build()
    restore_model(model, checkpoint, prefix)
    return model


def load_weights(
    path: Path, average: bool = False, codec: str = "hyperprior"
) -> CodecModel:
    """A ``codec`` model from a safetensors file or a Lightning checkpoint (its weight average if asked)."""
    if path.suffix == ".safetensors":
        model = registry.get(codec).build()
        model.load_state_dict(read_tensors(path)[1], strict=True)
        return model
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    return model_from(checkpoint, AVERAGE_PREFIX if average else MODEL_PREFIX, codec)


def evaluate(names: Sequence[str], init_weights: str, force: bool) -> None:
    """Code each candidate's last checkpoint (and weight average) and the start weights."""
    results = _load()
    images = kodak_images(NUM_IMAGES)
    if force or "start" not in results:
        _record("start", {"description": f"start weights {Path(init_weights).name}",
                          "rd": evaluate_model(load_weights(Path(init_weights)), images)})
    for name in tqdm(names, desc="evaluating"):
        entry = _load().get(name, {})
        if "rd" in entry and not force:
            continue
        checkpoint = torch.load(_last_checkpoint(name), map_location="cpu", weights_only=True)
        steps = int(checkpoint["global_step"])
        data = checkpoint["datamodule_hyper_parameters"]
        update: dict[str, Any] = {
            "steps": steps,
            "pixels_per_s": round(
                steps * data["batch_size"] * data["patch_size"] ** 2 / (60 * entry["budget_min"])
            ) if "budget_min" in entry else None,
            "rd": evaluate_model(model_from(checkpoint, MODEL_PREFIX), images),
        }
        if any(k.startswith(AVERAGE_PREFIX) for k in checkpoint["state_dict"]):
            update["rd_average"] = evaluate_model(model_from(checkpoint, AVERAGE_PREFIX), images)
        _record(name, update)


#: Settings timed by ``throughput``: (name, channels_last, bf16, patch size, batch size).
THROUGHPUT_SETTINGS = (
    ("float32, 192² × 8", False, False, 192, 8),
    ("channels-last, 192² × 8", True, False, 192, 8),
    ("channels-last + bf16, 192² × 8", True, True, 192, 8),
    ("channels-last + bf16, 128² × 18", True, True, 128, 18),
    ("channels-last + bf16, 256² × 4", True, True, 256, 4),
)


def throughput(init_weights: str, threads: int, steps: int = 8) -> None:
    """Time optimisation steps of each of :data:`THROUGHPUT_SETTINGS` on real photo crops.

    One process with ``threads`` torch threads; the median step after one warm-up step. Crop
    preparation is timed apart (``data_ms``): the training loop draws it in the same process.
    """
    torch.set_num_threads(threads)
    photos = [load_uint8(p) for p in list_images(data_root() / "photos")[:64]]
    rows = []
    for name, channels_last, bf16, patch, batch in tqdm(THROUGHPUT_SETTINGS, desc="throughput"):
        module = RateDistortionModule(codec="hyperprior", init_weights=init_weights,
                                      channels_last=channels_last, bf16=bf16)
        optimizer = torch.optim.Adam(module.model.parameters(), lr=1e-5)
        crops = RandomCrops([p for p in photos if min(p.shape[1:]) >= patch], patch, steps * batch)
        times, data_times = [], []
        for step in range(steps):
            start = time.perf_counter()
            x = torch.stack([crops[step * batch + i] for i in range(batch)])
            data_times.append(time.perf_counter() - start)
            loss, _, _ = module.rate_distortion(x)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            times.append(time.perf_counter() - start)
        step_s = statistics.median(times[1:])
        rows.append({"setting": name, "step_s": step_s, "data_ms": 1e3 * statistics.median(data_times[1:]),
                     "pixels_per_s": batch * patch**2 / step_s})
    _record("throughput", {"threads": threads, "steps": steps, "rows": rows})


def _load() -> dict[str, Any]:
    path = OUT_DIR / "results.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _record(name: str, update: dict[str, Any]) -> None:
    results = _load()
    results.setdefault(name, {}).update(update)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "results.json").write_text(json.dumps(results, indent=2) + "\n")


def _bd(start: dict[str, list[float]], rd: dict[str, list[float]] | None) -> str:
    if rd is None:
        return "–"
    return f"{bd_rate(start['bpp'], start['psnr'], rd['bpp'], rd['psnr']):+.1f} %"


def report() -> Path:
    """Write the table of every evaluated candidate to ``eval/reports/training/table.md``."""
    results = _load()
    start = results["start"]["rd"]
    q = ", ".join(f"{x:g}" for x in QUALITIES)
    lines = [
        f"| recipe | what changes | steps | Mpx/s | PSNR q 1 / 4 / 8 (dB) | BD-rate vs start | "
        f"BD-rate, weight average |",
        "|---|---|---|---|---|---|---|",
    ]
    picks = [QUALITIES.index(v) for v in (1.0, 4.0, 8.0)]
    start_psnr = " / ".join(f"{start['psnr'][i]:.2f}" for i in picks)
    lines.append(f"| start | {results['start']['description']} | 0 | – | {start_psnr} | 0 | – |")
    for name, entry in results.items():
        if name in ("start", "throughput") or "rd" not in entry:
            continue
        psnr = " / ".join(f"{entry['rd']['psnr'][i]:.2f}" for i in picks)
        rate = entry.get("pixels_per_s")
        lines.append(
            f"| `{name}` | {entry['description']} | {entry['steps']} | "
            f"{'–' if rate is None else f'{rate / 1e6:.3f}'} | {psnr} | {_bd(start, entry['rd'])} | "
            f"{_bd(start, entry.get('rd_average'))} |"
        )
    budget = {e.get("budget_min") for n, e in results.items() if n not in ("start", "throughput")} - {None}
    lines.append("")
    lines.append(
        f"Kodak, first {NUM_IMAGES} images, qualities {q}, whole-stream bpp and PSNR-RGB of real "
        f"bitstreams; BD-rate (PSNR) against the start weights. Budget per recipe: "
        f"{', '.join(f'{b:g}' for b in sorted(budget))} min of wall time."
    )
    if "throughput" in results:
        timing = results["throughput"]
        lines += [
            "",
            f"Training throughput, one process, {timing['threads']} torch threads, median of "
            f"{timing['steps'] - 1} steps after a warm-up, nothing else running "
            f"(`python -m eval.studies.train_speed throughput --threads {timing['threads']} --parallel 1`):",
            "",
            "| setting | s / step | crop preparation (ms / batch) | pixels / s |",
            "|---|---|---|---|",
            *(f"| {r['setting']} | {r['step_s']:.2f} | {r['data_ms']:.0f} | {r['pixels_per_s'] / 1e3:.0f} k |"
              for r in timing["rows"]),
        ]
    path = OUT_DIR / "table.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("run", "evaluate", "throughput", "report"))
    parser.add_argument("--candidates", default=",".join(CANDIDATES),
                        help=f"comma-separated, from: {', '.join(CANDIDATES)}")
    parser.add_argument("--budget-min", type=float, default=14.0, help="training minutes per recipe")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run")
    parser.add_argument("--parallel", type=int, default=2, help="runs at once")
    parser.add_argument("--init-weights", default=None, help="start weights (default: shipped hyperprior)")
    parser.add_argument("--force", action="store_true", help="re-evaluate evaluated candidates")
    args = parser.parse_args(argv)
    names = [n for n in args.candidates.split(",") if n]
    unknown = [n for n in names if n not in CANDIDATES]
    if unknown:
        parser.error(f"unknown candidates {unknown}; known: {', '.join(CANDIDATES)}")
    init_weights = args.init_weights or str(
        Path("weights") / str(registry.get("hyperprior").weights_file)
    )
    if args.action == "run":
        run(names, args.budget_min, args.threads, args.parallel, init_weights)
    if args.action in ("run", "evaluate"):
        torch.set_num_threads(args.threads * args.parallel)
        evaluate(names, init_weights, args.force)
    if args.action == "throughput":
        throughput(init_weights, args.threads * args.parallel)
    print(report())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
