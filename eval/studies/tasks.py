"""The task report: learning from compressed latents vs decoded vs original pixels.

``python -m eval.studies.tasks`` regenerates ``eval/reports/tasks/`` from the trained runs of
:mod:`eval.studies.task_runs` (``python -m eval.studies.task_runs`` trains whatever is missing first; pass
``--train`` here to do both). For every run it evaluates the last checkpoint on the validation
split and measures FLOPs, input bytes, peak training memory and images/s (see
:mod:`eval.studies.task_measure`), then writes ``results.json``, ``README.md`` and
``figures/accuracy-vs-bpp.png``. Plotting reads only the results dict.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import torch

from eval.studies import task_measure, task_runs
from eval.studies.task_runs import RUNS, Run
from neuralcodec import api
from neuralcodec.heads import HEADS
from neuralcodec.metrics import psnr_from_mse
from train.heads.task_data import bitstream_cache, source_cache

__all__ = ["measure_run", "measure_codec_paths", "write_report", "main"]

REPORT = Path("eval/reports/tasks")
_CACHE = task_runs.BUILD / "cache"
_TRAIN_BATCH = {"classify": 32, "segment": 8}
_WINDOW = 16  # segmentation training window in latent cells (256 px)


def _val_cache(run: Run) -> dict[str, Any]:
    if run.features == "original":
        return source_cache(task_runs.source_dir(run.dataset), "val", _CACHE)
    return bitstream_cache(task_runs.dataset_dir(run.dataset, run.quality or 0), "val", _CACHE)


def measure_run(run: Run) -> dict[str, Any]:
    """Accuracy, FLOPs, memory and speed of one trained run."""
    model, config, data_hp = task_measure.load_model(task_runs.checkpoint_path(run))
    cache = _val_cache(run)
    metrics = task_measure.evaluate(model, config, cache, run.features)
    x = cache[run.features][:1].float()
    if run.features != "latent":
        x = x / 255
    if run.task == "segment":  # whole frames, padded to the latent grid as in training
        h, w = cache["target"].shape[-2:]
        if run.features != "latent":
            x = torch.nn.functional.pad(x, (0, -w % 64, 0, -h % 64))
    flops = task_measure.count_flops(model, x)
    batch = _TRAIN_BATCH[run.task]
    if run.task == "classify":
        sample_shape = tuple(x.shape[1:])
    else:
        side = _WINDOW if run.features == "latent" else 16 * _WINDOW
        sample_shape = (x.shape[1], side, side)
    memory = task_measure.train_memory(config, batch, sample_shape)
    inference = task_measure.images_per_s(model, x.expand(batch, *x.shape[1:]).contiguous())
    return {
        "name": run.name, "task": run.task, "features": run.features, "quality": run.quality,
        "config": json.loads(config.to_json()), "metrics": metrics,
        "head_gflops": flops / 1e9, "input_shape": list(x.shape[1:]),
        "input_float32_bytes": int(x[0].numel() * 4),
        "train_batch": batch, "train_sample_shape": list(sample_shape),
        "train_peak_mb": memory["peak_growth_bytes"] / 2**20,
        "train_images_per_s": memory["train_images_per_s"],
        "head_images_per_s": inference,
        "num_train_images": int(len(source_cache(task_runs.source_dir(run.dataset), "train", _CACHE)["keys"])),
    }


def decoded_psnr(dataset: str, quality: float) -> float:
    """Mean PSNR (dB, RGB) of the decoded validation images against the originals (from the caches)."""
    decoded = bitstream_cache(task_runs.dataset_dir(dataset, quality), "val", _CACHE)["decoded"].double()
    original = source_cache(task_runs.source_dir(dataset), "val", _CACHE)["original"].double()
    mse = (decoded - original).square().flatten(1).mean(1)
    return float(psnr_from_mse(mse, peak=255).mean())


def run_facts(run: Run) -> dict[str, Any]:
    """Epochs planned, epoch of the evaluated checkpoint, training wall time (cheap; not cached)."""
    done = (task_runs.run_dir(run) / "DONE").read_text().split()  # "<wall> s [<epochs> epochs]"
    checkpoint = torch.load(task_runs.checkpoint_path(run), map_location="cpu", weights_only=True)
    return {"epochs": int(done[2]) if len(done) > 2 else run.epochs,
            "checkpoint_epoch": int(checkpoint["epoch"]) + 1, "train_wall_s": float(done[0])}


def _median_time(fn: Any, items: list[Any]) -> float:
    times = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_codec_paths(dataset: str, quality: float, num_files: int = 12) -> dict[str, Any]:
    """Bytes, decode FLOPs and decode time per image for one dataset at one quality (val files)."""
    root = task_runs.dataset_dir(dataset, quality)
    from neuralcodec.dataset import read_manifest

    records = read_manifest(root, ["val"])
    codec = api.load_codec("hyperprior")
    files = [(root / r.bitstream).read_bytes() for r in records[:num_files]]
    source = Path(json.loads((root / "dataset.json").read_text())["source_root"])
    originals = source_cache(task_runs.source_dir(dataset), "val", _CACHE)["original"]
    png = task_measure.png_bytes(originals[: max(num_files, 50)])
    jpeg = [(source / r.source).stat().st_size for r in records]
    h, w = records[0].height, records[0].width
    return {
        "dataset": dataset, "quality": quality, "height": h, "width": w,
        "bitstream_bytes": statistics.mean(r.num_bytes for r in records),
        "bpp": statistics.mean(r.bpp for r in records),
        "png_bytes": statistics.mean(png), "source_jpeg_bytes": statistics.mean(jpeg),
        "uint8_pixel_bytes": 3 * h * w,
        "latents_gflops": task_measure.count_flops(codec.latents, files[0], frozen=codec.model) / 1e9,
        "decode_gflops": task_measure.count_flops(codec.decode, files[0], frozen=codec.model) / 1e9,
        "latents_s": _median_time(codec.latents, files),
        "decode_s": _median_time(codec.decode, files),
        "num_files_timed": len(files),
    }


def _fmt(value: float | None, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def _table(runs: list[dict[str, Any]], paths: dict[str, dict[str, Any]], task: str) -> list[str]:
    metric, label = ("top1", "top-1 %") if task == "classify" else ("miou", "mIoU %")
    lines = [
        f"| input | q | bpp (PSNR dB) | {label} | head GFLOPs | + decode GFLOPs | input bytes (stored) | "
        "input tensor (float32) | train peak MB | train img/s | head img/s | epochs (evaluated) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        p = paths.get(f"{r['task']}-q{r['quality']:g}") if r["quality"] else None
        q_paths = [v for k, v in paths.items() if k.startswith(r["task"])]
        if r["features"] == "latent":
            decode, stored = p["latents_gflops"], f"{p['bitstream_bytes']:.0f} (.ncc)"
        elif r["features"] == "decoded":
            decode, stored = p["decode_gflops"], f"{p['bitstream_bytes']:.0f} (.ncc)"
        else:
            decode = None
            stored = f"{q_paths[0]['png_bytes']:.0f} (PNG) / {q_paths[0]['source_jpeg_bytes']:.0f} (JPEG)" if q_paths else "–"
        bpp_cell = f"{p['bpp']:.3f} ({p['decoded_psnr_db']:.1f})" if p else "–"
        lines.append(
            f"| {r['features']} | {_fmt(r['quality'], 'g')} | {bpp_cell} | "
            f"{100 * r['metrics'][metric]:.1f} | {r['head_gflops']:.3f} | "
            f"{_fmt(decode, '.2f')} | {stored} | {r['input_float32_bytes']:,} | "
            f"{r['train_peak_mb']:.0f} | {r['train_images_per_s']:.0f} | {r['head_images_per_s']:.0f} | "
            f"{r['epochs']} ({r['checkpoint_epoch']}) |"
        )
    return lines


def write_report(results: dict[str, Any], out: Path = REPORT) -> None:
    """``README.md`` and the figure from a results dict (no measuring here)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    _plot(results, out / "figures")
    lines = [
        "# Learning from compressed latents: classification and segmentation",
        "",
        "Regenerate: `python -m eval.studies.task_runs` (trains what is missing), then `python -m eval.studies.tasks`.",
        f"Measured {results['date']} on {results['machine']}. Every number below comes from",
        "`results.json` in this folder.",
        "",
    ]
    for task, title in (("classify", "Classification (Imagenette subset, 10 classes, 224x224)"),
                        ("segment", "Segmentation (CamVid subset, 11 classes, 360x480, void ignored)")):
        runs = [r for r in results["runs"] if r["task"] == task]
        if runs:
            lines += [f"## {title}", "", *_table(runs, results["codec_paths"], task), ""]
    lines += [results.get("notes", "")]
    (out / "README.md").write_text("\n".join(lines) + "\n")


