"""A torch ``Dataset`` over a compressed dataset: latents (and optionally pixels) plus labels.

Each sample is a dict; which inputs it holds is chosen with ``inputs``:

=============  ====================  ===========================================================
key            dtype, shape          what
=============  ====================  ===========================================================
``latents``    float32 (M, h, w)     entropy-decoded quantized latents y_hat, no synthesis
                                     transform; ``h, w = ceil(H / 64) * 4, ceil(W / 64) * 4``:
                                     they cover the image padded on the bottom/right to a
                                     multiple of 64, so ``16 * (h, w)`` >= ``(H, W)`` (crop the
                                     top-left ``H x W`` after upsampling by 16)
``hyperlatents`` float32 (N, h/4, w/4) the hyper-latents z_hat
``decoded``    float32 (3, H, W)     RGB in [0, 1] decoded from the same bitstream
                                     ("decoded pixels" baseline)
``original``   float32 (3, H, W)     the source image, RGB in [0, 1] (needs the source tree)
``label``      int64 ()              class index (``classes`` layout only)
``target``     int64 (H, W)          segmentation label map (CamVid: 0..10, 11 = void;
                                     Cityscapes: train ids 0..18, 255 = ignore)
``index``      int                   position in :attr:`BitstreamDataset.records`
=============  ====================  ===========================================================

y_hat is in the codec's coded ("gained") domain: its scale grows with the quality.
``normalize_latents=True`` returns ``y_hat * inverse_gain`` instead (the synthesis transform's
input), on the same scale at every quality.

Example:
    >>> ds = BitstreamDataset("build/datasets/camvid-q2", splits=["train"])  # doctest: +SKIP
    >>> sample = ds[0]  # doctest: +SKIP
    >>> sample["latents"].shape, sample["target"].shape  # doctest: +SKIP
    (torch.Size([192, 24, 32]), torch.Size([360, 480]))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset

from neuralcodec import api, pixels
from neuralcodec.dataset import manifest
from neuralcodec.errors import DatasetError
from neuralcodec.dataset.manifest import DatasetInfo, Record

__all__ = ["INPUTS", "BitstreamDataset"]

INPUTS = ("latents", "hyperlatents", "decoded", "original")


def _rgb_tensor(image: Image.Image) -> Tensor:
    """PIL image -> float32 (3, H, W) in [0, 1]."""
    return pixels.to_tensor(np.asarray(image.convert("RGB")))[0]


class BitstreamDataset(Dataset[dict[str, Any]]):
    """The images of a ``compress-dataset`` output folder, as latents and/or pixels, with labels.

    Bitstreams are decoded on access (in DataLoader workers when ``num_workers > 0``); each
    process loads the codec once.

    Args:
        root: The output folder of ``compress-dataset`` (holds ``dataset.json`` and
            ``manifest.jsonl``).
        splits: Only these splits (None: all).
        inputs: Any of :data:`INPUTS`.
        codec: The codec to decode with; default: the registered codec named in
            ``dataset.json`` (its weights must be installed).
        source_root: Where the original images are (``original`` input); default: the
            ``source_root`` recorded at compression time.
        transform: Applied to each sample dict (augmentation, cropping...).
        normalize_latents: Return ``y_hat * inverse_gain`` (same scale at every quality)
            instead of y_hat as coded.

    Raises:
        DatasetError: Not a finished compressed dataset, unknown split or input.
    """

    def __init__(
        self,
        root: str | Path,
        splits: Sequence[str] | None = None,
        inputs: Sequence[str] = ("latents",),
        codec: api.Codec | None = None,
        source_root: str | Path | None = None,
        transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        normalize_latents: bool = False,
    ) -> None:
        unknown = [name for name in inputs if name not in INPUTS]
        if unknown or not inputs:
            raise DatasetError(f"inputs must be among {', '.join(INPUTS)}, got {list(inputs)}")
        self.root = Path(root)
        self.info: DatasetInfo = manifest.read_info(self.root)
        self.records: list[Record] = manifest.read_manifest(self.root, splits)
        self.inputs = tuple(inputs)
        self.source_root = Path(source_root if source_root is not None else self.info.source_root)
        self.transform, self.normalize_latents = transform, normalize_latents
        self._codec = codec

    @property
    def task(self) -> str | None:
        """``classification``, ``segmentation`` or None."""
        return self.info.task

    @property
    def classes(self) -> list[str]:
        """Class names indexed by label / train id."""
        return list(self.info.classes)

    @property
    def num_classes(self) -> int:
        """Number of classes (without the ignore value)."""
        return len(self.info.classes)

    @property
    def ignore_index(self) -> int | None:
        """Target value to ignore (segmentation), or None."""
        return self.info.ignore_index

    @property
    def codec(self) -> api.Codec:
        """The codec that decodes the bitstreams (loaded on first use in each process)."""
        if self._codec is None:
            release = api.weights_release(self.info.codec, self.info.weights_id)
            self._codec = api.load_codec(self.info.codec, weights=release)
        return self._codec

    def __len__(self) -> int:
        return len(self.records)

    def read_bitstream(self, index: int) -> bytes:
        """The ``.ncc`` bytes of record ``index``."""
        return (self.root / self.records[index].bitstream).read_bytes()

    def __getitem__(self, index: int) -> dict[str, Any]:
        record = self.records[index]
        sample: dict[str, Any] = {"index": index}
        if set(self.inputs) & {"latents", "hyperlatents", "decoded"}:
            data = self.read_bitstream(index)
            if "latents" in self.inputs or "hyperlatents" in self.inputs:
                latents = self.codec.latents(data)
                y_hat = latents.ungained if self.normalize_latents else latents.y_hat
                if "latents" in self.inputs:
                    sample["latents"] = y_hat[0]  # (M, h, w)
                if "hyperlatents" in self.inputs:
                    sample["hyperlatents"] = latents.z_hat[0]  # (N, h/4, w/4)
            if "decoded" in self.inputs:
                sample["decoded"] = _rgb_tensor(self.codec.decode(data))  # (3, H, W)
        if "original" in self.inputs:
            sample["original"] = _rgb_tensor(pixels.open_image(self.source_root / record.source))
        if record.label is not None:
            sample["label"] = torch.tensor(record.label, dtype=torch.int64)
        if record.target is not None:
            with Image.open(self.root / record.target) as image:
                sample["target"] = torch.from_numpy(np.asarray(image, dtype=np.int64).copy())
        return self.transform(sample) if self.transform is not None else sample
