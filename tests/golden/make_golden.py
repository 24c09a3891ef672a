"""Write the golden ``.ncc`` files of ``tests/test_golden.py``, made with the shipped weights.

Each case is a small crop of ``tests/data/sample.png`` (odd sizes, so padding and cropping
run) coded through the public API, stored with what decoding it must give:

* ``<name>.ncc``: the file;
* ``<name>.latents.npz``: ``neuralcodec.latents(data)``'s ``y_hat`` and ``z_hat``, float32
  as decoded (integer symbols plus the exact fixed-point means or the medians), compared bit
  for bit;
* ``<name>.png``: ``neuralcodec.decode(data)``, compared within the tolerance in the test.

When to run it: never, except to add a case (a new codec, weights release or container
version). It writes only the cases whose ``.ncc`` is missing and keeps every existing file:
an old file that no longer decodes to its stored latents and pixels is a broken promise to
users, not a file to regenerate. Run it from the repository root::

    .venv/bin/python tests/golden/make_golden.py
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

GOLDEN = Path(__file__).resolve().parent
SAMPLE = GOLDEN.parent / "data" / "sample.png"

__all__ = ["GOLDEN", "CASES", "GoldenCase", "source_image", "main"]


class GoldenCase(NamedTuple):
    """One golden file: how it was made, which is also what its header must say."""

    name: str
    codec: str
    quality: float
    weights_id: str  # the release that encodes it: 8 hex digits, written out (not "current")
    mode: str  # "RGB" or "RGBA" (a synthetic alpha plane)
    box: tuple[int, int, int, int]  # crop of sample.png: (left, top, right, bottom)


CASES: tuple[GoldenCase, ...] = (
    GoldenCase("hyperprior-q1-67x45", "hyperprior", 1.0, "de944346", "RGB", (220, 170, 287, 215)),
    GoldenCase("hyperprior-q8-67x45", "hyperprior", 8.0, "de944346", "RGB", (220, 170, 287, 215)),
    GoldenCase("hyperprior-q3.5-rgba-45x31", "hyperprior", 3.5, "de944346", "RGBA", (101, 53, 146, 84)),
    GoldenCase("hyperprior-583ecc69-q3-67x45", "hyperprior", 3.0, "583ecc69", "RGB", (220, 170, 287, 215)),
    GoldenCase("gan-q1-67x45", "gan", 1.0, "a2088ac0", "RGB", (220, 170, 287, 215)),
    GoldenCase("hyperprior-337f0360-q4-67x45", "hyperprior", 4.0, "337f0360", "RGB", (220, 170, 287, 215)),
    GoldenCase(
        "channel-conditional-q4-67x45", "channel-conditional", 4.0, "1d511ea5", "RGB", (220, 170, 287, 215)
    ),
    GoldenCase(
        "channel-conditional-q2.5-rgba-45x31", "channel-conditional", 2.5, "1d511ea5", "RGBA", (101, 53, 146, 84)
    ),
    GoldenCase("hyperprior-f745b009-q6-67x45", "hyperprior", 6.0, "f745b009", "RGB", (220, 170, 287, 215)),
    GoldenCase(
        "channel-conditional-cdc1c148-q3-67x45", "channel-conditional", 3.0, "cdc1c148", "RGB",
        (220, 170, 287, 215),
    ),
    GoldenCase("hyperprior-523e2bd0-q7-67x45", "hyperprior", 7.0, "523e2bd0", "RGB", (220, 170, 287, 215)),
    GoldenCase(
        "channel-conditional-5d1f3a69-q5-67x45", "channel-conditional", 5.0, "5d1f3a69", "RGB",
        (220, 170, 287, 215),
    ),
)


def source_image(case: GoldenCase) -> Image.Image:
    """The crop of sample.png that ``case`` codes; RGBA adds a radial alpha ramp (0 to 255)."""
    image = Image.open(SAMPLE).convert("RGB").crop(case.box)
    if case.mode == "RGBA":
        height, width = image.height, image.width
        yy, xx = np.mgrid[0:height, 0:width]
        radius = np.hypot((xx - width / 2) / width, (yy - height / 2) / height)
        image.putalpha(Image.fromarray((255 * (1 - radius / radius.max())).round().astype(np.uint8), "L"))
    return image


def _encode(case: GoldenCase) -> bytes:
    """``neuralcodec.encode`` for the current release, ``Codec(weights=...)`` for an earlier one."""
    import neuralcodec
    from neuralcodec import registry

    image = source_image(case)
    if str(registry.get(case.codec).sha256).startswith(case.weights_id):
        return neuralcodec.encode(image, quality=case.quality, codec=case.codec)
    return neuralcodec.Codec(case.codec, weights=case.weights_id).encode(image, case.quality)


def main() -> None:
    """Write the files of every case whose ``.ncc`` is missing; keep the others."""
    import neuralcodec
    from neuralcodec.fileinfo import read_info

    for case in CASES:
        path = GOLDEN / f"{case.name}.ncc"
        if path.exists():
            print(f"kept    {path.name}")
            continue
        data = _encode(case)
        info = read_info(data)
        assert (info.codec, info.quality, info.weights_id) == (case.codec, case.quality, case.weights_id), info
        latents = neuralcodec.latents(data)
        np.savez_compressed(
            GOLDEN / f"{case.name}.latents.npz",
            y_hat=latents.y_hat.numpy(),  # (1, M, h, w) float32
            z_hat=latents.z_hat.numpy(),  # (1, N, h/4, w/4) float32
        )
        neuralcodec.decode(data).save(GOLDEN / f"{case.name}.png", optimize=True)
        path.write_bytes(data)
        print(f"wrote   {path.name} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