def _plot(results: dict[str, Any], folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, task, metric, label in ((axes[0], "classify", "top1", "top-1 (%)"),
                                    (axes[1], "segment", "miou", "mIoU (%)")):
        runs = [r for r in results["runs"] if r["task"] == task]
        for features, style in (("latent", "o-"), ("decoded", "s--")):
            points = sorted((results["codec_paths"][f"{task}-q{r['quality']:g}"]["bpp"], 100 * r["metrics"][metric])
                            for r in runs if r["features"] == features)
            if points:
                ax.plot(*zip(*points), style, label=f"{features} (from .ncc)")
        for r in runs:
            if r["features"] == "original":
                ax.axhline(100 * r["metrics"][metric], color="k", ls=":", label="original pixels")
        ax.set_xlabel("bits per pixel of the training/eval bitstreams")
        ax.set_ylabel(label)
        ax.set_title({"classify": "Imagenette subset", "segment": "CamVid subset"}[task])
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "accuracy-vs-bpp.png", dpi=120)
    plt.close(fig)


def write_head_cards(results: dict[str, Any], folder: Path) -> list[Path]:
    """A model card ``<stem>.md`` beside every exported head (``<stem>.json`` from export_head)."""
    cards = []
    for record_path in sorted(folder.glob("*.json")):
        record = json.loads(record_path.read_text())
        spec = next((h for h in HEADS if h.weights_file == record["weights_file"]), None)
        run = next((r for r in results["runs"] if r["task"] == record["task"]
                    and r["features"] == "latent" and r["quality"] == record["quality"]), None)
        paths = results["codec_paths"].get(f"{record['task']}-q{record['quality']:g}", {})
        metric = "top-1" if record["task"] == "classify" else "mIoU"
        value = None if run is None else run["metrics"]["top1" if record["task"] == "classify" else "miou"]
        baseline = next((r for r in results["runs"] if r["task"] == record["task"] and r["features"] == "original"), None)
        lines = [
            f"# {record['weights_file']}",
            "",
            f"{'Image classifier' if record['task'] == 'classify' else 'Semantic segmenter'} that reads the "
            f"entropy-decoded latents of `{record['codec']}` bitstreams (codec weights "
            f"`{record['codec_weights']}`) at quality {record['quality']:g}, without pixel decoding. "
            f"Used by `neuralcodec {record['task']}`; a file of another quality uses the head of the "
            "nearest quality.",
            "",
            "| | |",
            "|---|---|",
            f"| sha256 | `{record['sha256']}` |",
            f"| input | ungained y_hat, {record['config']['in_channels']} channels at 1/16 resolution |",
            f"| config | `{json.dumps(record['config'], sort_keys=True)}` |",
            f"| training data | {spec.dataset if spec else Path(record['train_data']['source']).name}, split "
            f"`{record['train_data']['train_split']}`, coded at q={record['quality']:g} "
            "(`python -m eval.studies.task_runs` makes the subset and the bitstreams) |",
            f"| checkpoint | best validation epoch: step {record['steps']}, epoch {record['epochs']} of "
            f"{run['epochs'] if run else '?'} (batch {record['batch_size']}"
            + (f", {16 * record['crop']}x{16 * record['crop']} windows" if record.get("crop") else "") + ") |",
            f"| optimiser | AdamW lr {record['lr']}, weight decay {record['weight_decay']}, cosine |",
            f"| hardware | {record['hardware']} |",
            f"| measured {metric} (split `{record['train_data']['val_split']}`) | "
            + ("–" if value is None else f"{100 * value:.1f} % on {run['metrics']['num_images']} images") + " |",
            f"| mean bpp of those files | {_fmt(paths.get('bpp'), '.3f')} |",
            f"| head GFLOPs per image | {_fmt(run['head_gflops'] if run else None, '.3f')} |",
            "",
            "Same trunk trained on the original pixels (pixel stem instead of the latent input): "
            + ("–" if baseline is None else f"{100 * baseline['metrics']['top1' if record['task'] == 'classify' else 'miou']:.1f} %")
            + f" {metric}. Full comparison: `eval/reports/tasks/README.md`. "
            "Reproduce: `python -m eval.studies.task_runs`, `python -m train.heads.export_head <last.ckpt>`, `python -m eval.studies.tasks`.",
        ]
        card = record_path.with_suffix(".md")
        card.write_text("\n".join(lines) + "\n")
        cards.append(card)
    return cards


