"""The experiment plan of the task report: datasets to compress and models to train, in order.

``python -m eval.studies.task_runs`` makes every missing piece, in priority order, and skips what exists
(each step is resumable): a class-balanced Imagenette subset (symlinks), its bitstreams at
each quality (``neuralcodec.dataset.compress_dataset``), CamVid's, then one training run per
(task, features, quality) through ``python -m train.heads.fit_task`` in a subprocess, logging to
``build/tasks/logs/<run>.log``. The CPU budget of this machine (2 shared cores) sets the sizes
below; with more compute raise them (``--per-class-train 300 --per-class-val 100 --camvid-stride 1 1``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from neuralcodec.dataset import compress_dataset, scan

__all__ = ["Run", "RUNS", "BUILD", "QUALITIES", "make_subset", "make_strided_subset", "source_dir", "dataset_dir", "run_dir", "checkpoint_path", "main"]

BUILD = Path("build/tasks")
QUALITIES = (2.0, 5.0)


@dataclass(frozen=True)
class Run:
    """One training run.

    Attributes:
        task: ``classify`` or ``segment``.
        features: ``latent``, ``decoded`` or ``original``.
        quality: Bitstream quality (None for ``original``).
        epochs: Training epochs.
    """

    task: str
    features: str
    quality: float | None
    epochs: int

    @property
    def name(self) -> str:
        """``<task>-<features>[-q<quality>]``."""
        return f"{self.task}-{self.features}" + (f"-q{self.quality:g}" if self.quality else "")

    @property
    def dataset(self) -> str:
        """``imagenette`` (classification) or ``camvid`` (segmentation)."""
        return "imagenette" if self.task == "classify" else "camvid"


_CLS_EPOCHS, _SEG_EPOCHS = 25, 40
#: Priority order: every row at q2 first (classification, then segmentation), then q5.
RUNS: tuple[Run, ...] = (
    Run("classify", "latent", 2.0, _CLS_EPOCHS),
    Run("classify", "original", None, _CLS_EPOCHS),
    Run("classify", "decoded", 2.0, _CLS_EPOCHS),
    Run("segment", "latent", 2.0, _SEG_EPOCHS),
    Run("segment", "original", None, _SEG_EPOCHS),
    Run("segment", "decoded", 2.0, _SEG_EPOCHS),
    Run("classify", "latent", 5.0, _CLS_EPOCHS),
    Run("classify", "decoded", 5.0, _CLS_EPOCHS),
    Run("segment", "latent", 5.0, _SEG_EPOCHS),
    Run("segment", "decoded", 5.0, _SEG_EPOCHS),
)


def make_subset(source: Path, dest: Path, per_class: dict[str, int]) -> Path:
    """A class-balanced subset of an ImageNet-style tree, as symlinks (the first files by name).

    Args:
        source: ``<split>/<class>/<image>`` tree.
        dest: Where the symlink tree goes.
        per_class: Images per class for each split, e.g. ``{"train": 100, "val": 50}``.
    """
    for split, count in per_class.items():
        for class_dir in sorted(p for p in (source / split).iterdir() if p.is_dir()):
            out = dest / split / class_dir.name
            out.mkdir(parents=True, exist_ok=True)
            for image in sorted(class_dir.iterdir())[:count]:
                link = out / image.name
                if not link.exists():
                    link.symlink_to(image.resolve())
    return dest


def make_strided_subset(source: Path, dest: Path, strides: dict[str, int]) -> Path:
    """Every ``stride``-th frame of a CamVid-style tree (``<split>/`` + ``<split>annot/``), as symlinks."""
    for split, stride in strides.items():
        for folder in (split, f"{split}annot"):
            (dest / folder).mkdir(parents=True, exist_ok=True)
        for image in sorted((source / split).iterdir())[::stride]:
            for src, out in ((image, dest / split / image.name),
                             (source / f"{split}annot" / f"{image.stem}.png", dest / f"{split}annot" / f"{image.stem}.png")):
                if not out.exists():
                    out.symlink_to(src.resolve())
    return dest


def source_dir(dataset: str) -> Path:
    """The source tree a task trains on (symlinked subsets of Imagenette and CamVid)."""
    return BUILD / f"{dataset}-subset"


def dataset_dir(dataset: str, quality: float) -> Path:
    """Where the bitstreams of ``dataset`` at ``quality`` go."""
    return BUILD / "datasets" / f"{dataset}-q{quality:g}"


def run_dir(run: Run) -> Path:
    """A run's Lightning folder."""
    return BUILD / "runs" / run.name


