"""The rate-distortion report of one dataset, built from JSON only.

Reads ``results/<codec>.json`` (measured curves), CompressAI's published anchors,
``crops/crops.json`` and ``status.json`` (codecs skipped by the last run), and writes the plots,
``bd_rate.json``, ``report.md`` and ``report.html`` beside them. Nothing is re-measured.

Usage: ``python -m eval.rd.report --dataset kodak`` (``python -m eval.rd`` calls it after a run).
"""

from __future__ import annotations

import argparse
import html
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.rd.bdrate import bd_rate
from eval.rd.plot import PLOTS, plot_all
from eval.rd.results import PLOT_ANCHORS, load_anchor, load_results, metric

__all__ = ["REPORTS_DIR", "BD_ANCHOR", "bd_table", "build_report", "main"]

REPORTS_DIR = Path(__file__).resolve().parents[1] / "reports"
#: The BD-rate reference: CompressAI's BPG 0.9.8 4:4:4 curve.
BD_ANCHOR = "bpg_444_x265_ycbcr.json"
#: Published curves listed in the BD-rate table for context (file -> row label).
_TABLE_ANCHORS = {
    "vtm.json": "VTM (CompressAI anchor)",
    "bpg_444_x265_ycbcr.json": "BPG 4:4:4 (CompressAI anchor)",
    "compressai-mbt2018-mean_mse_cpu.json": "mbt2018-mean (CompressAI anchor)",
    "compressai-bmshj2018-hyperprior_mse_cpu.json": "bmshj2018-hyperprior (CompressAI anchor)",
    "jpeg2000.json": "JPEG 2000 (CompressAI anchor, ffmpeg)",
    "webp.json": "WebP (CompressAI anchor)",
    "jpeg.json": "JPEG (CompressAI anchor)",
}
#: Our codec -> CompressAI's curve of the same codec (sanity check of our routes).
_COUNTERPARTS = {
    "jpeg-420": "jpeg.json",
    "hevc-444": "bpg_444_x265_ycbcr.json",
    "heif-444": "bpg_444_x265_ycbcr.json",
    "jpeg2000": "jpeg2000.json",
    "webp": "webp.json",
}
#: (column title, reference, metric key, sign): reference "anchor:<file>" or "ours:<codec>".
_COLUMNS = (
    ("PSNR vs BPG444", f"anchor:{BD_ANCHOR}", "psnr-rgb", 1),
    ("MS-SSIM vs BPG444", f"anchor:{BD_ANCHOR}", "ms-ssim-rgb-db", 1),
    ("PSNR vs JPEG 2000 (ours)", "ours:jpeg2000", "psnr-rgb", 1),
    ("MS-SSIM vs JPEG 2000 (ours)", "ours:jpeg2000", "ms-ssim-rgb-db", 1),
    ("LPIPS vs JPEG 2000 (ours)", "ours:jpeg2000", "lpips", -1),
    ("PSNR vs JPEG 2000 (anchor)", "anchor:jpeg2000.json", "psnr-rgb", 1),
)


def _bd(reference: dict[str, Any] | None, test: dict[str, Any], key: str, sign: int) -> float | None:
    if reference is None:
        return None
    ref_bpp, ref_values = metric(reference, key)
    test_bpp, test_values = metric(test, key)
    value = bd_rate(ref_bpp, [sign * v for v in ref_values], test_bpp, [sign * v for v in test_values])
    return None if math.isnan(value) else round(value, 2)


