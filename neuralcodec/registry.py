"""The one table of codecs: stable ids, architectures, weight files and the quality scale.

Pure data, no I/O. A ``codec_id`` is written into every file and is never reused or renumbered.
Importing this module does not import torch: the architectures (:data:`ARCHITECTURES`, a
table of ``{name: (model class, config)}``, and :data:`ENCODER_ARCHITECTURES`) are built on
first use, so that ``neuralcodec models`` and ``info`` start fast. Adding a model is one entry
there: every model class is built as ``Model(config, lambdas)``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from neuralcodec.errors import NotRegisteredError, QualityError

if TYPE_CHECKING:
    from neuralcodec.models import CodecModel
    from neuralcodec.models.encoders import EncoderConfig

    ARCHITECTURES: Mapping[str, Architecture]
    ENCODER_ARCHITECTURES: Mapping[str, EncoderConfig]

__all__ = [
    "MSE_LAMBDAS",
    "GAN_LAMBDAS",
    "Architecture",
    "ARCHITECTURES",
    "WeightsRelease",
    "CodecSpec",
    "CODECS",
    "DEFAULT_CODEC",
    "get",
    "get_by_id",
    "ENCODER_ARCHITECTURES",
    "EncoderSpec",
    "ENCODERS",
    "get_encoder",
    "HeadSpec",
    "HEADS",
    "find_head",
]

#: λ of the hyperprior's integer qualities 1..8: CompressAI's MSE models, so the scales match.
MSE_LAMBDAS = (0.0018, 0.0035, 0.0067, 0.0130, 0.0250, 0.0483, 0.0932, 0.18)
#: MSE-equivalent λ of the GAN codec's qualities 1..3, below the hyperprior's quality 1. They
#: only place its initial gains (train/codec/gan_init.py); its training targets bits per pixel.
GAN_LAMBDAS = (0.0003, 0.0007, 0.0015)


class Architecture(NamedTuple):
    """A model class and the configuration (a frozen dataclass) it is built with."""

    model: type[CodecModel]
    config: Any

    def build(self, lambdas: tuple[float, ...]) -> CodecModel:
        """A randomly initialised model; ``lambdas`` place its initial gains."""
        return self.model(self.config, lambdas)


@functools.cache
def _architectures() -> Mapping[str, Architecture]:
    """Architectures by name (:data:`ARCHITECTURES`)."""
    from neuralcodec.models import (
        ChannelConditionalConfig,
        ChannelConditionalHyperprior,
        GenerativeConfig,
        GenerativeHyperprior,
        HyperpriorConfig,
        MeanScaleHyperprior,
    )

    return MappingProxyType({
        # unit tests only
        "mean-scale-tiny": Architecture(MeanScaleHyperprior, HyperpriorConfig(N=8, M=12)),
        # Minnen 2018 low-rate size
        "mean-scale": Architecture(MeanScaleHyperprior, HyperpriorConfig(N=128, M=192)),
        # Minnen 2018 high-rate size
        "mean-scale-large": Architecture(MeanScaleHyperprior, HyperpriorConfig(N=192, M=320)),
        # unit tests only
        "generative-tiny": Architecture(
            GenerativeHyperprior, GenerativeConfig(N=8, M=12, residual_blocks=1)
        ),
        "generative": Architecture(
            GenerativeHyperprior, GenerativeConfig(N=128, M=192, num_qualities=3)
        ),
        # unit tests only
        "channel-conditional-tiny": Architecture(
            ChannelConditionalHyperprior,
            ChannelConditionalConfig(N=8, M=12, slices=3, context_width=8),
        ),
        # the mean-scale transforms with a 4-slice channel-conditional entropy model
        "channel-conditional": Architecture(
            ChannelConditionalHyperprior, ChannelConditionalConfig(N=128, M=192, slices=4)
        ),
    })


@functools.cache
def _encoder_architectures() -> Mapping[str, EncoderConfig]:
    """Encoder-variant architectures by name (:data:`ENCODER_ARCHITECTURES`)."""
    from neuralcodec.models.encoders import EncoderConfig

    return MappingProxyType({
        "pruned-tiny": EncoderConfig(widths=(4, 4, 4), M=12),  # unit tests only (pairs with test-tiny)
        "pruned-50": EncoderConfig(widths=(64, 64, 64), M=192),  # half the hidden channels of g_a
        "separable-96": EncoderConfig(widths=(96, 96, 96), M=192, separable=True),
    })


def __getattr__(name: str) -> object:
    """The architecture tables, built (and torch imported) when first read."""
    if name == "ARCHITECTURES":
        return _architectures()
    if name == "ENCODER_ARCHITECTURES":
        return _encoder_architectures()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class WeightsRelease:
    """One shipped weight file of a codec. Releases are numbered 1, 2, ... and never renumbered.

    Attributes:
        version: The release number (``hyperprior`` v2 is its second weight file).
        weights_file: File name under ``weights/``.
        sha256: Hex sha256 of the file (its first 8 digits are the files' weights id).
    """

    version: int
    weights_file: str
    sha256: str


@dataclass(frozen=True)
class CodecSpec:
    """A registered codec.

    Attributes:
        name: Name used by the CLI and API (kebab-case).
        codec_id: Stable id stored in every file.
        architecture: Key of :data:`ARCHITECTURES`.
        lambdas: λ of each integer quality; their count is the quality range ``[1, len]``.
        description: One line for ``neuralcodec models``.
        weights: The shipped weight releases, newest (the one loaded by default) first;
            earlier ones stay so that their files decode, and heads or encoders made for
            them keep working. Empty when no weights are shipped.
    """

    name: str
    codec_id: int
    architecture: str
    lambdas: tuple[float, ...]
    description: str
    weights: tuple[WeightsRelease, ...] = ()

    @property
    def weights_file(self) -> str | None:
        """File name of the current release under ``weights/``, or None when none is shipped."""
        return self.weights[0].weights_file if self.weights else None

    @property
    def sha256(self) -> str | None:
        """Hex sha256 of the current release's file."""
        return self.weights[0].sha256 if self.weights else None

    @property
    def version(self) -> int | None:
        """Release number of the current weights."""
        return self.weights[0].version if self.weights else None

    def releases(self) -> tuple[CodecSpec, ...]:
        """This spec, then one spec per earlier release (the same codec, other weights)."""
        return (self, *(replace(self, weights=(r,)) for r in self.weights[1:]))

    def release(self, key: str) -> CodecSpec:
        """The spec of a release, by version (``"v1"``) or by the start of its sha256 (a
        file's weights id, ``"583ecc69"``).

        Raises:
            NotRegisteredError: No release of this codec has such weights.
        """
        if key[:1] in "vV" and key[1:].isdigit():
            return self.release_version(int(key[1:]))
        prefix = key.lower()
        found = next((r for r in self.releases() if r.sha256 and r.sha256.startswith(prefix)), None)
        if found is None or not prefix:
            raise NotRegisteredError(
                f"codec {self.name!r} has no weights {key!r}; shipped: {self._shipped()}"
            )
        return found

    def release_version(self, version: int) -> CodecSpec:
        """The spec of release ``version``.

        Raises:
            NotRegisteredError: No such release is shipped.
        """
        found = next((r for r in self.releases() if r.version == version), None)
        if found is None:
            raise NotRegisteredError(
                f"codec {self.name!r} has no release v{version}; shipped: {self._shipped()}"
            )
        return found

    def _shipped(self) -> str:
        return ", ".join(f"v{r.version} ({r.sha256[:8]})" for r in self.weights) or "none"

    @property
    def quality_range(self) -> tuple[float, float]:
        """Lowest and highest quality, both inclusive."""
        return 1.0, float(len(self.lambdas))

    def check_quality(self, quality: float) -> float:
        """Validate a quality for this codec and return it as float.

        Raises:
            QualityError: Not a finite number in :attr:`quality_range`.
        """
        low, high = self.quality_range
        try:
            q = float(quality)
        except (TypeError, ValueError):
            raise QualityError(f"quality must be a number, got {quality!r}") from None
        if not low <= q <= high:  # also rejects NaN
            raise QualityError(
                f"{self.name} quality must be in [{low:g}, {high:g}], got {quality}"
            )
        return q

    def lambda_for_quality(self, quality: float) -> float:
        """λ for a (fractional) quality, interpolated log-linearly between the integer levels."""
        q = self.check_quality(quality)
        low = min(int(q), len(self.lambdas) - 1)
        t = q - low
        return math.exp(
            (1 - t) * math.log(self.lambdas[low - 1]) + t * math.log(self.lambdas[low])
        )

    @property
    def config(self) -> Any:
        """The architecture's configuration (a frozen dataclass)."""
        return _architectures()[self.architecture].config

    @property
    def config_dict(self) -> dict[str, object]:
        """The configuration as plain data (stored in the weights' metadata)."""
        return asdict(self.config)

    def build(self) -> CodecModel:
        """A randomly initialised model of this codec's architecture."""
        return _architectures()[self.architecture].build(self.lambdas)


CODECS: tuple[CodecSpec, ...] = (
    CodecSpec(
        name="test-tiny",
        codec_id=0,
        architecture="mean-scale-tiny",
        lambdas=MSE_LAMBDAS,
        description="tiny random-init model for unit tests; no weights",
    ),
    CodecSpec(
        name="hyperprior",
        codec_id=1,
        architecture="mean-scale",
        lambdas=MSE_LAMBDAS,
        description="variable-rate mean-scale hyperprior, MSE-optimised, q in [1, 8]",
        weights=(
            WeightsRelease(
                5,
                "hyperprior-523e2bd0.safetensors",
                "523e2bd01020aaa708626545d94512c18d0c22f4efde62002a528b41f625768e",
            ),
            WeightsRelease(
                4,
                "hyperprior-f745b009.safetensors",
                "f745b00980029e852171fa61e4ba63689b89b0669cee59f75a6cec9fd5dcfd97",
            ),
            WeightsRelease(
                3,
                "hyperprior-337f0360.safetensors",
                "337f036002a7c7f41b87a1e7d314de657130146de12b2ac7bdfbee0549b7fdae",
            ),
            WeightsRelease(
                2,
                "hyperprior-de944346.safetensors",
                "de9443460c8475128af2e3c3b8dd23cabc5d495136d2e344df30bca18e956242",
            ),
            WeightsRelease(
                1,
                "hyperprior-583ecc69.safetensors",
                "583ecc698008def09681e1857b9cd1b66736dabb8390b31eecfe5fdcb0015d65",
            ),
        ),
    ),
    CodecSpec(
        name="gan",
        codec_id=2,
        architecture="generative",
        lambdas=GAN_LAMBDAS,
        description="generative (GAN) decoder for extreme rates, about 0.04-0.22 bpp on Kodak, q in [1, 3]",
        weights=(
            WeightsRelease(
                1,
                "gan-a2088ac0.safetensors",
                "a2088ac09feec0922bc743d9e6917b9422f7a79055d622070ec4749795a76e26",
            ),
        ),
    ),
    CodecSpec(
        name="test-tiny-gan",
        codec_id=3,
        architecture="generative-tiny",
        lambdas=GAN_LAMBDAS,
        description="tiny random-init generative codec for unit tests; no weights",
    ),
    CodecSpec(
        name="channel-conditional",
        codec_id=4,
        architecture="channel-conditional",
        lambdas=MSE_LAMBDAS,
        description="the hyperprior's transforms with a channel-conditional entropy model "
        "(4 slices, Minnen & Singh 2020), MSE-optimised, q in [1, 8]",
        weights=(
            WeightsRelease(
                3,
                "channel-conditional-5d1f3a69.safetensors",
                "5d1f3a691103cc82f9b2d8c34a6d8549f6d4f5282204f5c8d922b83ea6d43447",
            ),
            WeightsRelease(
                2,
                "channel-conditional-cdc1c148.safetensors",
                "cdc1c148fbba4ed44b7e0ec0f9ef434cb3bdca13b7f7c6d9291e782f6a50f5c7",
            ),
            WeightsRelease(
                1,
                "channel-conditional-1d511ea5.safetensors",
                "1d511ea5da5494a83f4b906113ea6b37e3059ca87d6cbd602c0c38d9e487640c",
            ),
        ),
    ),
    CodecSpec(
        name="test-tiny-cc",
        codec_id=5,
        architecture="channel-conditional-tiny",
        lambdas=MSE_LAMBDAS,
        description="tiny random-init channel-conditional codec for unit tests; no weights",
    ),
)
DEFAULT_CODEC = "channel-conditional"


def get(name: str) -> CodecSpec:
    """The codec registered under ``name``.

    Raises:
        NotRegisteredError: No such codec (the message lists the known names).
    """
    spec = next((s for s in CODECS if s.name == name), None)
    if spec is None:
        raise NotRegisteredError(f"unknown codec {name!r}; known: {', '.join(s.name for s in CODECS)}")
    return spec


def get_by_id(codec_id: int) -> CodecSpec:
    """The codec with the stable id ``codec_id``.

    Raises:
        NotRegisteredError: No codec has that id.
    """
    spec = next((s for s in CODECS if s.codec_id == codec_id), None)
    if spec is None:
        raise NotRegisteredError(f"unknown codec id {codec_id}")
    return spec


# Encoder variants: replacements for a codec's analysis transform g_a (x -> y, before the gain).
# The decoder side stays the codec's, so their files decode with the codec's shipped weights.

@dataclass(frozen=True)
class EncoderSpec:
    """A registered encoder variant.

    Attributes:
        name: Name used by ``--encoder`` and ``Codec(..., encoder=...)``.
        codec: The codec whose g_a it replaces (and whose decoder reads its files); None
            for a variant derived from any codec's own g_a at load time.
        kind: ``"torch"`` (safetensors weights of an :data:`ENCODER_ARCHITECTURES` entry),
            ``"onnx"`` (an ONNX graph file run by onnxruntime) or ``"onnx-export"`` (the
            codec's own g_a exported to ONNX when loaded; no file).
        architecture: Key of :data:`ENCODER_ARCHITECTURES` (``"torch"`` only).
        weights_file: File name under ``weights/``, or None.
        sha256: Hex sha256 of the file.
        description: One line for ``neuralcodec models``.
        codec_version: The release of ``codec``'s weights it was made for (their file
            decodes its files), or None for a variant derived at load time.
    """

    name: str
    codec: str | None
    kind: str
    architecture: str | None
    weights_file: str | None
    sha256: str | None
    description: str
    codec_version: int | None = None


ENCODERS: tuple[EncoderSpec, ...] = (
    EncoderSpec(
        name="onnx",
        codec=None,
        kind="onnx-export",
        architecture=None,
        weights_file=None,
        sha256=None,
        description="the codec's own g_a exported to ONNX at load time, run by onnxruntime (fp32)",
    ),
    EncoderSpec(
        name="fp16",
        codec="hyperprior",
        kind="onnx",
        architecture=None,
        weights_file="hyperprior-encoder-fp16-44d42420.onnx",
        sha256="44d424202eedc2fa3dfd693fc6206ce2652309867deb2bba0281c0bf7c8cb6e9",
        description="the shipped g_a in float16 (ONNX, half the file size), run by onnxruntime",
        codec_version=1,
    ),
    EncoderSpec(
        name="pruned-50",
        codec="hyperprior",
        kind="torch",
        architecture="pruned-50",
        weights_file="hyperprior-encoder-pruned-50-59890033.safetensors",
        sha256="59890033b72d1cf1b080607d112f67d182d9c3c74ee72b8cd9c8525d552ccdaf",
        description="g_a pruned to half its hidden channels (28% of the MACs), fine-tuned on photos",
        codec_version=1,
    ),
)


def get_encoder(name: str) -> EncoderSpec:
    """The encoder variant registered under ``name``.

    Raises:
        NotRegisteredError: No such encoder (the message lists the known names).
    """
    spec = next((s for s in ENCODERS if s.name == name), None)
    if spec is None:
        raise NotRegisteredError(f"unknown encoder {name!r}; known: {', '.join(s.name for s in ENCODERS)}")
    return spec


# Task heads: classifiers and segmenters that read a codec's latents (neuralcodec/heads/).

@dataclass(frozen=True)
class HeadSpec:
    """A shipped task head.

    A head is tied to the codec release it was trained on and to one quality; a file of
    another quality is served by the head of the nearest quality, since heads take ungained
    latents (see :mod:`neuralcodec.heads.latent_task`). When the codec ships new weights, its
    heads stay on the release they name until they are retrained.

    Attributes:
        task: ``classify`` or ``segment``.
        codec: Registry name of the codec whose latents it reads.
        codec_version: The release of the codec's weights it was trained on.
        quality: Quality of the training bitstreams.
        weights_file: File name under ``weights/heads/``.
        sha256: Hex sha256 of that file.
        dataset: What it was trained on (for messages).
    """

    task: str
    codec: str
    codec_version: int
    quality: float
    weights_file: str
    sha256: str
    dataset: str

    @property
    def codec_sha256(self) -> str:
        """sha256 of the codec weights it was trained on (what its file's metadata records)."""
        sha256 = get(self.codec).release_version(self.codec_version).sha256
        assert sha256 is not None  # a release always has a file
        return sha256


#: Written by ``train/heads/export_head.py`` (it prints each line); cards: ``weights/heads/<file>.md``.
HEADS: tuple[HeadSpec, ...] = (
    HeadSpec(
        task="classify",
        codec="hyperprior",
        codec_version=1,
        quality=2.0,
        weights_file="classify-on-hyperprior-q2-d4a3381c.safetensors",
        sha256="d4a3381c672651c3817e05c0337437f7e5ff29101ef8c67182fe5c87cac2356c",
        dataset="Imagenette train, 40 images per class (400)",
    ),
    HeadSpec(
        task="segment",
        codec="hyperprior",
        codec_version=1,
        quality=2.0,
        weights_file="segment-on-hyperprior-q2-a190f854.safetensors",
        sha256="a190f854ba728c66ee0b3eeb98124db1a163607b7555f4c4c397d57257b3e109",
        dataset="CamVid train, every 6th frame (62 frames)",
    ),
)


def find_head(task: str, codec: CodecSpec, quality: float) -> HeadSpec:
    """The shipped head for ``task`` on this release of ``codec`` nearest to ``quality``.

    Ties go to the higher quality.

    Raises:
        NotRegisteredError: No head is shipped for this task and codec release.
    """
    heads = [h for h in HEADS if h.task == task]
    matches = [h for h in heads if h.codec == codec.name and h.codec_version == codec.version]
    if not matches:
        known = sorted({(h.codec, h.codec_version) for h in heads})
        hint = "; ".join(f"{name} v{version} (compress with --codec {name} --weights v{version})"
                         for name, version in known)
        raise NotRegisteredError(
            f"no {task!r} head is shipped for codec {codec.name!r} v{codec.version}; "
            f"heads exist for {hint or 'no codec'}"
        )
    return min(matches, key=lambda h: (abs(h.quality - quality), -h.quality))
