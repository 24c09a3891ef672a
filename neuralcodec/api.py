"""The public Python API: a reusable :class:`Codec`, and ``encode`` / ``decode`` / ``decode_latents``.

Example:
    >>> import neuralcodec
    >>> data = neuralcodec.encode("kodim01.png", quality=3)  # doctest: +SKIP
    >>> image = neuralcodec.decode(data)  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import warnings
import zlib
from collections.abc import Callable
from typing import NamedTuple, TypeVar

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from neuralcodec import container, edge, pixels, registry
from neuralcodec.defaults import DEFAULT_MAX_PIXELS, DEFAULT_TILE_SIZE
from neuralcodec.errors import (
    BitstreamError,
    NotRegisteredError,
    PixelLimitError,
    QualityError,
    TileSizeError,
    WeightsMismatchError,
)
from neuralcodec.fileinfo import FileInfo, read_info
from neuralcodec.models import CodecModel, DecodedLatents
from neuralcodec.pixels import ImageInput
from neuralcodec.registry import CodecSpec
from neuralcodec.weights import load_model

__all__ = [
    "DEFAULT_CODEC",
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_TILE_SIZE",
    "Codec",
    "FileInfo",
    "Latents",
    "coded_quality",
    "encode",
    "decode",
    "decode_latents",
    "latents",
    "weights_release",
    "codec_for",
    "load_codec",
    "read_info",
]

DEFAULT_CODEC = registry.DEFAULT_CODEC
_BISECTION_STEPS = 11  # quality resolution 7 / 2**11 < 1/256, the container's step
_Decoded = TypeVar("_Decoded", Tensor, DecodedLatents)


class Codec:
    """A loaded codec: weights are read and verified once, then reused for every call.

    Thread safety: one Codec may serve ``encode``, ``encode_to_bpp``, ``decode`` and
    ``decode_latents`` calls from many threads at once; each call gives the same bytes or pixels
    as it would alone (tests/test_thread_safety.py; ``python -m eval.studies.concurrency`` checks the
    shipped weights). Calls keep no state on the object. Do not call ``to()`` while other
    threads use the codec.

    Args:
        name: Registered codec name (``neuralcodec models`` lists them).
        device: Torch device for the transforms. Files decode identically on any device.
        max_pixels: Largest image accepted by ``encode`` and ``decode``.
        encoder: An encoder variant to encode with instead of the codec's ``g_a``
            (``neuralcodec models`` lists them); its files decode with the codec as usual.
            A variant made for an earlier release of the codec's weights loads that release.
        weights: An earlier release of the codec's weights to load instead of the current
            one: its version (``"v1"``) or the start of its sha256 (the weights id
            ``neuralcodec info`` shows).

    Raises:
        NotRegisteredError: Unknown codec, encoder or weights release.
        WeightsNotFoundError: The codec's (or the encoder's) weights are not installed.
        MissingDependencyError: An ONNX encoder without onnxruntime installed.

    Example:
        >>> codec = Codec("hyperprior")  # doctest: +SKIP
        >>> codec.decode(codec.encode("kodim01.png", quality=3.5)).size  # doctest: +SKIP
        (768, 512)
    """

    def __init__(
        self,
        name: str = registry.DEFAULT_CODEC,
        device: str | torch.device = "cpu",
        max_pixels: int = DEFAULT_MAX_PIXELS,
        encoder: str | None = None,
        weights: str | None = None,
    ) -> None:
        spec = _release(registry.get(name), encoder, weights)
        model, weights_id = load_model(spec)
        self._init(spec, model, weights_id, device, max_pixels, encoder)

    @classmethod
    def from_model(
        cls,
        spec: CodecSpec,
        model: CodecModel,
        weights_id: int,
        device: str | torch.device = "cpu",
        max_pixels: int = DEFAULT_MAX_PIXELS,
        encoder: str | None = None,
    ) -> Codec:
        """A codec around an in-memory model (tests, training); ``model.update()`` must have run."""
        codec = cls.__new__(cls)
        codec._init(spec, model, weights_id, device, max_pixels, encoder)
        return codec

    def _init(
        self,
        spec: CodecSpec,
        model: CodecModel,
        weights_id: int,
        device: str | torch.device,
        max_pixels: int,
        encoder: str | None = None,
    ) -> None:
        self.spec, self.weights_id, self.max_pixels = spec, weights_id, max_pixels
        self.device = torch.device(device)
        self.model = model.eval().to(self.device)
        # Encoding may use an encoder variant in place of g_a (a private copy of the model);
        # decoding always uses the codec's own model, so the files are the codec's files.
        self.encoder = encoder
        self._encoder_model = self.model
        if encoder is not None:
            g_a = edge.load_encoder(registry.get_encoder(encoder), spec, self.model)
            self._encoder_model = edge.with_encoder(self.model, g_a.to(self.device))

    def _tile_size(self, height: int, width: int, requested: int | None) -> int:
        """The requested tile size, checked, or the smallest default-or-larger one that fits."""
        latent_hw = self.model.latent_hw(height, width)
        extras = 2  # alpha plane and palette
        if requested is not None:
            problem = container.tile_size_problem(requested)
            if problem:
                raise TileSizeError(problem)
            if self.model.num_streams(latent_hw, requested) + extras > container.MAX_STREAMS:
                raise TileSizeError(
                    f"tile size {requested} makes too many tiles for {width}x{height}"
                )
            return requested
        tile_size = DEFAULT_TILE_SIZE
        while self.model.num_streams(latent_hw, tile_size) + extras > container.MAX_STREAMS:
            tile_size *= 2
        return tile_size

    def to(self, device: str | torch.device) -> Codec:
        """Move the transforms to ``device``; returns self."""
        self.device = torch.device(device)
        self.model.to(self.device)
        self._encoder_model.to(self.device)
        return self

    def _check_size(self, height: int, width: int) -> None:
        if height * width > self.max_pixels:
            raise PixelLimitError((width, height), self.max_pixels)

    @torch.inference_mode()
    def encode(
        self, image: ImageInput, quality: float = 3.0, tile_size: int | None = None
    ) -> bytes:
        """Compress an image into container bytes.

        Args:
            image: A PIL image, a uint8 array (H, W[, C]), a path, or an image file's bytes
                (or binary file object). Any size and mode; alpha is kept losslessly and the
                mode is restored on decode.
            quality: In the codec's range (``spec.quality_range``: [1, 8] for ``hyperprior``,
                [1, 3] for ``gan``), fractional allowed; coded with a 1/256 step.
            tile_size: Side in pixels of the tiles that bound memory (a power of two from 64);
                default :data:`DEFAULT_TILE_SIZE`, larger for images that need it. Smaller tiles
                use less memory at the cost of a few bytes per tile.

        Returns:
            The ``.ncc`` file contents.

        Raises:
            QualityError: Quality outside the codec's range.
            UnsupportedImageError: Unreadable, empty, animated or multi-page, or float images.
            PixelLimitError: More than ``max_pixels`` pixels.
            TileSizeError: ``tile_size`` is not a power of two, or makes too many tiles.
        """
        split = pixels.split_image(pixels.open_image(image, self.max_pixels))
        return self._encode_split(split, coded_quality(quality, self.spec.name), tile_size)

    def encode_to_bpp(
        self, image: ImageInput, bpp: float, tile_size: int | None = None
    ) -> bytes:
        """Compress at the highest quality whose file is at most ``bpp`` bits per pixel.

        Bisection on the fractional quality; the whole file (header included) counts.
        ``tile_size`` as in :meth:`encode`. A target out of the codec's reach gives the nearest
        end of its quality range, with a warning either way: above the highest quality's rate,
        that quality (a smaller file); below the lowest quality's rate, that quality (a file
        larger than the target).

        Raises:
            QualityError: ``bpp`` is not a positive number.
        """
        if not bpp > 0:
            raise QualityError(f"target bpp must be positive, got {bpp}")
        split = pixels.split_image(pixels.open_image(image, self.max_pixels))
        num_pixels = split.rgb.shape[0] * split.rgb.shape[1]
        low, high = self.spec.quality_range
        best = self._encode_split(split, low, tile_size)
        if len(best) * 8 / num_pixels > bpp:
            _warn_out_of_reach(bpp, len(best) * 8 / num_pixels, "below the lowest", low)
            return best
        top = self._encode_split(split, high, tile_size)
        if len(top) * 8 / num_pixels <= bpp:
            _warn_out_of_reach(bpp, len(top) * 8 / num_pixels, "at or above the highest", high)
            return top
        for _ in range(_BISECTION_STEPS):
            mid = coded_quality((low + high) / 2, self.spec.name)
            data = self._encode_split(split, mid, tile_size)
            if len(data) * 8 / num_pixels <= bpp:
                low, best = mid, data
            else:
                high = mid
        return best

    @torch.inference_mode()
    def _encode_split(
        self, split: pixels.SplitImage, quality: float, tile_size: int | None = None
    ) -> bytes:
        height, width = split.rgb.shape[:2]
        self._check_size(height, width)
        tile_size = self._tile_size(height, width, tile_size)
        x = pixels.to_tensor(split.rgb).to(self.device)
        x = pixels.pad_to_multiple(x, self.model.downsampling_factor)
        streams = list(self._encoder_model.compress(x, quality, tile_size).streams)
        flags = 0
        if split.alpha is not None:
            streams.append(zlib.compress(split.alpha.tobytes(), 9))
            flags |= container.FLAG_ALPHA
        if split.palette is not None:
            streams.append(split.palette)
            flags |= container.FLAG_PALETTE
        header = container.Header(
            codec_id=self.spec.codec_id,
            weights_id=self.weights_id,
            quality=quality,
            mode=split.mode,
            height=height,
            width=width,
            tile_size=tile_size,
            flags=flags,
        )
        return container.pack(header, streams)

    def _unpack(self, data: bytes) -> tuple[container.Header, list[bytes], list[bytes]]:
        """Parse and check a file against this codec: header, model streams, extra streams."""
        header, streams = container.unpack(data)
        if header.codec_id != self.spec.codec_id:
            raise WeightsMismatchError(
                f"file was made by codec id {header.codec_id}, this is {self.spec.name!r} "
                f"(id {self.spec.codec_id})"
            )
        if header.weights_id != self.weights_id:
            raise WeightsMismatchError(
                f"file was made with weights {header.weights_id:08x}, loaded weights are "
                f"{self.weights_id:08x}; decode it with the weights that encoded it"
            )
        try:
            self.spec.check_quality(header.quality)
        except QualityError as error:
            raise BitstreamError(f"header: {error}") from None
        self._check_size(header.height, header.width)
        num_model = len(streams) - header.num_extra_streams
        latent_hw = self.model.latent_hw(header.height, header.width)
        expected = self.model.num_streams(latent_hw, header.tile_size)
        if num_model != expected:
            raise BitstreamError(
                f"{num_model} codec streams, {self.spec.name!r} writes {expected} for a "
                f"{header.width}x{header.height} image in {header.tile_size}-pixel tiles"
            )
        return header, streams[:num_model], streams[num_model:]

    @torch.inference_mode()
    def latents(self, data: bytes) -> Latents:
        """Entropy-decode the quantized latents of a file without the synthesis transform.

        Raises:
            BitstreamError: Corrupt or truncated file.
            WeightsMismatchError: Made by another codec or other weights.
        """
        header, model_streams, _ = self._unpack(data)
        latent_hw = self.model.latent_hw(header.height, header.width)
        decoded = self._guarded(
            lambda: self.model.decompress_latents(model_streams, latent_hw, header.tile_size)
        )
        return Latents(
            y_hat=decoded.y_hat,
            z_hat=decoded.z_hat,
            inverse_gain=self.model.inverse_gain(header.quality),
            quality=header.quality,
            height=header.height,
            width=header.width,
        )

    def decode_latents(self, data: bytes) -> Tensor:
        """The quantized latent y_hat (1, M, h, w) of a file: ``latents(data).y_hat``."""
        return self.latents(data).y_hat

    @torch.inference_mode()
    def decode(self, data: bytes) -> Image.Image:
        """Decode container bytes to an image in its original mode and size.

        Raises:
            BitstreamError: Corrupt or truncated file.
            WeightsMismatchError: Made by another codec or other weights.
        """
        header, model_streams, extras = self._unpack(data)
        latent_hw = self.model.latent_hw(header.height, header.width)
        x_hat = self._guarded(
            lambda: self.model.decompress(model_streams, latent_hw, header.quality, header.tile_size)
        )
        rgb = pixels.to_array(pixels.crop(x_hat, header.height, header.width))
        alpha = palette = None
        if header.flags & container.FLAG_ALPHA:
            alpha = _inflate_plane(extras.pop(0), header.height, header.width)
        if header.flags & container.FLAG_PALETTE:
            palette = extras.pop(0)
            if len(palette) != 768:
                raise BitstreamError(f"palette stream has {len(palette)} bytes, expected 768")
        if header.mode == "P" and palette is None or header.mode in ("RGBA", "LA") and alpha is None:
            raise BitstreamError(f"mode {header.mode} without the stream it needs")
        return pixels.merge_image(rgb, header.mode, alpha, palette)

    @staticmethod
    def _guarded(decode_streams: Callable[[], _Decoded]) -> _Decoded:
        """Run an entropy decode, turning coder failures and non-finite output into BitstreamError."""
        try:
            out = decode_streams()
        except (ValueError, RuntimeError, OverflowError) as error:
            raise BitstreamError(f"corrupt entropy-coded stream: {error}") from None
        tensors = out if isinstance(out, tuple) else (out,)
        if not all(bool(torch.isfinite(t).all()) for t in tensors):
            raise BitstreamError("corrupt entropy-coded stream (non-finite values)")
        return out


class Latents(NamedTuple):
    """The entropy-decoded latents of a file: what task heads learn from, no pixels decoded.

    Attributes:
        y_hat: Quantized latent (1, M, H/16, W/16) (padded size), as coded: scaled by the
            quality's gain, so its range grows with quality.
        z_hat: Quantized hyper-latent (1, N, H/64, W/64).
        inverse_gain: (1, M, 1, 1); ``y_hat * inverse_gain`` is the synthesis input, on the
            same scale at every quality.
        quality: The file's quality.
        height: Original image height in pixels.
        width: Original image width in pixels.
    """

    y_hat: Tensor
    z_hat: Tensor
    inverse_gain: Tensor
    quality: float
    height: int
    width: int

    @property
    def ungained(self) -> Tensor:
        """``y_hat * inverse_gain`` (1, M, h, w): the synthesis input, what task heads take."""
        return self.y_hat * self.inverse_gain


def _warn_out_of_reach(bpp: float, reached_bpp: float, side: str, quality: float) -> None:
    """Warn that ``encode_to_bpp`` gave the end of the quality range, not the target."""
    warnings.warn(
        f"target {bpp:g} bpp is {side} quality's {reached_bpp:.4f} bpp; coded at quality {quality:g}",
        stacklevel=3,
    )


def coded_quality(quality: float, codec: str = registry.DEFAULT_CODEC) -> float:
    """Validate ``quality`` for ``codec`` and round it to the container's 1/256 grid: the quality a file stores.

    Raises:
        QualityError: Not a number in the codec's range.
        NotRegisteredError: Unknown codec.
    """
    q = registry.get(codec).check_quality(quality)
    return round(q * container.QUALITY_SCALE) / container.QUALITY_SCALE


def _inflate_plane(stream: bytes, height: int, width: int) -> pixels.UInt8Array:
    """Inflate an alpha plane, reading at most height*width + 1 bytes (no zip bombs)."""
    inflater = zlib.decompressobj()
    try:
        plane = inflater.decompress(stream, height * width + 1)
    except zlib.error as error:
        raise BitstreamError(f"corrupt alpha plane: {error}") from None
    if len(plane) != height * width or not inflater.eof or inflater.unconsumed_tail:
        raise BitstreamError("alpha plane has the wrong size")
    return np.frombuffer(plane, dtype=np.uint8).reshape(height, width)


def _release(spec: CodecSpec, encoder: str | None, weights: str | None) -> CodecSpec:
    """The release of ``spec`` to load: the one asked for, else the encoder's, else the current."""
    if weights is not None:
        return spec.release(weights)
    version = registry.get_encoder(encoder).codec_version if encoder else None
    return spec.release_version(version) if version is not None else spec