def bd_table(
    results: dict[str, dict[str, Any]], anchors: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """BD-rate (percent, pchip) of every measured codec and listed anchor against the references.

    Args:
        results: Measured curves by codec name.
        anchors: Published curves by file name.

    Returns:
        Rows ``{"codec", "label", "kind", "bpp_range", <column>: percent | None, "vs same codec
        (CompressAI)": percent | None}``.
    """
    def reference(spec: str) -> dict[str, Any] | None:
        kind, name = spec.split(":", 1)
        return anchors.get(name) if kind == "anchor" else results.get(name)

    rows = []
    entries = [(name, doc, "measured") for name, doc in results.items()]
    entries += [(file, anchors[file], "anchor") for file in _TABLE_ANCHORS if file in anchors]
    for name, doc, kind in entries:
        bpp = [b for b in doc["results"]["bpp"] if b is not None]
        row: dict[str, Any] = {
            "codec": name,
            "label": doc.get("name", name) if kind == "measured" else _TABLE_ANCHORS[name],
            "kind": kind,
            "bpp_range": [round(min(bpp), 3), round(max(bpp), 3)] if bpp else None,
        }
        for title, ref, key, sign in _COLUMNS:
            row[title] = _bd(reference(ref), doc, key, sign)
        counterpart = _COUNTERPARTS.get(name) if kind == "measured" else None
        row["PSNR vs same codec (CompressAI)"] = (
            _bd(anchors.get(counterpart), doc, "psnr-rgb", 1) if counterpart else None
        )
        rows.append(row)
    return rows


def _fmt(value: Any, digits: int = 1, suffix: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:+.{digits}f}{suffix}" if suffix == " %" else f"{value:.{digits}f}{suffix}"
    return str(value)


def _timing_rows(results: dict[str, dict[str, Any]]) -> list[list[str]]:
    rows = []
    for name, doc in results.items():
        r = doc["results"]
        enc, dec = r["encoding_time"], r["decoding_time"]
        i = len(r["bpp"]) // 2
        rows.append([doc["name"], f"{r['bpp'][i]:.3f}", f"{1000 * enc[i]:.0f}", f"{1000 * dec[i]:.0f}",
                     f"{1000 * min(enc):.0f}–{1000 * max(enc):.0f}", f"{1000 * min(dec):.0f}–{1000 * max(dec):.0f}"])
    return rows


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def build_report(folder: Path, dataset: str) -> dict[str, Path]:
    """Write plots, ``bd_rate.json``, ``report.md`` and ``report.html`` for one report folder.

    Args:
        folder: ``eval/reports/<name>``, holding ``results/*.json``.
        dataset: Dataset name used to find published anchors (``kodak`` has them).

    Returns:
        The main files written, by kind.

    Raises:
        FileNotFoundError: No results in ``folder/results``.
    """
    results = load_results(folder / "results")
    if not results:
        raise FileNotFoundError(f"no results in {folder / 'results'}; run python -m eval.rd first")
    anchor_files = set(_TABLE_ANCHORS) | set(PLOT_ANCHORS) | set(_COUNTERPARTS.values())
    anchors = {f: doc for f in sorted(anchor_files) if (doc := load_anchor(dataset, f)) is not None}
    plot_anchors = {label: anchors[f] for f, label in PLOT_ANCHORS.items() if f in anchors}
    figures = plot_all(results, plot_anchors, folder.name, folder / "figures")
    table = bd_table(results, anchors)
    (folder / "bd_rate.json").write_text(json.dumps(
        {"method": "Bjontegaard delta rate, pchip interpolation of log(bpp) over the overlapping "
                   "quality range; negative = fewer bits than the reference",
         "reference_anchor": BD_ANCHOR, "rows": table}, indent=2) + "\n")
    status_path = folder / "status.json"
    status = json.loads(status_path.read_text()) if status_path.is_file() else {}
    crops_path = folder / "crops" / "crops.json"
    crops = json.loads(crops_path.read_text()) if crops_path.is_file() else None

    num_images = {doc.get("num_images") for doc in results.values()}
    columns = [c[0] for c in _COLUMNS] + ["PSNR vs same codec (CompressAI)"]
    columns = [c for c in columns if any(row[c] is not None for row in table)]  # e.g. no anchors
    bd_rows = [[row["label"], f"{row['bpp_range'][0]}–{row['bpp_range'][1]}" if row["bpp_range"] else "–"]
               + [_fmt(row[c], 1, " %") for c in columns] for row in table]
    bd_header = ["codec", "bpp range"] + columns
    timing_header = ["codec", "bpp (mid point)", "encode ms", "decode ms", "encode ms (all points)",
                     "decode ms (all points)"]
    codec_rows = [[doc["name"], doc["description"], ", ".join(f"{k} {v}" for k, v in doc["versions"].items())]
                  for doc in results.values()]
    skipped = status.get("skipped", {})
    intro = (f"Dataset **{dataset}** ({', '.join(str(n) for n in sorted(num_images, key=str))} images), "
             f"folder `{folder.name}`. Every number is a mean over the images at one quality setting; "
             "bpp counts the whole file (headers included). Metrics on the decoded 8-bit RGB: "
             "PSNR-RGB and MS-SSIM (torchmetrics via `neuralcodec.metrics`), LPIPS AlexNet v0.1 "
             "(offline weights). Times are wall-clock seconds per image on this machine's CPU, "
             "single-threaded, while other work was running: indicative only. Dashed curves are "
             "CompressAI's published results (their metrics, their machines).")
    bd_note = ("BD-rate: Bjøntegaard delta rate, pchip interpolation of log(bpp) against the metric, "
               "over the range both curves cover; negative means fewer bits than the reference at "
               "equal quality. References: CompressAI's published BPG 0.9.8 4:4:4 curve "
               "(bpg_444_x265_ycbcr.json), our JPEG 2000, CompressAI's JPEG 2000; the last column "
               "compares a codec with CompressAI's curve of the same codec. MS-SSIM in dB; LPIPS as "
               "−LPIPS. '–': no overlap or no data.")

    md: list[str] = [f"# Rate-distortion report: {folder.name}", "", intro, ""]
    body_html: list[str] = [f"<h1>Rate-distortion report: {html.escape(folder.name)}</h1>",
                            f"<p>{_md_inline_to_html(intro)}</p>"]
    if skipped:
        heading = "Not measured (missing weights or tool when last tried; earlier results, if any, are kept):"
        md += [f"**{heading}**", ""] + [f"- `{k}`: {v}" for k, v in skipped.items()] + [""]
        body_html.append(f"<p><b>{html.escape(heading)}</b></p><ul>" + "".join(
            f"<li><code>{html.escape(k)}</code>: {html.escape(v)}</li>" for k, v in skipped.items()) + "</ul>")
    md += ["## Rate-distortion curves", ""]
    body_html.append("<h2>Rate-distortion curves</h2>")
    for stem, files in figures.items():
        if files:
            md += [f"![{PLOTS[stem][1]}](figures/{stem}.png)", ""]
            body_html.append(f'<p><img src="figures/{stem}.svg" alt="{html.escape(PLOTS[stem][1])}" width="760"></p>')
    md += ["## BD-rate", "", bd_note, "", _md_table(bd_header, bd_rows), ""]
    body_html += ["<h2>BD-rate</h2>", f"<p>{html.escape(bd_note)}</p>", _html_table(bd_header, bd_rows)]
    md += ["## Encode and decode time", "", _md_table(timing_header, _timing_rows(results)), ""]
    body_html += ["<h2>Encode and decode time</h2>", _html_table(timing_header, _timing_rows(results))]
    if crops and crops.get("entries"):
        crop_md, crop_html = _crops_section(crops)
        md += crop_md
        body_html += crop_html
    md += ["## Codecs and versions", "", _md_table(["codec", "route and settings", "versions"], codec_rows), ""]
    body_html += ["<h2>Codecs and versions</h2>", _html_table(["codec", "route and settings", "versions"], codec_rows)]

    md_path, html_path = folder / "report.md", folder / "report.html"
    md_path.write_text("\n".join(md))
    style = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse;font-size:13px;margin:1em 0}"
             "td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}"
             "figure{display:inline-block;margin:4px;text-align:center;font-size:12px}"
             "figure img{image-rendering:pixelated;width:256px}")
    html_path.write_text(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>RD report {html.escape(folder.name)}</title><style>{style}</style></head><body>\n"
        + "\n".join(body_html) + "\n</body></html>\n"
    )
    return {"markdown": md_path, "html": html_path, "bd_rate": folder / "bd_rate.json"}


