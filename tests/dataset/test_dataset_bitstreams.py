"""BitstreamDataset: latents, decoded and original pixels, labels and targets, batching."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

import neuralcodec
from neuralcodec.dataset import BitstreamDataset, DatasetError, compress_dataset

pytest.importorskip("pytorch_lightning")

M = 12  # channels of the test-tiny codec's latents


@pytest.fixture
def classes_out(tmp_path: Path, classes_tree: Path, tiny_codec: neuralcodec.Codec) -> Path:
    out = tmp_path / "classes-out"
    compress_dataset(classes_tree, out, 3, tiny_codec, num_workers=0, progress=False)
    return out


def test_latents_and_labels(classes_out: Path, tiny_codec: neuralcodec.Codec) -> None:
    ds = BitstreamDataset(classes_out, codec=tiny_codec)
    assert len(ds) == 10 and ds.task == "classification" and ds.num_classes == 3
    sample = ds[0]
    assert set(sample) == {"index", "latents", "label"}
    # 70x40 is padded to 128x64, so the latents are (M, 4, 8) at 1/16 resolution.
    assert sample["latents"].shape == (M, 4, 8) and sample["latents"].dtype == torch.float32
    expected = tiny_codec.decode_latents(ds.read_bitstream(0))[0]
    assert torch.equal(sample["latents"], expected)
    assert sample["label"].dtype == torch.int64 and int(sample["label"]) == ds.records[0].label
    both = BitstreamDataset(classes_out, inputs=("latents", "hyperlatents"), codec=tiny_codec,
                            normalize_latents=True)[0]
    latents = tiny_codec.latents(ds.read_bitstream(0))
    assert torch.equal(both["latents"], (latents.y_hat * latents.inverse_gain)[0])
    assert both["hyperlatents"].shape == (8, 1, 2) and torch.equal(both["hyperlatents"], latents.z_hat[0])
    batch = next(iter(DataLoader(ds, batch_size=4)))
    assert batch["latents"].shape == (4, M, 4, 8) and batch["label"].tolist() == [0, 0, 1, 1]


def test_decoded_and_original_pixels(classes_out: Path, classes_tree: Path, tiny_codec: neuralcodec.Codec) -> None:
    ds = BitstreamDataset(classes_out, splits=["val"], inputs=("decoded", "original"), codec=tiny_codec)
    assert len(ds) == 4 and all(r.split == "val" for r in ds.records)
    sample = ds[1]
    assert "latents" not in sample
    assert sample["decoded"].shape == sample["original"].shape == (3, 40, 70)
    decoded = np.array(tiny_codec.decode(ds.read_bitstream(1)))
    assert torch.equal(sample["decoded"], torch.from_numpy(decoded).permute(2, 0, 1).float() / 255)
    original = np.array(Image.open(classes_tree / ds.records[1].source).convert("RGB"))
    assert torch.equal(sample["original"], torch.from_numpy(original).permute(2, 0, 1).float() / 255)
    moved = BitstreamDataset(classes_out, inputs=("original",), source_root=classes_tree.parent / "gone")
    with pytest.raises(neuralcodec.UnsupportedImageError):
        moved[0]


def test_segmentation_targets(tmp_path: Path, camvid_tree: Path, tiny_codec: neuralcodec.Codec) -> None:
    out = tmp_path / "camvid-out"
    compress_dataset(camvid_tree, out, 3, tiny_codec, num_workers=0, progress=False)
    ds = BitstreamDataset(out, splits=["train"], codec=tiny_codec, transform=lambda s: {**s, "seen": True})
    assert ds.ignore_index == 11 and ds.num_classes == 11 and len(ds) == 3
    sample = ds[2]
    assert sample["seen"] and sample["latents"].shape == (M, 4, 8)
    labels = np.asarray(Image.open(camvid_tree / "trainannot/0001TP_000002.png"))
    assert sample["target"].dtype == torch.int64 and sample["target"].shape == (40, 70)
    assert torch.equal(sample["target"], torch.from_numpy(labels.astype(np.int64)))


def test_workers_load_the_registered_codec(tmp_path: Path, classes_tree: Path, installed_tiny: object) -> None:
    """Without ``codec=``, each DataLoader worker loads the codec named in dataset.json."""
    out = tmp_path / "out"
    compress_dataset(classes_tree, out, 3, "test-tiny", num_workers=0, progress=False)
    ds = BitstreamDataset(out)
    batch = next(iter(DataLoader(ds, batch_size=5, num_workers=1)))
    assert batch["latents"].shape == (5, M, 4, 8)


def test_refusals(tmp_path: Path, classes_out: Path) -> None:
    with pytest.raises(DatasetError, match="not a compressed dataset"):
        BitstreamDataset(tmp_path)
    with pytest.raises(DatasetError, match="inputs"):
        BitstreamDataset(classes_out, inputs=("jpeg",))
    with pytest.raises(DatasetError, match="no split 'test'"):
        BitstreamDataset(classes_out, splits=["test"])
    (classes_out / "manifest.jsonl").unlink()
    with pytest.raises(DatasetError, match="has not finished"):
        BitstreamDataset(classes_out)
