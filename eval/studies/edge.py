"""``python -m eval.studies.edge``: the edge-encoder trade-off report (``eval/reports/edge/``).

Every encoder variant replaces the shipped codec's ``g_a`` and is decoded by the shipped
decoder. For each variant this measures

- **cost** on this CPU: parameters, MACs of the convolutions (``torch.utils.flop_counter`` on a
  768x512 image; elementwise GDN work not counted), file size of the artifact, ``g_a`` latency
  and full-encode latency (``Codec.encode``: g_a, gain, h_a, integer h_s, rANS, container) for
  one Kodak image, minimum over repeats at a fixed thread count, all variants timed in turn in
  one process (:func:`interleaved_latency`), and the peak resident memory of a fresh process
  that loads the codec and the variant and encodes that image once;
- **rate-distortion** on the 24 Kodak images: real files from ``Codec.encode`` with the variant,
  decoded by the normal decoder, whole-file bpp and PSNR-RGB at each quality; BD-rate against
  the shipped fp32 encoder (``eval.rd.bdrate.bd_rate``); files byte-identical to the fp32
  encoder's, and, for ``onnx-fp32``, how many latent symbols (y and z) differ in the others.

Results go to ``eval/reports/edge/results/<variant>.cost.json`` and ``<variant>.rd.json``; the
report (``report.md``, ``edge.json``, ``latency-vs-bdrate.png``) is built from them.

Variants: ``fp32`` (the shipped g_a in torch: the reference), ``onnx-fp32``
(``neuralcodec.export``), ``onnx-fp16`` and ``onnx-int8`` (``train/encoders/quantize.py``, calibrated on
photos; the shipped ``weights/`` file when one is registered), and the trained students ``pruned-50`` and ``separable-96`` (``train/encoders/distill.py``): from
their registered weight files when shipped, else from ``--students`` (``train/encoders/export_encoder.py
--out build/edge/students``); a student with no file is skipped. Torch float16 / bfloat16 on
this CPU is only timed, on a 128x128 crop (:func:`torch_half_probe`, ``torch_half.json``): with
no native half-precision convolution kernels it is far too slow for the Kodak sweep.

Examples:
    python -m eval.studies.edge                       # everything, then the report
    python -m eval.studies.edge --variants onnx-int8  # re-measure one variant, keep the others' JSON
    python -m eval.studies.edge --report-only         # rebuild table and plot from the JSON
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode
from tqdm import tqdm

from eval.rd.bdrate import bd_rate
from eval.rd.codecs import load_rgb
from eval.rd.datasets import resolve
from eval.rd.report import REPORTS_DIR
from neuralcodec import edge, pixels, registry, weights
from neuralcodec.api import Codec
from neuralcodec.export import onnx_bytes
from neuralcodec.models.encoders import build_encoder, fold_gdn
from neuralcodec.metrics import psnr_uint8

__all__ = ["VARIANTS", "build_artifacts", "load_variant", "main"]

#: Variant name -> one-line description, in table order.
VARIANTS = {
    "fp32": "shipped g_a, torch float32 (reference)",
    "onnx-fp32": "shipped g_a exported to ONNX, onnxruntime float32",
    "onnx-fp16": "ONNX graph converted to float16 (onnxconverter-common), onnxruntime",
    "onnx-int8": "ONNX static int8 QDQ, per-channel weights, calibrated on 32 photo crops",
    "pruned-50": "structured channel pruning of g_a to 64/64/64 hidden channels, fine-tuned",
    "separable-96": "distilled student, depthwise-separable convs, 96 channels, from scratch",
}
_STUDENTS = ("pruned-50", "separable-96")
_OUT = REPORTS_DIR / "edge"
_STUDENT_DIR = Path(__file__).resolve().parents[2] / "build" / "edge" / "students"
_ARTIFACT_DIR = Path(__file__).resolve().parents[2] / "build" / "edge" / "variants"
_PROBE_IMAGE = "kodim01.png"
_PROBE_QUALITY = 4.0


class _LastInput(nn.Module):
    """Memoises the last call: one image coded at several qualities runs ``g_a`` once."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network
        self._key: bytes | None = None
        self._value: Tensor | None = None

    def forward(self, x: Tensor) -> Tensor:
        key = hashlib.blake2b(x.cpu().numpy().tobytes() + str(tuple(x.shape)).encode()).digest()
        if key != self._key:
            self._key, self._value = key, self.network(x)
        assert self._value is not None
        return self._value