def _md_inline_to_html(text: str) -> str:
    """Escape, then turn the intro's **bold** and `code` into tags."""
    out = html.escape(text)
    for marker, tag in (("**", "b"), ("`", "code")):
        parts = out.split(marker)
        out = "".join(p if i % 2 == 0 else f"<{tag}>{p}</{tag}>" for i, p in enumerate(parts))
    return out


def _crops_section(crops: dict[str, Any]) -> tuple[list[str], list[str]]:
    targets = crops["targets"]
    by_codec: dict[str, dict[float, dict[str, Any]]] = {}
    for entry in crops["entries"]:
        by_codec.setdefault(entry["label"], {})[entry["target_bpp"]] = entry
    title = (f"Crops at matched rate: `{crops['image']}`, window {tuple(crops['box'])}; each codec at "
             "the highest setting whose whole-image file is at most the target bpp, or at its "
             "lowest setting when even that is above it (the caption gives the rate and PSNR "
             "reached).")
    header = ["codec"] + [f"≤ {t:g} bpp" for t in targets]
    rows = [["original"] + [f"![original](crops/{crops['original']})" for _ in targets]]
    for label, entries in by_codec.items():
        cells = []
        for t in targets:
            e = entries.get(t)
            cells.append(f"![{label} {t}](crops/{e['file']})<br>{e['bpp']:.3f} bpp, {e['psnr-rgb']:.2f} dB"
                         if e else "–")
        rows.append([label] + cells)
    md = ["## Crops at matched rate", "", title, "", _md_table(header, rows), ""]
    html_parts = ["<h2>Crops at matched rate</h2>", f"<p>{_md_inline_to_html(title)}</p>"]
    for t in targets:
        figures = [f'<figure><img src="crops/{crops["original"]}" alt="original"><figcaption>original'
                   "</figcaption></figure>"]
        for label, entries in by_codec.items():
            e = entries.get(t)
            if e:
                figures.append(f'<figure><img src="crops/{e["file"]}" alt="{html.escape(label)}">'
                               f"<figcaption>{html.escape(label)}<br>{e['bpp']:.3f} bpp, "
                               f"{e['psnr-rgb']:.2f} dB</figcaption></figure>")
        html_parts += [f"<h3>≤ {t:g} bpp</h3>", "<div>" + "".join(figures) + "</div>"]
    return md, html_parts


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m eval.rd.report --dataset kodak [--name NAME]``: rebuild a report from its JSON."""
    parser = argparse.ArgumentParser(prog="python -m eval.rd.report", description=main.__doc__)
    parser.add_argument("--dataset", default="kodak", help="anchors to use (kodak has them)")
    parser.add_argument("--name", help="report folder under eval/reports (default: --dataset)")
    parser.add_argument("--reports-dir", type=Path, default=REPORTS_DIR)
    args = parser.parse_args(argv)
    folder = args.reports_dir / (args.name or args.dataset)
    try:
        written = build_report(folder, args.dataset)
    except FileNotFoundError as error:
        parser.exit(2, f"error: {error}\n")
    for kind, path in written.items():
        print(f"{kind}: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