def checkpoint_path(run: Run) -> Path:
    """The run's last checkpoint (the logger's folder holds the checkpoints and metrics.csv)."""
    return run_dir(run) / "csv" / "version_0" / "checkpoints" / "last.ckpt"


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _prepare(dataset: str, quality: float) -> Path:
    out = dataset_dir(dataset, quality)
    if not (out / "manifest.jsonl").is_file():
        _log(f"compress {dataset} at q={quality:g} -> {out}")
        compress_dataset(source_dir(dataset), out, quality, splits=["train", "val"],
                         num_workers=0, threads=1, progress=False)
    return out


def _train(run: Run) -> None:
    folder = run_dir(run)
    last = checkpoint_path(run)
    if (folder / "DONE").is_file():
        return
    config = "classify-imagenette.yaml" if run.task == "classify" else "segment-camvid.yaml"
    data = (["--data.source", str(source_dir(run.dataset)), "--data.root", "null"]
            if run.features == "original" else ["--data.root", str(dataset_dir(run.dataset, run.quality or 0))])
    args = [
        sys.executable, "-m", "train.heads.fit_task", "fit", "--config", f"train/configs/{config}",
        *data, "--data.features", run.features, "--trainer.max_epochs", str(run.epochs),
        "--trainer.default_root_dir", str(folder), "--trainer.enable_progress_bar", "false",
        "--trainer.logger", "CSVLogger", "--trainer.logger.save_dir", str(folder),
        "--trainer.logger.name", "csv", "--trainer.logger.version", "0",
    ]
    if last.is_file():
        args += ["--ckpt_path", str(last)]
    log = BUILD / "logs" / f"{run.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    _log(f"train {run.name} ({run.epochs} epochs) -> {folder}, log {log}")
    start = time.time()
    with open(log, "a") as f:
        subprocess.run(args, stdout=f, stderr=subprocess.STDOUT, check=True,
                       env={**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")})
    (folder / "DONE").write_text(f"{time.time() - start:.0f} s {run.epochs} epochs\n")
    _log(f"done {run.name} in {time.time() - start:.0f} s")


def main(argv: list[str] | None = None) -> None:
    """Prepare data and train every missing run of :data:`RUNS`, in order."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=Path(os.environ.get(
        "NEURALCODEC_DATA", Path(__file__).resolve().parents[3] / "shared" / "data")))
    parser.add_argument("--per-class-train", type=int, default=40, help="Imagenette images per class")
    parser.add_argument("--per-class-val", type=int, default=20)
    parser.add_argument("--camvid-stride", type=int, nargs=2, default=(6, 4),
                        help="keep every n-th CamVid train / val frame")
    parser.add_argument("--only", nargs="*", help="run names to do (default: all)")
    parser.add_argument("--skip", nargs="*", default=(), help="run names to leave out")
    parser.add_argument("--epochs", type=int, help="override the epochs of the selected runs")
    args = parser.parse_args(argv)
    subset = make_subset(args.data_root / "imagenette", BUILD / "imagenette-subset",
                         {"train": args.per_class_train, "val": args.per_class_val})
    _log(f"imagenette subset: {len(scan(subset).items)} images in {subset}")
    camvid = make_strided_subset(args.data_root / "camvid", BUILD / "camvid-subset",
                                 {"train": args.camvid_stride[0], "val": args.camvid_stride[1]})
    _log(f"camvid subset: {len(scan(camvid).items)} frames in {camvid}")
    for run in RUNS:
        if args.only and run.name not in args.only or run.name in args.skip:
            continue
        if run.features != "original":
            _prepare(run.dataset, run.quality or 0)
        _train(dataclasses.replace(run, epochs=args.epochs) if args.epochs else run)


if __name__ == "__main__":
    main()
