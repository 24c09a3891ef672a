"""Defaults shared by the API and the command line, importable without torch (for ``--help``)."""

from __future__ import annotations

__all__ = ["DEFAULT_MAX_PIXELS", "DEFAULT_TILE_SIZE"]

#: Largest image (in pixels) encoded or decoded unless the caller raises the limit.
DEFAULT_MAX_PIXELS = 2**26
#: Side of the tiles (pixels) that bound memory; larger images get larger tiles when a file
#: would otherwise need more streams than the container holds.
DEFAULT_TILE_SIZE = 1024
