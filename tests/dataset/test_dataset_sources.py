"""Source trees: layout detection, items, labels, annotations, splits and refusals."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from neuralcodec.dataset import DatasetError, scan
from neuralcodec.dataset.bulk import _target_bytes
from neuralcodec.dataset.sources import CITYSCAPES_TRAIN_IDS, detect_layout

SHARED_CITYSCAPES = Path(__file__).resolve().parents[3] / "shared" / "data" / "cityscapes_samples"


def test_classes_layout(classes_tree: Path) -> None:
    tree = scan(classes_tree)
    assert tree.layout == "classes" and tree.task == "classification"
    assert tree.classes == ("n01", "n02", "n03")
    assert len(tree.items) == 10
    first = tree.items[0]
    assert (first.key, first.source, first.split, first.label) == (
        "train/n01/img0", "train/n01/img0.jpg", "train", 0
    )
    # Indexes come from all splits: filtering to val keeps n02 = 1 although val has no n03.
    val = scan(classes_tree, splits=["val"])
    assert {(i.key.split("/")[1], i.label) for i in val.items} == {("n01", 0), ("n02", 1)}
    assert val.classes == tree.classes


def test_classes_without_splits(tmp_path: Path, classes_tree: Path) -> None:
    assert detect_layout(classes_tree / "train") == "folder"  # auto only trusts split folders
    tree = scan(classes_tree / "train", layout="classes")
    assert [(i.key, i.split, i.label) for i in tree.items][-1] == ("n03/img1", None, 2)


def test_camvid_layout(camvid_tree: Path) -> None:
    tree = scan(camvid_tree)
    assert tree.layout == "camvid" and tree.ignore_index == 11 and len(tree.classes) == 11
    assert [i.split for i in tree.items] == ["test"] * 2 + ["train"] * 3
    item = tree.items[0]
    assert (item.source, item.target, item.target_out) == (
        "test/0001TP_000000.jpg", "testannot/0001TP_000000.png", "testannot/0001TP_000000.png"
    )
    assert len(scan(camvid_tree, splits=["train"]).items) == 3


def test_cityscapes_layout(cityscapes_tree: Path) -> None:
    tree = scan(cityscapes_tree)
    assert tree.layout == "cityscapes" and tree.ignore_index == 255 and len(tree.classes) == 19
    by_split = {i.split: i for i in tree.items}
    assert by_split["val"].target == "gtFine/val/frankfurt/frankfurt_000000_000294_gtFine_labelTrainIds.png"
    assert by_split["val"].target_map is None
    train = by_split["train"]
    assert train.target == "gtFine/train/aachen/aachen_000000_000019_gtFine_labelIds.png"
    assert train.target_out == "gtFine/train/aachen/aachen_000000_000019_gtFine_labelTrainIds.png"
    assert train.target_map == "cityscapes-labelIds"
    assert by_split["test"].target is None and by_split["test"].target_out is None


def test_cityscapes_label_ids_map_to_train_ids(cityscapes_tree: Path) -> None:
    tree = scan(cityscapes_tree, splits=["train"])
    item = tree.items[0]
    with Image.open(cityscapes_tree / item.target) as image:
        label_ids = np.asarray(image)
    converted = np.asarray(Image.open(io.BytesIO(_target_bytes(tree, item))))
    expected = np.vectorize(lambda v: CITYSCAPES_TRAIN_IDS.get(int(v), 255))(label_ids)
    assert np.array_equal(converted, expected)
    assert set(np.unique(converted)) == {255, 0, 1, 13, 18}  # 0,1 -> 255; 7,8,26,33 -> 0,1,13,18


@pytest.mark.skipif(not SHARED_CITYSCAPES.is_dir(), reason="shared Cityscapes sample not present")
def test_mapping_matches_the_real_cityscapes_sample(tmp_path: Path) -> None:
    """The real sample ships labelIds and labelTrainIds: the table turns one into the other.

    Both maps were down-scaled separately (2048 -> 256 px), so a few boundary pixels disagree
    (~0.4 %); every label id's most common train id must still be the table's.
    """
    gt = SHARED_CITYSCAPES / "gtFine/val/frankfurt"
    label_ids = np.asarray(Image.open(gt / "frankfurt_000000_000294_gtFine_labelIds.png"))
    train_ids = np.asarray(Image.open(gt / "frankfurt_000000_000294_gtFine_labelTrainIds.png"))
    lut = np.full(256, 255, dtype=np.uint8)
    for label_id, train_id in CITYSCAPES_TRAIN_IDS.items():
        lut[label_id] = train_id
    assert np.mean(lut[label_ids] == train_ids) > 0.99
    for label_id in np.unique(label_ids):
        values, counts = np.unique(train_ids[label_ids == label_id], return_counts=True)
        assert values[counts.argmax()] == lut[label_id], f"labelId {label_id}"
    assert scan(SHARED_CITYSCAPES).layout == "cityscapes"


def test_folder_layout_and_limit(tmp_path: Path, classes_tree: Path) -> None:
    (classes_tree / "notes.txt").write_text("not an image")
    tree = scan(classes_tree, layout="folder", limit=3)
    assert tree.task is None and tree.classes == () and len(tree.items) == 3
    assert all(i.label is None and i.split is None for i in tree.items)


def test_refusals(tmp_path: Path, classes_tree: Path) -> None:
    with pytest.raises(DatasetError, match="not a folder"):
        scan(tmp_path / "missing")
    with pytest.raises(DatasetError, match="unknown layout"):
        scan(classes_tree, layout="coco")
    with pytest.raises(DatasetError, match="no split 'test'"):
        scan(classes_tree, splits=["test"])
    with pytest.raises(DatasetError, match="no splits"):
        scan(classes_tree, layout="folder", splits=["train"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no images"):
        scan(tmp_path / "empty")
    Image.new("RGB", (8, 8)).save(classes_tree / "val/n01/img0.png")  # img0.jpg exists too
    with pytest.raises(DatasetError, match="img0.ncc"):
        scan(classes_tree)
