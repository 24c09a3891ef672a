"""The compress-dataset job: a source tree -> one bitstream per image + a manifest, on Lightning.

The job is a ``Trainer.predict`` run whose ``predict_step`` encodes one image, so the same call
runs on this laptop (``devices=1``), on several CPU processes or GPUs (``strategy="ddp"``,
``devices=N``) and on several nodes (``num_nodes``; the output folder must be shared).

- Rank ``r`` of ``W`` codes items ``r, r+W, r+2W...`` of the key-sorted list (a split fixed
  before looking at the disk, so ranks never disagree about who codes what). DataLoader
  workers read and decode the source images in parallel with the encoder.
- Every file is written atomically (temp file, fsync, rename). Each rank appends one line per
  item to its own shard ``DST/.shards/w<W>-r<r>.jsonl``; after a barrier rank 0 merges the
  shards into ``manifest.jsonl`` (sorted by key) and deletes them.
- Resumable: an item whose ``.ncc`` exists and parses (``api.read_info``) is not coded again,
  only listed. A killed run, resumed, gives the same tree; finished files are never rewritten.

Lightning is imported inside :func:`compress_dataset` only, so ``import neuralcodec`` stays
light (``pip install neuralcodec[train]`` provides it).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import io
import json
import logging
import os
import shutil
import signal
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TextIO

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from neuralcodec import api, pixels
from neuralcodec.dataset import manifest
from neuralcodec.errors import DatasetError
from neuralcodec.dataset.manifest import DatasetInfo, Record
from neuralcodec.dataset.sources import CITYSCAPES_IGNORE, CITYSCAPES_TRAIN_IDS, Item, SourceTree, scan
from neuralcodec.errors import BitstreamError, NeuralcodecError

__all__ = ["BulkResult", "compress_dataset"]

_SUFFIX = ".ncc"
_SHARDS = ".shards"
_LOCK = ".lock"
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


class BulkResult(NamedTuple):
    """What a compress-dataset run did (returned on global rank 0 only).

    Attributes:
        output: The output folder.
        num_items: Images in the manifest.
        encoded: Images coded by this run (all ranks).
        skipped: Images already done by an earlier run.
        total_bytes: Sum of the bitstream sizes.
        mean_bpp: Mean bits per pixel over the images.
        seconds: Wall time of the coding loop on rank 0, between barriers (excludes start-up).
        images_per_s: ``encoded / seconds``.
        world_size: Number of processes.
        threads: Torch intra-op threads per process.
    """

    output: Path
    num_items: int
    encoded: int
    skipped: int
    total_bytes: int
    mean_bpp: float
    seconds: float
    images_per_s: float
    world_size: int
    threads: int


class _SourceImages(Dataset[dict[str, Any]]):
    """One rank's share of the items: the decoded source image, or the existing bitstream."""

    def __init__(self, tree: SourceTree, items: Sequence[Item], output: Path) -> None:
        self.tree, self.items, self.output = tree, list(items), output

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = self.items[index]
        sample: dict[str, Any] = {"index": index, "existing": None, "image": None, "error": None}
        target = self.output / (item.key + _SUFFIX)
        if target.is_file():
            data = target.read_bytes()
            try:
                api.read_info(data)
                sample["existing"] = data
                return sample
            except BitstreamError:
                pass  # not a finished file (never ours: we rename only complete files): redo it
        try:
            sample["image"] = pixels.open_image(self.tree.root / item.source)
        except NeuralcodecError as error:  # reported by the main process as a one-line error
            sample["error"] = str(error)
        return sample


def _die_with_parent(worker_id: int) -> None:
    """Make a DataLoader worker die with its process (Linux): after a SIGKILL of the job, a
    worker blocked on a full result pipe would otherwise wait forever."""
    if sys.platform.startswith("linux"):
        parent = os.getppid()
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)


