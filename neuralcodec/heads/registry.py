"""The table of shipped task heads (pure data): which file, its sha256, and what it predicts.

A head is tied to the codec weights it was trained on (``codec`` + ``codec_sha256``) and to
one quality; a file of another quality is served by the head of the nearest quality, since
heads take ungained latents (see :mod:`neuralcodec.heads.latent_task`).
"""

from __future__ import annotations

from dataclasses import dataclass

from neuralcodec.errors import NotRegisteredError

__all__ = [
    "HeadSpec",
    "HEADS",
    "IMAGENETTE_CLASSES",
    "IMAGENETTE_WNIDS",
    "CAMVID_CLASSES",
    "CAMVID_PALETTE",
    "CITYSCAPES_CLASSES",
    "CITYSCAPES_PALETTE",
    "find_head",
]

#: Imagenette's classes in sorted-WordNet-id order (n01440764 ... n03888257).
IMAGENETTE_CLASSES = (
    "tench", "English springer", "cassette player", "chain saw", "church",
    "French horn", "garbage truck", "gas pump", "golf ball", "parachute",
)  # fmt: skip
#: Their WordNet ids, the class-folder names of the dataset.
IMAGENETTE_WNIDS = (
    "n01440764", "n02102040", "n02979186", "n03000684", "n03028079",
    "n03394916", "n03417042", "n03425413", "n03445777", "n03888257",
)  # fmt: skip
#: CamVid (SegNet version) label values 0..10; 11 is void (ignored).
CAMVID_CLASSES = (
    "sky", "building", "pole", "road", "pavement", "tree",
    "sign/symbol", "fence", "car", "pedestrian", "bicyclist",
)  # fmt: skip
#: The usual CamVid colours, by label value.
CAMVID_PALETTE = (
    (128, 128, 128), (128, 0, 0), (192, 192, 128), (128, 64, 128), (60, 40, 222), (128, 128, 0),
    (192, 128, 128), (64, 64, 128), (64, 0, 128), (64, 64, 0), (0, 128, 192),
)  # fmt: skip
#: Cityscapes' 19 train ids (labelTrainIds 0..18; 255 ignored).
CITYSCAPES_CLASSES = (
    "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign",
    "vegetation", "terrain", "sky", "person", "rider", "car", "truck", "bus", "train",
    "motorcycle", "bicycle",
)  # fmt: skip

#: cityscapesScripts colours by train id.
CITYSCAPES_PALETTE = (
    (128, 64, 128), (244, 35, 232), (70, 70, 70), (102, 102, 156), (190, 153, 153),
    (153, 153, 153), (250, 170, 30), (220, 220, 0), (107, 142, 35), (152, 251, 152),
    (70, 130, 180), (220, 20, 60), (255, 0, 0), (0, 0, 142), (0, 0, 70), (0, 60, 100),
    (0, 80, 100), (0, 0, 230), (119, 11, 32),
)  # fmt: skip


@dataclass(frozen=True)
class HeadSpec:
    """A shipped head.

    Attributes:
        task: ``classify`` or ``segment``.
        codec: Registry name of the codec whose latents it reads.
        codec_sha256: sha256 of the codec weights it was trained on.
        quality: Quality of the training bitstreams.
        weights_file: File name under ``weights/heads/``.
        sha256: Hex sha256 of that file.
        dataset: What it was trained on (for messages).
    """

    task: str
    codec: str
    codec_sha256: str
    quality: float
    weights_file: str
    sha256: str
    dataset: str


#: Written by ``train/export_head.py`` (it prints each line); cards: ``weights/heads/<file>.md``.
HEADS: tuple[HeadSpec, ...] = (
    HeadSpec(
        task="classify",
        codec="hyperprior",
        codec_sha256="583ecc698008def09681e1857b9cd1b66736dabb8390b31eecfe5fdcb0015d65",
        quality=2.0,
        weights_file="classify-on-hyperprior-q2-d4a3381c.safetensors",
        sha256="d4a3381c672651c3817e05c0337437f7e5ff29101ef8c67182fe5c87cac2356c",
        dataset="Imagenette train, 40 images per class (400)",
    ),
    HeadSpec(
        task="segment",
        codec="hyperprior",
        codec_sha256="583ecc698008def09681e1857b9cd1b66736dabb8390b31eecfe5fdcb0015d65",
        quality=2.0,
        weights_file="segment-on-hyperprior-q2-a190f854.safetensors",
        sha256="a190f854ba728c66ee0b3eeb98124db1a163607b7555f4c4c397d57257b3e109",
        dataset="CamVid train, every 6th frame (62 frames)",
    ),
)


def find_head(task: str, codec: str, codec_sha256: str | None, quality: float) -> HeadSpec:
    """The shipped head for ``task`` on ``codec`` (these weights) nearest to ``quality``.

    Ties go to the higher quality.

    Raises:
        NotRegisteredError: No head is shipped for this task and codec.
    """
    matches = [
        h for h in HEADS if h.task == task and h.codec == codec and h.codec_sha256 == codec_sha256
    ]
    if not matches:
        known = sorted({h.codec_sha256[:8] for h in HEADS if h.task == task and h.codec == codec and h.codec_sha256})
        raise NotRegisteredError(
            f"no {task!r} head is shipped for codec {codec!r} with these weights; heads exist for "
            f"weights {', '.join(known) or 'none'} (compress with --weights ID)"
        )
    return min(matches, key=lambda h: (abs(h.quality - quality), -h.quality))
