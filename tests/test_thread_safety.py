"""One :class:`Codec` shared by several threads gives the bytes and pixels of serial calls."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import pytest
import torch
from neuralcodec_testing import make_tiny_image
from PIL import Image

from neuralcodec import Codec

T = TypeVar("T")
THREADS = 6


@pytest.fixture
def fast_switching() -> Iterator[None]:
    """Switch threads every microsecond (default 5 ms), so calls interleave as much as possible."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def jobs() -> list[tuple[Image.Image, float]]:
    images = [make_tiny_image(seed=i) for i in range(3)]
    rgba = images[0].copy()
    rgba.putalpha(128)
    images += [images[1].convert("L"), rgba, images[2].convert("P", palette=Image.Palette.ADAPTIVE)]
    return [(image, quality) for image in images for quality in (1.0, 3.5, 8.0)]


def concurrently(function: Callable[[int], T], count: int) -> list[T]:
    """``function(i)`` for every i, from THREADS threads released together."""
    barrier = threading.Barrier(THREADS)

    def start(i: int) -> T:
        if i < THREADS:
            barrier.wait()
        return function(i)

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(start, range(count)))


@pytest.mark.usefixtures("fast_switching")
def test_concurrent_calls_match_serial_calls(tiny_codec: Codec) -> None:
    work = jobs()
    serial = [tiny_codec.encode(image, quality) for image, quality in work]
    serial_pixels = [np.asarray(tiny_codec.decode(data)) for data in serial]
    serial_latents = [tiny_codec.decode_latents(data) for data in serial]
    for _ in range(2):
        encoded = concurrently(lambda i: tiny_codec.encode(*work[i]), len(work))
        assert encoded == serial
        decoded = concurrently(lambda i: np.asarray(tiny_codec.decode(serial[i])), len(work))
        assert all(np.array_equal(a, b) for a, b in zip(decoded, serial_pixels))
        # Encodes and decodes mixed in one pool.
        mixed = concurrently(
            lambda i: tiny_codec.encode(*work[i // 2]) if i % 2 else tiny_codec.decode_latents(serial[i // 2]),
            2 * len(work),
        )
        for i, result in enumerate(mixed):
            if i % 2:
                assert result == serial[i // 2]
            else:
                assert isinstance(result, torch.Tensor)
                assert torch.equal(result, serial_latents[i // 2])