def _target_bytes(tree: SourceTree, item: Item) -> bytes:
    """The annotation file to store: copied unchanged, or Cityscapes labelIds -> train ids."""
    assert item.target is not None
    path = tree.root / item.target
    if item.target_map is None:
        return path.read_bytes()
    lut = np.full(256, CITYSCAPES_IGNORE, dtype=np.uint8)
    for label_id, train_id in CITYSCAPES_TRAIN_IDS.items():
        lut[label_id] = train_id
    with Image.open(path) as image:
        label_ids = np.asarray(image)
    if label_ids.ndim != 2:
        raise DatasetError(f"{path}: expected a single-channel label map")
    buffer = io.BytesIO()
    Image.fromarray(lut[label_ids.astype(np.int64).clip(0, 255)], "L").save(buffer, format="PNG")
    return buffer.getvalue()


def _record(item: Item, data: bytes) -> Record:
    info = api.read_info(data)
    return Record(
        key=item.key,
        source=item.source,
        bitstream=item.key + _SUFFIX,
        split=item.split,
        label=item.label,
        target=item.target_out,
        height=info.height,
        width=info.width,
        num_bytes=info.num_bytes,
        bpp=round(info.bpp, 6),
        quality=info.quality,
        codec=info.codec,
        weights_id=info.weights_id,
    )


def _check_info(output: Path, info: DatasetInfo) -> None:
    """Refuse an output folder made from another source or with another codec or quality."""
    if not (output / manifest.INFO_NAME).is_file():
        return
    old = manifest.read_info(output)
    for field in ("layout", "codec", "weights_id", "quality", "source_root"):
        if getattr(old, field) != getattr(info, field):
            raise DatasetError(
                f"{output} holds a dataset with {field}={getattr(old, field)!r}, this run has "
                f"{getattr(info, field)!r}: use another output folder"
            )


def _merge(tree: SourceTree, output: Path, world_size: int) -> tuple[list[Record], int]:
    """Merge the rank shards into ``manifest.jsonl``; returns the records and the number coded."""
    shards = output / _SHARDS
    records: dict[str, Record] = {}
    encoded = 0
    for rank in range(world_size):
        path = shards / f"w{world_size}-r{rank}.jsonl"
        for line in path.read_text().splitlines():
            entry = json.loads(line)
            record = Record(**entry["record"])
            records[record.key] = record
            encoded += bool(entry["encoded"])
    missing = [item.key for item in tree.items if item.key not in records]
    if missing:
        raise DatasetError(f"{len(missing)} images missing after the run (first: {missing[0]}); run it again")
    ordered = [records[item.key] for item in tree.items]
    manifest.write_manifest(output, ordered)
    shutil.rmtree(shards, ignore_errors=True)
    for stale in output.rglob(".*.part"):  # temp files of killed runs; every rank is done
        stale.unlink(missing_ok=True)
    return ordered, encoded