def _shipped_file(name: str) -> Path | None:
    """The registered, installed file of variant ``name`` (torch: by architecture; ONNX: onnx-<name>)."""
    for spec in registry.ENCODERS:
        torch_match = spec.kind == "torch" and spec.architecture == name
        if spec.weights_file and (torch_match or (spec.kind == "onnx" and f"onnx-{spec.name}" == name)):
            path = weights.weights_dir() / spec.weights_file
            if path.is_file():
                return path
    return None


def _student_file(name: str, students: Path) -> Path | None:
    """The weight file of a trained student: the registered one if shipped, else the newest export."""
    shipped = _shipped_file(name)
    if shipped is not None:
        return shipped
    found = sorted(students.glob(f"*-encoder-{name}-*.safetensors"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def build_artifacts(codec: Codec, names: Sequence[str], folder: Path, students: Path,
                    calibration_images: int = 32) -> dict[str, Path]:
    """Each variant's deployable file: the shipped one if registered, else written to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    g_a = codec.model.g_a
    paths: dict[str, Path] = {}
    for name in names:
        shipped = _shipped_file(name)
        if shipped is not None:
            paths[name] = shipped
            continue
        if name in _STUDENTS:
            path = _student_file(name, students)
            if path is None:
                print(f"skipping {name}: no weights (train/encoders/distill.py, then train/encoders/export_encoder.py)",
                      file=sys.stderr)
            else:
                paths[name] = path
            continue
        target = folder / (f"{name}.onnx" if name.startswith("onnx") else f"{name}.safetensors")
        if name == "fp32":
            _write(target, save({k: v.contiguous() for k, v in g_a.state_dict().items()}))
        else:
            from train.codec.data import photo_crops
            from train.encoders.quantize import convert_fp16, quantize_int8

            fp32 = onnx_bytes(g_a, "encoder")
            if name == "onnx-fp32":
                _write(target, fp32)
            elif name == "onnx-fp16":
                _write(target, convert_fp16(fp32).SerializeToString())
            elif name == "onnx-int8":
                crops = photo_crops(calibration_images, 256)
                _write(target, quantize_int8(fp32, crops).SerializeToString())
            else:
                raise KeyError(f"unknown variant {name!r}")
        paths[name] = target
    return paths


def _write(target: Path, data: bytes) -> None:
    """Write atomically: parallel runs may write the same artifact."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    tmp.write_bytes(data)
    os.replace(tmp, target)


def load_variant(name: str, path: Path, codec: Codec, threads: int) -> nn.Module:
    """The encoder module of variant ``name`` from its artifact ``path``."""
    if name == "fp32":
        return codec.model.g_a
    if name.startswith("onnx"):
        return edge.OnnxEncoder(str(path), threads=threads)
    network = build_encoder(registry.ENCODER_ARCHITECTURES[name])
    network.load_state_dict(load_file(str(path)), strict=True)
    return fold_gdn(network.eval().requires_grad_(False))


def _torch_equivalent(name: str, codec: Codec) -> nn.Module:
    """The float32 torch network a variant computes (for parameters and MACs)."""
    if name in _STUDENTS:
        return build_encoder(registry.ENCODER_ARCHITECTURES[name])
    return codec.model.g_a


def torch_half_probe(codec: Codec, side: int = 128, repeats: int = 2) -> dict[str, float]:
    """Seconds (min over ``repeats``) of the shipped g_a on a ``side``² input per torch dtype."""
    times = {}
    for dtype in (torch.float32, torch.float16, torch.bfloat16):
        network = fold_gdn(copy.deepcopy(codec.model.g_a)).to(dtype)
        x = torch.rand(1, 3, side, side, dtype=dtype)
        runs = []
        with torch.inference_mode():
            for _ in range(repeats):
                start = time.perf_counter()
                network(x)
                runs.append(time.perf_counter() - start)
        times[str(dtype).removeprefix("torch.")] = round(min(runs), 4)
    return times


def _macs(network: nn.Module, height: int = 512, width: int = 768) -> int:
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        network(torch.rand(1, 3, height, width))
    return int(counter.get_total_flops() // 2)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def probe(name: str, path: Path, image: Path, threads: int, repeats: int) -> dict[str, Any]:
    """Latency and memory of one variant, in this (fresh) process."""
    torch.set_num_threads(threads)
    codec = Codec("hyperprior")
    network = load_variant(name, path, codec, threads)
    coder = Codec.from_model(codec.spec, edge.with_encoder(codec.model, network), codec.weights_id)
    rgb = load_rgb(image)
    loaded = _rss_mb()
    x = pixels.pad_to_multiple(pixels.to_tensor(rgb), 16)
    g_a_s, encode_s = [], []
    with torch.inference_mode():
        for _ in range(repeats):
            start = time.perf_counter()
            network(x)
            g_a_s.append(time.perf_counter() - start)
    for _ in range(repeats):
        start = time.perf_counter()
        coder.encode(rgb, _PROBE_QUALITY)
        encode_s.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"rss_loaded_mb": round(loaded, 1), "peak_rss_mb": round(peak, 1),
            "g_a_s": [round(t, 4) for t in g_a_s], "encode_s": [round(t, 4) for t in encode_s]}


def interleaved_latency(names: Sequence[str], artifacts: dict[str, Path], reference: Codec,
                        image: Path, threads: int, rounds: int) -> dict[str, dict[str, list[float]]]:
    """g_a and full-encode seconds of every variant, timed in turn, ``rounds`` times, in one process.

    Round-robin timing spreads the load of a shared machine evenly over the variants, where
    one process per variant would time each under whatever load ran at that moment.
    """
    rgb = load_rgb(image)
    x = pixels.pad_to_multiple(pixels.to_tensor(rgb), 16)
    coders = {}
    for name in names:
        network = load_variant(name, artifacts[name], reference, threads)
        coder = Codec.from_model(reference.spec, edge.with_encoder(reference.model, network),
                                 reference.weights_id)
        coders[name] = (network, coder)
    times: dict[str, dict[str, list[float]]] = {n: {"g_a_s": [], "encode_s": []} for n in names}
    with torch.inference_mode():
        for network, _ in coders.values():
            network(x)  # warm-up (onnxruntime allocates its arena on the first run)
    for _ in tqdm(range(rounds), desc="latency", unit="round", leave=False):
        for name, (network, coder) in coders.items():
            with torch.inference_mode():
                start = time.perf_counter()
                network(x)
                times[name]["g_a_s"].append(round(time.perf_counter() - start, 4))
            start = time.perf_counter()
            coder.encode(rgb, _PROBE_QUALITY)
            times[name]["encode_s"].append(round(time.perf_counter() - start, 4))
    return times


def _run_probe(name: str, path: Path, image: Path, threads: int, repeats: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "eval.studies.edge", "--probe", name, "--artifact", str(path),
               "--image", str(image), "--threads", str(threads), "--repeats", str(repeats)]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run(command, capture_output=True, text=True, check=True, env=env,
                         cwd=Path(__file__).resolve().parents[2])
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def rate_distortion(name: str, network: nn.Module, reference: Codec, paths: Sequence[Path],
                    qualities: Sequence[float], count_symbols: bool) -> dict[str, Any]:
    """Real files of ``network`` on ``paths`` x ``qualities``, decoded by ``reference``.

    With ``count_symbols``, the fp32 encoder's file is made too, and where the two differ the
    latent symbols (y and z) that differ are counted after entropy decoding both.
    """
    coder = Codec.from_model(reference.spec, edge.with_encoder(reference.model, _LastInput(network)),
                             reference.weights_id)
    anchor = Codec.from_model(reference.spec, edge.with_encoder(reference.model, _LastInput(reference.model.g_a)),
                              reference.weights_id)
    rows = []
    for path in tqdm(paths, desc=name, unit="img", leave=False):
        rgb = load_rgb(path)
        decoded: dict[bytes, float] = {}
        for quality in qualities:
            data = coder.encode(rgb, quality)
            digest = hashlib.sha256(data).digest()
            row: dict[str, Any] = {
                "image": path.name, "quality": quality, "num_bytes": len(data),
                "bpp": len(data) * 8 / (rgb.shape[0] * rgb.shape[1]), "sha256": digest.hex(),
            }
            if count_symbols:
                base = anchor.encode(rgb, quality)
                row["identical_to_fp32"] = base == data
                if base != data:
                    ours, theirs = reference.latents(data), reference.latents(base)
                    row["y_symbols_differ"] = int((ours.y_hat != theirs.y_hat).sum())
                    row["z_symbols_differ"] = int((ours.z_hat != theirs.z_hat).sum())
                    row["y_symbols"] = int(ours.y_hat.numel())
            if digest not in decoded:
                decoded[digest] = psnr_uint8(rgb, np.asarray(reference.decode(data).convert("RGB")))
            row["psnr"] = decoded[digest]
            rows.append(row)
    return {"curve": _curve(rows, qualities), "rows": rows}


def _curve(rows: Sequence[dict[str, Any]], qualities: Sequence[float]) -> dict[str, list[float]]:
    """Mean bpp and PSNR per quality over the rows."""
    curve: dict[str, list[float]] = {"quality": list(qualities), "bpp": [], "psnr": []}
    for quality in qualities:
        group = [r for r in rows if r["quality"] == quality]
        curve["bpp"].append(statistics.fmean(r["bpp"] for r in group))
        curve["psnr"].append(statistics.fmean(r["psnr"] for r in group))
    return curve


def _compare(result: dict[str, Any], reference: dict[str, Any]) -> tuple[float, int, int]:
    """BD-rate against the fp32 rows of the same images and qualities, and identical files."""
    rows = result["rd"]["rows"]
    by_key = {(r["image"], r["quality"]): r for r in reference["rd"]["rows"]}
    missing = [(r["image"], r["quality"]) for r in rows if (r["image"], r["quality"]) not in by_key]
    if missing:
        raise ValueError(f"the fp32 reference lacks {missing[:3]}...: run it on the same images")
    matched = [by_key[(r["image"], r["quality"])] for r in rows]
    qualities = result["rd"]["curve"]["quality"]
    ref, ours = _curve(matched, qualities), result["rd"]["curve"]
    identical = sum(a["sha256"] == b["sha256"] for a, b in zip(rows, matched))
    return bd_rate(ref["bpp"], ref["psnr"], ours["bpp"], ours["psnr"]), identical, len(rows)


def _bd_text(bd: float) -> str:
    return "no overlap (PSNR below the fp32 range)" if math.isnan(bd) else f"{bd:+.2f} %"


def load_results(folder: Path) -> dict[str, dict[str, Any]]:
    """Each variant with both ``<name>.rd.json`` and ``<name>.cost.json``, merged, in table order."""
    results = {}
    for name in VARIANTS:
        rd, cost = folder / f"{name}.rd.json", folder / f"{name}.cost.json"
        if rd.is_file() and cost.is_file():
            results[name] = {**json.loads(rd.read_text()), "cost": json.loads(cost.read_text())}
    return results


def write_report(out: Path) -> Path:
    """Table (``report.md``, ``edge.json``) and plot from ``out/results/*.json``; returns the report path."""
    results = load_results(out / "results")
    if "fp32" not in results:
        raise FileNotFoundError(f"no fp32 reference in {out / 'results'}")
    compared = {name: _compare(r, results["fp32"]) for name, r in results.items()}
    lines = [
        "# Edge encoders: cost on this CPU against rate-distortion on Kodak", "",
        "Generated by `python -m eval.studies.edge` (do not edit). Each variant replaces the shipped "
        "`hyperprior` codec's g_a; files are decoded by the shipped decoder.", "",
        "| variant | params | MACs (G) | file (MB) | g_a latency (s) | encode latency (s) | peak RSS (MB) "
        "| BD-rate vs fp32 | identical files | Kodak images | description |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    summary = {}
    for name, r in results.items():
        cost = r["cost"]
        bd, identical, files = compared[name]
        summary[name] = {**cost, "bd_rate_psnr": None if math.isnan(bd) else bd, "identical_files": identical, "files": files,
                         "images": r["meta"]["images"], "qualities": r["meta"]["qualities"],
                         "load": r["meta"]["load"], "curve": r["rd"]["curve"], "artifact": r["artifact"]}
        lines.append(
            f"| {name} | {cost['params'] / 1e6:.2f} M | {cost['macs'] / 1e9:.2f} | "
            f"{cost['file_bytes'] / 1e6:.2f} | {min(cost['g_a_s']):.3f} | {min(cost['encode_s']):.3f} | "
            f"{cost['peak_rss_mb']:.0f} | {_bd_text(bd)} | {identical}/{files} | {r['meta']['images']} "
            f"| {VARIANTS[name]} |"
        )
    meta = results["fp32"]["meta"]
    lines += [
        "", f"Kodak: the first N images (column 'Kodak images') at qualities "
        f"{', '.join(f'{q:g}' for q in meta['qualities'])} (whole-file bpp, PSNR-RGB on the 8-bit "
        "decoded image); BD-rate: against the fp32 encoder's files of the same images and "
        "qualities, pchip over the overlapping PSNR range, negative = fewer bits at equal PSNR. "
        f"Latency: minimum over {results['fp32']['cost']['repeats']} rounds on {_PROBE_IMAGE} (768x512) at "
        f"{meta['threads']} thread(s) (torch and onnxruntime), the variants timed in turn in one process, on "
        f"{meta['cpu']} shared with other jobs (load average {results['fp32']['cost']['load']} at the "
        "start): compare rows, not absolute times; encode = "
        f"`Codec.encode` at q={_PROBE_QUALITY:g}. Peak RSS: the maximum resident set of a fresh "
        "process per variant (codec + variant loaded, image encoded once). MACs: convolutions only, 768x512 input.", "",
        "## Rate-distortion points", "",
        "| variant | " + " | ".join(f"q={q:g} bpp / PSNR" for q in meta["qualities"]) + " |",
        "|---|" + "---|" * len(meta["qualities"]),
    ]
    for name, r in results.items():
        c = r["rd"]["curve"]
        lines.append(f"| {name} | " + " | ".join(f"{b:.4f} / {p:.2f}" for b, p in zip(c["bpp"], c["psnr"])) + " |")
    if "onnx-fp32" in results:
        rows = results["onnx-fp32"]["rd"]["rows"]
        differing = [r for r in rows if not r["identical_to_fp32"]]
        lines += ["", "## ONNX fp32 against torch fp32", "",
                  f"{len(rows) - len(differing)} of {len(rows)} files byte-identical "
                  f"({results['onnx-fp32']['meta']['images']} images x "
                  f"{len(results['onnx-fp32']['meta']['qualities'])} qualities)."]
        if differing:
            lines += ["", "| image | quality | y symbols differing | z symbols differing |", "|---|---|---|---|"]
            for r in differing:
                lines.append(f"| {r['image']} | {r['quality']:g} | {r.get('y_symbols_differ')} of "
                             f"{r.get('y_symbols')} | {r.get('z_symbols_differ')} |")
    half_path = out / "torch_half.json"
    if half_path.is_file():
        half = json.loads(half_path.read_text())
        seconds = half["seconds"]
        lines += ["", "## Half precision in torch on this CPU", "",
                  f"The shipped g_a on a {half['side']}x{half['side']} crop, {half['threads']} thread(s), "
                  "min over 2 runs: " + ", ".join(f"{k} {v:.3f} s" for k, v in seconds.items()) +
                  f" ({seconds['float16'] / seconds['float32']:.0f}x slower in float16): no native "
                  "half-precision convolutions here, so torch fp16 is not in the Kodak sweep; "
                  "onnx-fp16 is the half-precision variant."]
    out.mkdir(parents=True, exist_ok=True)
    (out / "edge.json").write_text(json.dumps({"meta": meta, "variants": summary}, indent=2) + "\n")
    _plot(summary, out / "latency-vs-bdrate.png")
    lines += ["", "![latency vs BD-rate](latency-vs-bdrate.png)", ""]
    report = out / "report.md"
    report.write_text("\n".join(lines))
    return report


def _plot(summary: dict[str, dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    skipped = []
    for name, s in summary.items():
        latency, bd = min(s["g_a_s"]), s["bd_rate_psnr"]
        if bd is None:
            skipped.append(name)
            continue
        ax.scatter(latency, bd)
        ax.annotate(name, (latency, bd), textcoords="offset points", xytext=(4, 4), fontsize=8)
    if skipped:
        ax.text(0.02, 0.98, f"not shown (no PSNR overlap): {', '.join(skipped)}",
                transform=ax.transAxes, va="top", fontsize=8)
    ax.axhline(0, color="gray", lw=0.5)
    ax.set_xlabel("g_a latency, one Kodak image (s, min over repeats)")
    ax.set_ylabel("BD-rate vs fp32 encoder (%, PSNR)")
    ax.set_title("Edge encoders: speed vs rate-distortion cost")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def main(argv: Sequence[str] | None = None) -> int:
    """Measure the variants and write the report; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m eval.studies.edge", description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset")
    parser.add_argument("--qualities", default="1,4,8", help="Kodak qualities (default 1,4,8)")
    parser.add_argument("--limit", type=int, help="only the first N Kodak images")
    parser.add_argument("--threads", type=int, default=1, help="torch and onnxruntime threads (1)")
    parser.add_argument("--repeats", type=int, default=5, help="latency repeats (5)")
    parser.add_argument("--students", type=Path, default=_STUDENT_DIR)
    parser.add_argument("--out", type=Path, default=_OUT)
    parser.add_argument("--jobs", type=int, default=1, help="parallel rate-distortion processes (1)")
    parser.add_argument("--rd-only", action="store_true", help="skip the cost probes (use stored ones)")
    parser.add_argument("--cost-only", action="store_true", help="only the cost probes")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    parser.add_argument("--artifact", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--image", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    if args.probe:
        print(json.dumps(probe(args.probe, args.artifact, args.image, args.threads, args.repeats)))
        return 0
    if args.report_only:
        print(write_report(args.out))
        return 0
    names = [n.strip() for n in args.variants.split(",") if n.strip()]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        parser.exit(2, f"error: unknown variants {unknown}; known: {', '.join(VARIANTS)}\n")
    torch.set_num_threads(args.threads)
    qualities = [float(q) for q in args.qualities.split(",")]
    paths = list(resolve("kodak", limit=args.limit).paths)
    image = next((p for p in paths if p.name == _PROBE_IMAGE), paths[0])
    reference = Codec("hyperprior")
    artifacts = build_artifacts(reference, names, _ARTIFACT_DIR, args.students)
    (args.out / "results").mkdir(parents=True, exist_ok=True)
    if "fp32" in names and not args.rd_only:
        half = {"side": 128, "threads": args.threads, "seconds": torch_half_probe(reference)}
        (args.out / "torch_half.json").write_text(json.dumps(half, indent=2) + "\n")
    results = args.out / "results"
    if not args.rd_only:  # costs first, one variant at a time, so the timings do not overlap
        for name in names:
            if name not in artifacts:
                continue
            path = artifacts[name]
            cost = _run_probe(name, path, image, args.threads, 1)  # memory; latency below
            network = _torch_equivalent(name, reference)
            cost.update(params=sum(p.numel() for p in network.parameters()), macs=_macs(network),
                        file_bytes=path.stat().st_size, load=f"{os.getloadavg()[0]:.1f}",
                        repeats=args.repeats, threads=args.threads)
            (results / f"{name}.cost.json").write_text(json.dumps(cost, indent=2) + "\n")
            print(f"{name}: peak {cost['peak_rss_mb']:.0f} MB", file=sys.stderr)
        timed = [n for n in names if n in artifacts]
        load = f"{os.getloadavg()[0]:.1f}"
        for name, latency in interleaved_latency(timed, artifacts, reference, image, args.threads,
                                                 args.repeats).items():
            cost = json.loads((results / f"{name}.cost.json").read_text())
            cost.update(latency, load=load)
            (results / f"{name}.cost.json").write_text(json.dumps(cost, indent=2) + "\n")
            print(f"{name}: g_a {min(cost['g_a_s']):.3f} s, encode {min(cost['encode_s']):.3f} s",
                  file=sys.stderr)
    todo = [n for n in names if n in artifacts and not args.cost_only]
    if args.jobs > 1 and len(todo) > 1:  # rate-distortion sweeps in parallel processes
        flags = ["--qualities", args.qualities, "--threads", str(args.threads), "--repeats",
                 str(args.repeats), "--students",
                 str(args.students), "--out", str(args.out), "--rd-only", "--jobs", "1"]
        flags += ["--limit", str(args.limit)] if args.limit else []
        running: list[subprocess.Popen[bytes]] = []
        for name in todo:
            while len(running) >= args.jobs:
                running = [p for p in running if p.poll() is None]
                time.sleep(1)
            running.append(subprocess.Popen([sys.executable, "-m", "eval.studies.edge", "--variants", name,
                                             *flags], cwd=Path(__file__).resolve().parents[2]))
        if any(p.wait() for p in running):
            print("a rate-distortion run failed", file=sys.stderr)
            return 1
        todo = []
    for name in todo:
        path = artifacts[name]
        variant = load_variant(name, path, reference, args.threads)
        load = f"{os.getloadavg()[0]:.1f}"
        rd = rate_distortion(name, variant, reference, paths, qualities,
                             count_symbols=name == "onnx-fp32")
        meta = {"images": len(paths), "qualities": qualities, "threads": args.threads,
                "repeats": args.repeats, "cpu": f"{_cpu_name()} ({os.cpu_count()} cores)",
                "load": load, "torch": torch.__version__}
        doc = {"meta": meta, "artifact": {"file": path.name, "sha256": weights.sha256_file(path)},
               "rd": rd}
        (results / f"{name}.rd.json").write_text(json.dumps(doc, indent=2) + "\n")
        c = rd["curve"]
        print(f"{name}: bpp {[round(b, 4) for b in c['bpp']]}, PSNR {[round(p, 2) for p in c['psnr']]}",
              file=sys.stderr)
    if "fp32" in load_results(args.out / "results"):
        print(write_report(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