def _measured(name: str, measure: Any, again: bool) -> dict[str, Any]:
    """``measure()``, kept in ``build/tasks/measure/<name>.json`` (finished runs are measured
    once; ``--remeasure`` repeats it). """
    path = task_runs.BUILD / "measure" / f"{name}.json"
    if path.is_file() and not again:
        return json.loads(path.read_text())  # type: ignore[no-any-return]
    print(f"measure {name}", flush=True)
    result = measure()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    return result  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> None:
    """Measure every finished run and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="store_true", help="first train what is missing")
    parser.add_argument("--out", type=Path, default=REPORT)
    parser.add_argument("--remeasure", action="store_true", help="ignore measurements kept in build/")
    parser.add_argument("--heads", type=Path, default=Path("weights/heads"), help="where the head cards go")
    args = parser.parse_args(argv)
    if args.train:
        task_runs.main([])
    torch.set_num_threads(1)
    done = [run for run in RUNS if (task_runs.run_dir(run) / "DONE").is_file()]
    runs = [{**_measured(run.name, lambda run=run: measure_run(run), args.remeasure), **run_facts(run)}
            for run in done]
    paths = {}
    for task, dataset in (("classify", "imagenette"), ("segment", "camvid")):
        for quality in sorted({r.quality for r in done if r.task == task and r.quality}):
            key = f"{task}-q{quality:g}"
            paths[key] = _measured(
                f"codec-{key}", lambda d=dataset, q=quality: measure_codec_paths(d, q), args.remeasure
            )
            paths[key]["decoded_psnr_db"] = decoded_psnr(dataset, quality)
    results = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()} CPU, {os.cpu_count()} cores (shared), torch {torch.__version__}, 1 thread",
        "runs": runs, "codec_paths": paths,
    }
    notes = args.out / "NOTES.md"
    results["notes"] = notes.read_text() if notes.is_file() else ""
    write_report(results, args.out)
    print(f"wrote {args.out}/README.md")
    for card in write_head_cards(results, args.heads):
        print(f"wrote {card}")


if __name__ == "__main__":
    main()
