"""Check that one shared :class:`neuralcodec.Codec` is thread-safe with real weights.

``python -m eval.studies.concurrency [--codec hyperprior] [--threads 4] [--images N] [--size 256]``
encodes and decodes crops of the sample photo and of Kodak (``$NEURALCODEC_DATA`` or
../shared/data) at several qualities, serially and then from ``--threads`` threads sharing one
Codec, and reports whether bytes and pixels are identical, with the wall time of each pass.
The unit test (tests/test_thread_safety.py) does the same with the tiny random codec.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch
from PIL import Image

from neuralcodec import Codec

__all__ = ["main"]

T = TypeVar("T")
_QUALITIES = (1.0, 3.5, 6.0, 8.0)
_SAMPLE = Path(__file__).resolve().parents[2] / "tests" / "data" / "sample.png"


def _images(count: int, size: int) -> list[Image.Image]:
    root = Path(os.environ.get("NEURALCODEC_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
    paths = [_SAMPLE, *sorted((root / "kodak").glob("*.png"))][:count]
    return [Image.open(p).convert("RGB").crop((0, 0, size, size)) for p in paths]


def _timed(function: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.studies.concurrency", description=__doc__.split("\n\n")[1])
    parser.add_argument("--codec", default="hyperprior")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--size", type=int, default=256, help="square crop side in pixels")
    parser.add_argument("--torch-threads", type=int, default=1, help="intra-op threads per call")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.torch_threads)
    codec = Codec(args.codec)
    work = [(image, q) for image in _images(args.images, args.size) for q in _QUALITIES]
    serial, encode_s = _timed(lambda: [codec.encode(image, q) for image, q in work])
    pixels, decode_s = _timed(lambda: [np.asarray(codec.decode(data)) for data in serial])
    with ThreadPoolExecutor(args.threads) as pool:
        threaded, t_encode_s = _timed(lambda: list(pool.map(lambda job: codec.encode(*job), work)))
        t_pixels, t_decode_s = _timed(lambda: list(pool.map(lambda d: np.asarray(codec.decode(d)), serial)))
    same_bytes = sum(a == b for a, b in zip(serial, threaded))
    same_pixels = sum(np.array_equal(a, b) for a, b in zip(pixels, t_pixels))
    print(f"{args.codec}: {len(work)} encodes + decodes of {args.size}x{args.size} crops, "
          f"{args.threads} threads sharing one Codec, {args.torch_threads} torch thread(s) each")
    print(f"identical bytes:  {same_bytes}/{len(work)}")
    print(f"identical pixels: {same_pixels}/{len(work)}")
    print(f"serial:   encode {encode_s:.2f} s, decode {decode_s:.2f} s")
    print(f"threaded: encode {t_encode_s:.2f} s, decode {t_decode_s:.2f} s")
    return 0 if same_bytes == same_pixels == len(work) else 1


if __name__ == "__main__":
    sys.exit(main())