def _encode_module(pl: Any) -> Any:
    """The LightningModule class (defined here: Lightning is imported lazily)."""

    class EncodeModule(pl.LightningModule):  # type: ignore[misc]
        """``predict_step`` codes one image; the hooks open, close and merge the rank shards."""

        def __init__(
            self, codec: api.Codec, tree: SourceTree, info: DatasetInfo, output: Path,
            quality: float, num_workers: int, threads: int | None,
        ) -> None:
            super().__init__()
            self.codec, self.tree, self.info, self.output = codec, tree, info, output
            self.quality = quality
            self.model = codec.model  # a submodule, so Lightning moves it to the rank's device
            self.num_workers, self.threads = num_workers, threads
            self.items: list[Item] = []
            self.result: BulkResult | None = None
            self.shard: TextIO | None = None
            self.lock_file: TextIO | None = None

        def predict_dataloader(self) -> DataLoader[dict[str, Any]]:
            rank, world = self.trainer.global_rank, self.trainer.world_size
            self.items = list(self.tree.items[rank::world])
            dataset = _SourceImages(self.tree, self.items, self.output)
            # batch_size=None: one sample per step; PIL images and bytes pass through unchanged.
            return DataLoader(dataset, batch_size=None, shuffle=False, num_workers=self.num_workers,
                              worker_init_fn=_die_with_parent)

        def on_predict_start(self) -> None:
            if self.threads:
                torch.set_num_threads(self.threads)
            self.codec.to(self.device)
            if self.trainer.is_global_zero:  # the others wait at the barrier below
                self._lock()
                _check_info(self.output, self.info)  # again, now that no other run can write
                manifest.write_info(self.output, self.info)
                (self.output / manifest.MANIFEST_NAME).unlink(missing_ok=True)  # back when complete
            shards = self.output / _SHARDS
            shards.mkdir(parents=True, exist_ok=True)
            name = f"w{self.trainer.world_size}-r{self.trainer.global_rank}.jsonl"
            self.shard = open(shards / name, "w")  # noqa: SIM115  (closed in on_predict_end)
            self.trainer.strategy.barrier("compress-dataset-start")
            self.start = time.perf_counter()

        def _lock(self) -> None:
            """One run per output folder: two would delete each other's shards and temp files.

            ``flock`` is released by the kernel when the process dies, so a killed run never
            leaves a stale lock behind.
            """
            self.lock_file = open(self.output / _LOCK, "a")  # noqa: SIM115  (closed by release())
            try:
                fcntl.flock(self.lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                self.lock_file.close()
                self.lock_file = None
                raise DatasetError(f"another compress-dataset run is writing {self.output}") from None

        def release(self) -> None:
            """Close the shard, drop the lock (also after a failure, so the process can run again)."""
            if self.shard is not None:
                self.shard.close()
                self.shard = None
            if self.lock_file is not None:
                (self.output / _LOCK).unlink(missing_ok=True)  # ours: we hold it
                self.lock_file.close()
                self.lock_file = None

        def predict_step(self, batch: dict[str, Any], batch_idx: int) -> None:
            item = self.items[batch["index"]]
            if self.trainer.received_sigterm:  # Lightning swallows SIGTERM; stop like Ctrl-C would
                raise DatasetError("stopped by SIGTERM; run the same command again to resume")
            if batch["error"] is not None:
                raise DatasetError(batch["error"])
            path = self.output / (item.key + _SUFFIX)
            data = batch["existing"]
            if data is None:
                data = self.codec.encode(batch["image"], self.quality)
                manifest.write_atomic(path, data)
            record = _record(item, data)
            if (record.codec, record.weights_id, record.quality) != (
                self.codec.spec.name, f"{self.codec.weights_id:08x}",
                api.coded_quality(self.quality, self.codec.spec.name),
            ):
                raise DatasetError(f"{path} was made with {record.codec} {record.weights_id} "
                                   f"q={record.quality:g}: use another output folder")
            if item.target_out is not None and not (self.output / item.target_out).is_file():
                manifest.write_atomic(self.output / item.target_out, _target_bytes(self.tree, item))
            line = {"record": record._asdict(), "encoded": batch["existing"] is None}
            assert self.shard is not None
            self.shard.write(json.dumps(line) + "\n")
            self.shard.flush()

        def on_predict_end(self) -> None:
            if self.shard is not None:
                self.shard.close()
                self.shard = None
            self.trainer.strategy.barrier("compress-dataset-end")
            seconds = time.perf_counter() - self.start
            if not self.trainer.is_global_zero:
                return
            records, encoded = _merge(self.tree, self.output, self.trainer.world_size)
            total = sum(r.num_bytes for r in records)
            self.release()
            self.result = BulkResult(
                output=self.output, num_items=len(records), encoded=encoded,
                skipped=len(records) - encoded, total_bytes=total,
                mean_bpp=sum(r.bpp for r in records) / len(records), seconds=seconds,
                images_per_s=encoded / seconds if seconds > 0 else 0.0,
                world_size=self.trainer.world_size, threads=torch.get_num_threads(),
            )

    return EncodeModule


def compress_dataset(
    source: str | Path,
    output: str | Path,
    quality: float = 3.0,
    codec: str | api.Codec = api.DEFAULT_CODEC,
    *,
    layout: str = "auto",
    splits: Sequence[str] | None = None,
    limit: int | None = None,
    devices: int | str = 1,
    accelerator: str = "cpu",
    strategy: str = "auto",
    num_nodes: int = 1,
    num_workers: int = 2,
    threads: int | None = None,
    progress: bool = True,
) -> BulkResult | None:
    """Compress every image of a source tree into ``output``, with a manifest.

    Args:
        source: The dataset folder (see :mod:`neuralcodec.dataset.sources` for layouts).
        output: The output folder (created). Re-running with the same settings resumes.
        quality: Coding quality in [1, 8].
        codec: A codec name, or a loaded :class:`~neuralcodec.api.Codec`.
        layout: ``auto``, ``folder``, ``classes``, ``camvid`` or ``cityscapes``.
        splits: Only these splits (None: all).
        limit: Only the first ``limit`` images (key order).
        devices: Processes (CPU) or GPUs per node, as Lightning's ``Trainer(devices=)``.
        accelerator: ``cpu``, ``gpu`` or ``auto``.
        strategy: Lightning strategy; ``auto`` means ``ddp`` when there are several processes.
        num_nodes: Nodes (the output folder must be on a shared file system).
        num_workers: DataLoader workers per process that read and decode source images.
        threads: Torch threads per process; default: unchanged for one process, cores /
            processes per node for several on CPU.
        progress: Show Lightning's progress bar (rank 0).

    Returns:
        A :class:`BulkResult` on global rank 0; None on the other ranks (which run this
        function too when ``strategy="ddp"`` starts them).

    Raises:
        DatasetError: Bad source tree, Lightning missing, output made with other settings.
        NeuralcodecError: An unreadable image, a bad quality or codec.

    Example:
        >>> result = compress_dataset("../shared/data/camvid", "build/camvid-q3", quality=3,
        ...                           splits=["test"], devices=2)  # doctest: +SKIP
        >>> result.images_per_s  # doctest: +SKIP
    """
    try:
        import pytorch_lightning as pl
    except ImportError:
        raise DatasetError("compress-dataset needs Lightning: pip install neuralcodec[train]") from None
    codec_name = codec.spec.name if isinstance(codec, api.Codec) else codec
    coded_quality = api.coded_quality(quality, codec_name)  # QualityError before any work
    tree = scan(source, layout, splits, limit)
    loaded = codec if isinstance(codec, api.Codec) else api.Codec(codec)
    out = Path(output).resolve()
    info = DatasetInfo(
        format=manifest.FORMAT, layout=tree.layout, task=tree.task, classes=list(tree.classes),
        ignore_index=tree.ignore_index, codec=loaded.spec.name, weights_id=f"{loaded.weights_id:08x}",
        quality=coded_quality, source_root=str(tree.root),
        splits=sorted({i.split for i in tree.items if i.split is not None}), num_items=len(tree.items),
    )
    _check_info(out, info)  # fail early; checked again under the lock
    out.mkdir(parents=True, exist_ok=True)
    several = num_nodes > 1 or devices not in (1, "1")
    if threads is None and accelerator == "cpu" and several:
        per_node = devices if isinstance(devices, int) else len(str(devices).split(","))
        threads = max(1, (os.cpu_count() or 1) // max(per_node, 1))  # don't oversubscribe cores
    module = _encode_module(pl)(loaded, tree, info, out, quality, num_workers, threads)
    with _quiet_lightning():
        try:
            trainer = pl.Trainer(
                accelerator=accelerator,
                devices=devices,
                num_nodes=num_nodes,
                strategy="ddp" if strategy == "auto" and several else strategy,
                logger=False,
                enable_checkpointing=False,
                enable_model_summary=False,
                enable_progress_bar=progress,
                use_distributed_sampler=False,  # each rank takes its own stride of the items
                default_root_dir=str(out / _SHARDS),
            )
        except (ValueError, RuntimeError, TypeError) as error:  # MisconfigurationException too
            raise DatasetError(f"cannot set up {devices} x {accelerator} ({strategy}): {error}") from None
        threads_before = torch.get_num_threads()
        try:
            trainer.predict(module, return_predictions=False)
        finally:
            module.release()
            torch.set_num_threads(threads_before)  # the caller's process keeps its setting
    return module.result if trainer.is_global_zero else None


@contextlib.contextmanager
def _quiet_lightning() -> Iterator[None]:
    """Hide Lightning's start-up banner and the "predict returned None" warning (on purpose here)."""
    loggers = [logging.getLogger(name) for name in ("pytorch_lightning.utilities.rank_zero",
                                                    "lightning.pytorch.utilities.rank_zero")]
    levels = [logger.level for logger in loggers]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*predict returned None.*")
        warnings.filterwarnings("ignore", message=r".*LeafSpec.*deprecated.*")
        for logger in loggers:
            logger.setLevel(logging.WARNING)
        try:
            yield
        finally:
            for logger, level in zip(loggers, levels):
                logger.setLevel(level)
