"""Tiles: run fully convolutional transforms window by window in bounded memory.

A transform applied to a window of its input, with enough context (``margin``) on every
side, gives the same centre as the whole-image pass: the margin covers the receptive field, and
windows start on the stride grid, so the stride phases line up. Only the working memory of one
window is needed, whatever the image size. At the image border the window is clipped rather
than padded, so the transform pads there exactly as the whole-image pass does.

The same grid splits the latent ``y`` into independently entropy-coded tiles (one stream each)
so that coding, too, works on one tile at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import NamedTuple

import torch
from torch import Tensor

__all__ = [
    "Window",
    "tile_windows",
    "num_tiles",
    "crop_window",
    "map_window",
    "window_map",
    "tiled_map",
]


class Window(NamedTuple):
    """A rectangle ``[top, bottom) x [left, right)`` on a grid."""

    top: int
    bottom: int
    left: int
    right: int

    def scaled(self, scale: Fraction) -> Window:
        """The same rectangle on a grid ``scale`` times finer; must land on whole cells."""
        edges = [edge * scale for edge in self]
        if any(edge.denominator != 1 for edge in edges):
            raise ValueError(f"{self} does not lie on the grid of scale {scale}")
        return Window(*(int(edge) for edge in edges))

    def relative_to(self, outer: Window) -> Window:
        """This rectangle in the coordinates of ``outer`` (which contains it)."""
        return Window(
            self.top - outer.top, self.bottom - outer.top,
            self.left - outer.left, self.right - outer.left,
        )

    def grown(self, margin: int, height: int, width: int) -> Window:
        """Grown by ``margin`` on every side, clipped to ``height`` x ``width``."""
        return Window(
            max(self.top - margin, 0),
            min(self.bottom + margin, height),
            max(self.left - margin, 0),
            min(self.right + margin, width),
        )


def tile_windows(height: int, width: int, tile: int) -> Iterator[Window]:
    """Row-major tiles of side ``tile`` covering ``height`` x ``width``; the last row/column may be smaller."""
    for top in range(0, height, tile):
        for left in range(0, width, tile):
            yield Window(top, min(top + tile, height), left, min(left + tile, width))


def num_tiles(height: int, width: int, tile: int) -> int:
    """How many windows :func:`tile_windows` yields."""
    return -(-height // tile) * -(-width // tile)


def crop_window(x: Tensor, window: Window) -> Tensor:
    """The ``window`` of (N, C, H, W) (a view)."""
    return x[..., window.top : window.bottom, window.left : window.right]


def map_window(
    transform: Callable[[Tensor], Tensor],
    x: Tensor,
    window: Window,
    scale: Fraction,
    margin: int,
) -> Tensor:
    """The output of ``transform`` over ``window`` of ``x``, computed from the window plus context.

    Args:
        transform: Maps (1, C, h, w) to (1, C', h * scale, w * scale).
        x: Input (1, C, H, W).
        window: The region of ``x`` whose output is wanted.
        scale: Output size over input size (1/16 for an analysis transform, 16 for synthesis).
        margin: Context added around the window, in input units; covers the receptive field
            radius. With ``scale < 1``, window edges and margin must be multiples of
            ``1 / scale`` so the context stays on the stride grid.

    Returns:
        (1, C', window height * scale, window width * scale).
    """
    context = window.grown(margin, x.size(-2), x.size(-1))
    out = transform(crop_window(x, context))
    return crop_window(out, window.relative_to(context).scaled(scale))


def window_map(
    transform: Callable[[Tensor], Tensor],
    x: Tensor,
    scale: Fraction,
    tile: int,
    margin: int,
) -> Callable[[Window], Tensor]:
    """``window -> map_window(transform, x, window, scale, margin)`` for the tiles of ``x``.

    When ``x`` is no larger than one tile with its context (``tile + 2 * margin`` on each
    side), ``transform`` runs once on the whole of ``x`` and every window is cropped from that
    output: no more memory than one window, and no context computed twice (a window's context
    overlaps its neighbours'). Otherwise each window is computed with its context when asked for.

    Args:
        transform: Maps (1, C, h, w) to (1, C', h * scale, w * scale).
        x: Input (1, C, H, W).
        scale: Output size over input size.
        tile: Side of the tiles whose windows will be asked for, in input units.
        margin: Context around each window, in input units (see :func:`map_window`).

    Returns:
        A function of a window of ``x`` giving (1, C', window height * scale, window width *
        scale); the same values either way for integer-exact transforms (up to floating-point
        summation order otherwise).
    """
    height, width = x.shape[-2:]
    if height <= tile + 2 * margin and width <= tile + 2 * margin:
        out = transform(x)
        return lambda window: crop_window(out, window.scaled(scale))
    return lambda window: map_window(transform, x, window, scale, margin)


def tiled_map(
    transform: Callable[[Tensor], Tensor],
    x: Tensor,
    scale: Fraction,
    tile: int,
    margin: int,
) -> Tensor:
    """Apply a fully convolutional ``transform`` tile by tile (see :func:`map_window`).

    Args:
        transform: Maps (1, C, h, w) to (1, C', h * scale, w * scale).
        x: Input (1, C, H, W).
        scale: Output size over input size.
        tile: Tile side in input units; with ``scale < 1``, a multiple of ``1 / scale``.
        margin: Context around each tile, in input units (see :func:`map_window`).

    Returns:
        The output (1, C', H * scale, W * scale), equal to ``transform(x)`` up to floating-point
        summation order (exactly equal for integer-exact transforms).
    """
    if x.size(0) != 1:
        raise ValueError("tiled_map takes one image at a time")
    height, width = x.shape[-2:]
    if height <= tile and width <= tile:
        return transform(x)
    out: Tensor | None = None
    for window in tile_windows(height, width, tile):
        y = map_window(transform, x, window, scale, margin)
        if out is None:
            out_hw = (int(height * scale), int(width * scale))
            out = torch.empty(1, y.size(1), *out_hw, dtype=y.dtype, device=y.device)
        crop_window(out, window.scaled(scale)).copy_(y)
    assert out is not None
    return out