@functools.lru_cache(maxsize=8)
def load_codec(
    name: str = registry.DEFAULT_CODEC, device: str = "cpu", weights: str | None = None
) -> Codec:
    """The process-wide :class:`Codec` for ``name`` (and weights release) on ``device``, loaded on first use."""
    return Codec(name, device, weights=weights)


def weights_release(codec: str, weights_id: str) -> str | None:
    """The ``weights`` argument of :class:`Codec` that decodes files of ``codec`` stamped
    ``weights_id`` (8 hex digits): None for the current weights, else that earlier release.

    Raises:
        WeightsMismatchError: No shipped release of the codec has these weights.
    """
    spec = registry.get(codec)
    if spec.sha256 is None:
        return None  # no weights shipped at all: loading says so (WeightsNotFoundError)
    try:
        release = spec.release(weights_id)
    except NotRegisteredError as error:
        raise WeightsMismatchError(f"file was made with weights {weights_id}: {error}") from None
    return None if release is spec else weights_id


def codec_for(data: bytes) -> Codec:
    """The codec and weights release that made ``data`` (current or earlier), loaded once.

    Raises:
        BitstreamError: Not a readable container, or an unknown codec id.
        WeightsMismatchError: No shipped release of the codec has the file's weights.
    """
    header, _ = container.unpack(data)
    try:
        spec = registry.get_by_id(header.codec_id)
    except NotRegisteredError as error:
        raise BitstreamError(str(error)) from None
    return load_codec(spec.name, weights=weights_release(spec.name, f"{header.weights_id:08x}"))


