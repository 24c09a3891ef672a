"""Datasets stored as bitstreams: compress a source tree once, then train on the latents.

- :func:`compress_dataset` (``neuralcodec compress-dataset SRC DST``): a source tree
  (image folder, ImageNet-style class folders, CamVid, Cityscapes) -> ``DST/<key>.ncc`` per
  image + ``dataset.json`` + ``manifest.jsonl``, through Lightning ``Trainer.predict`` (DDP,
  several processes / GPUs / nodes), resumable. See :mod:`neuralcodec.dataset.bulk`.
- :class:`BitstreamDataset`: a torch ``Dataset`` over ``DST`` returning the latents y_hat (and
  optionally the decoded or the original pixels) with the label or segmentation target.
- :func:`scan` lists a source tree; :func:`read_manifest` / :func:`read_info` read ``DST``.

The file formats are in :mod:`neuralcodec.dataset.manifest`; ``README.md`` here has a summary.
Lightning is imported only when :func:`compress_dataset` runs.
"""

from __future__ import annotations

from neuralcodec.dataset.bitstreams import INPUTS, BitstreamDataset
from neuralcodec.dataset.bulk import BulkResult, compress_dataset
from neuralcodec.errors import DatasetError
from neuralcodec.dataset.manifest import DatasetInfo, Record, read_info, read_manifest
from neuralcodec.dataset.sources import LAYOUTS, Item, SourceTree, scan

__all__ = [
    "INPUTS",
    "LAYOUTS",
    "BitstreamDataset",
    "BulkResult",
    "DatasetError",
    "DatasetInfo",
    "Item",
    "Record",
    "SourceTree",
    "compress_dataset",
    "read_info",
    "read_manifest",
    "scan",
]
