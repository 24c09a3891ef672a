"""Entropy coding shared by every model: the hyper-latent stream, tiled latent streams, guards.

A file's codec streams are the hyper-latent ``z`` (one stream, compressai's
``EntropyBottleneck``) followed by the latent ``y`` coded tile by tile (one stream per tile,
compressai's ``GaussianConditional`` with rANS), tiles in row-major order on the grid of
:func:`~neuralcodec.models.tiling.tile_windows`. A model supplies, for each tile, the scale
indexes and means of its Gaussian entropy model (:data:`TileParams`); how it predicts them
(hyperprior alone, or with channel context) is the model's business.

Decoding never trusts a stream: counts and lengths are checked first, and every stream is
padded (:func:`bounded`) so that compressai's rANS decoder cannot read past its end.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from compressai.entropy_models import EntropyBottleneck, GaussianConditional
from torch import Tensor

from neuralcodec.errors import BitstreamError
from neuralcodec.models.tiling import Window, crop_window, tile_windows

__all__ = [
    "ENTROPY_CODER",
    "TileParams",
    "bounded",
    "scale_indexes",
    "check_streams",
    "encode_hyper_latent",
    "decode_hyper_latent",
    "encode_tiles",
    "decode_tiles",
]

#: compressai's entropy coder for every stream.
ENTROPY_CODER = "ans"
#: For a window of ``y``: the scale indexes and the means of its Gaussian entropy model, each
#: shaped like the window's latent (1, C, h, w).
TileParams = Callable[[Window], tuple[Tensor, Tensor]]


def bounded(stream: bytes, num_symbols: int) -> bytes:
    """``stream`` followed by as many zero bytes as compressai's rANS decoder can read past it.

    compressai's ``RansDecoder`` does not check the end of its input: on a stream too short for
    its symbols (a corrupt or hostile file) it reads on into foreign memory and can crash the
    process. Its reads past the data are bounded, though. Per symbol: the state refill in
    ``Rans64DecAdvance`` reads at most one 32-bit word; a bypass (out-of-table) value reads
    4-bit chunks, first a count continued while a chunk is 15, then that many value chunks.
    Past the data only zero words come in, and the state (< 2**63) holds at most 8 chunks
    before its first refill, after which every chunk is 0: so at most 9 count chunks (2 words)
    and 135 value chunks (17 words). That is 1 + 1 + 2 + 17 = 21 words per symbol. Chunks of 15
    read from the data itself (2 per byte, plus 16 from the initial state) add at most
    15 value chunks each: 15 bytes per data byte, plus 120.
    """
    return stream + bytes(84 * num_symbols + 16 * len(stream) + 256)


def scale_indexes(conditional: GaussianConditional, scales: Tensor) -> Tensor:
    """``conditional.build_indexes(scales)``, bit for bit, in one binary search per scale.

    compressai's ``build_indexes`` starts from the last index and subtracts one for every entry
    of the scale table but the last that is >= the scale: a full pass per entry (63 with the
    default table). That is the number of those entries < the scale, a left ``searchsorted``.
    The table is cast to the scales' dtype, as compressai's comparisons with a 0-dim table entry
    do.
    """
    scales = conditional.lower_bound_scale(scales)
    table = conditional.scale_table[:-1].to(scales.dtype)
    return torch.searchsorted(table, scales, out_int32=True)


def check_streams(streams: list[bytes], expected: int) -> None:
    """Refuse a stream list of the wrong count, or with a stream rANS cannot have written.

    Raises:
        BitstreamError: ``len(streams) != expected``, or a stream's length is impossible.
    """
    if len(streams) != expected:
        raise BitstreamError(f"expected {expected} streams, got {len(streams)}")
    if any(len(s) < 8 or len(s) % 4 for s in streams):
        # rANS64 writes 32-bit words and flushes an 8-byte state: anything else is corrupt.
        raise BitstreamError("entropy-coded stream of impossible length")


def encode_hyper_latent(bottleneck: EntropyBottleneck, z: Tensor) -> tuple[bytes, Tensor]:
    """Code ``z`` (1, C, h, w); returns its stream and ``z_hat`` exactly as the decoder gets it."""
    strings = bottleneck.compress(z)
    return strings[0], bottleneck.decompress(strings, z.shape[-2:])


def decode_hyper_latent(
    bottleneck: EntropyBottleneck, stream: bytes, channels: int, hw: tuple[int, int]
) -> Tensor:
    """``z_hat`` (1, channels, *hw) from its stream (bounded reads)."""
    z_hat: Tensor = bottleneck.decompress([bounded(stream, channels * hw[0] * hw[1])], hw)
    return z_hat


def encode_tiles(
    conditional: GaussianConditional,
    y: Tensor,
    tile: int,
    params: TileParams,
    decoded: Tensor | None = None,
) -> list[bytes]:
    """One stream per ``tile``-latent tile of ``y`` (1, C, h, w), in row-major order.

    If ``decoded`` (shaped like ``y``) is given, it receives what the decoder will get: y
    rounded around the means, tile by tile, so ``params`` of a tile may read the tiles before it.
    """
    streams: list[bytes] = []
    for window in tile_windows(y.size(2), y.size(3), tile):
        indexes, means = params(window)
        y_tile = crop_window(y, window)
        streams += conditional.compress(y_tile, indexes, means=means)
        if decoded is not None:
            crop_window(decoded, window).copy_(conditional.quantize(y_tile, "dequantize", means))
    return streams


def decode_tiles(
    conditional: GaussianConditional,
    streams: list[bytes],
    out: Tensor,
    tile: int,
    params: TileParams,
) -> None:
    """Decode the streams of :func:`encode_tiles` into ``out`` (1, C, h, w), in place.

    Tiles are decoded in order, so ``params`` of a tile may read the tiles before it in ``out``.
    """
    windows = list(tile_windows(out.size(2), out.size(3), tile))
    if len(windows) != len(streams):
        raise BitstreamError(f"{len(streams)} tile streams for {len(windows)} tiles")
    for window, stream in zip(windows, streams):
        indexes, means = params(window)
        decoded = conditional.decompress([bounded(stream, indexes.numel())], indexes, means=means)
        crop_window(out, window).copy_(decoded.to(out.dtype))