def encode(image: ImageInput, quality: float = 3.0, codec: str = registry.DEFAULT_CODEC) -> bytes:
    """Compress an image with the shipped weights of ``codec``.

    Args:
        image: A PIL image, a uint8 array or a path.
        quality: In the codec's range ([1, 8] for ``hyperprior``, [1, 3] for ``gan``);
            fractional values allowed.
        codec: Registered codec name.

    Returns:
        The ``.ncc`` bytes.

    Example:
        >>> data = encode("kodim01.png", quality=3)  # doctest: +SKIP
    """
    return load_codec(codec).encode(image, quality)


def decode(data: bytes) -> Image.Image:
    """Decode ``.ncc`` bytes with the codec named in their header.

    Raises:
        TypeError: ``data`` is not bytes (a file name, say: pass the file's bytes).
        BitstreamError: Corrupt or truncated file, or an unknown codec id.
        WeightsNotFoundError: The file's codec has no weights installed.

    Example:
        >>> image = decode(open("kodim01.ncc", "rb").read())  # doctest: +SKIP
    """
    return codec_for(data).decode(data)


def latents(data: bytes) -> Latents:
    """The entropy-decoded latents of ``.ncc`` bytes, without pixel decoding.

    Example:
        >>> y = latents(open("kodim01.ncc", "rb").read())  # doctest: +SKIP
        >>> features = y.ungained  # same scale at every quality; doctest: +SKIP
    """
    return codec_for(data).latents(data)


def decode_latents(data: bytes) -> Tensor:
    """The quantized latent y_hat (1, M, h, w) of ``.ncc`` bytes: ``latents(data).y_hat``.

    Example:
        >>> y_hat = decode_latents(open("kodim01.ncc", "rb").read())  # doctest: +SKIP
    """
    return codec_for(data).decode_latents(data)
