"""``python -m eval.rd``: run the rate-distortion benchmark and rebuild its report.

Examples:
    python -m eval.rd --dataset kodak                      # every default codec, then the report
    python -m eval.rd --dataset kodak --codecs neuralcodec # refresh one codec, keep the others' JSON
    python -m eval.rd --dataset camvid --limit 12
    python -m eval.rd --dataset-dir ../shared/data/cityscapes_samples --split val
    python -m eval.rd --dataset kodak --report-only        # rebuild plots and report from JSON

Writes ``eval/reports/<name>/``: ``per_image/<codec>.csv``, ``results/<codec>.json``,
``crops/``, ``figures/``, ``status.json``, ``bd_rate.json``, ``report.md`` and ``report.html``.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import torch
from tqdm import tqdm

from eval.rd import crops, datasets, report, results
from eval.rd.codecs import CODEC_CLASSES, DEFAULT_CODECS, Codec, Record, make_codec

__all__ = ["main", "run_codec"]


def run_codec(codec: Codec, paths: Sequence[Path], progress: tqdm | None = None) -> list[Record]:
    """Every image at every quality of ``codec``'s sweep."""
    records = []
    for path in paths:
        for quality in codec.qualities:
            records.append(codec.run(path, quality))
            if progress is not None:
                progress.update()
    return records


def _parse_codecs(text: str) -> list[str]:
    if text == "all":
        return list(CODEC_CLASSES)
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in CODEC_CLASSES and not n.startswith("neuralcodec-")]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown codec(s) {unknown}; known: {', '.join(CODEC_CLASSES)}")
    return names


def _parse_floats(text: str) -> tuple[float, ...]:
    return tuple(float(v) for v in text.split(","))


def _parse_box(text: str) -> tuple[int, int, int, int]:
    values = tuple(int(v) for v in text.split(","))
    if len(values) != 4:
        raise argparse.ArgumentTypeError("--crop-box takes left,top,right,bottom")
    return values  # type: ignore[return-value]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m eval.rd", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--dataset", choices=sorted(datasets.DATASETS), help="named dataset (default kodak)")
    source.add_argument("--dataset-dir", type=Path, help="Cityscapes-layout folder: leftImg8bit/<split>/<city>/*.png")
    parser.add_argument("--split", default="val", help="split of --dataset-dir (default val)")
    parser.add_argument("--name", help="report folder name (default: dataset name or cityscapes-<split>)")
    parser.add_argument("--limit", type=int, help="only the first N images (sorted)")
    parser.add_argument("--codecs", type=_parse_codecs, default=list(DEFAULT_CODECS),
                        help=f"comma-separated, or 'all' (default: {','.join(DEFAULT_CODECS)}; "
                             f"known: {','.join(CODEC_CLASSES)}; neuralcodec-NAME for another "
                             "registered neuralcodec model)")
    parser.add_argument("--no-lpips", action="store_true", help="skip LPIPS (written as null)")
    parser.add_argument("--no-crops", action="store_true", help="skip the matched-rate crops")
    parser.add_argument("--crop-bpp", type=_parse_floats, default=crops.DEFAULT_TARGETS,
                        help="target rates of the crops (default 0.15,0.4)")
    parser.add_argument("--crop-image", help="file name of the image to crop (default kodim23.png or the first)")
    parser.add_argument("--crop-box", type=_parse_box, help="left,top,right,bottom of the crop window")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--report-only", action="store_true", help="only rebuild plots and report from JSON")
    parser.add_argument("--reports-dir", type=Path, default=report.REPORTS_DIR)
    args = parser.parse_args(argv)
    if args.dataset is None and args.dataset_dir is None:
        args.dataset = "kodak"

    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=FutureWarning)
    try:
        data = datasets.resolve(args.dataset, args.dataset_dir, args.split, args.limit, args.name)
    except (ValueError, FileNotFoundError) as error:
        parser.exit(2, f"error: {error}\n")
    folder = args.reports_dir / data.name
    anchor_set = args.dataset or "none"

    if not args.report_only:
        status_path = folder / "status.json"
        status = json.loads(status_path.read_text()) if status_path.is_file() else {}
        skipped: dict[str, str] = status.get("skipped", {})
        codecs = []
        for name in args.codecs:
            codec = make_codec(name, with_lpips=not args.no_lpips)
            reason = codec.unavailable_reason()
            if reason:
                print(f"skipping {name}: {reason}", file=sys.stderr)
                skipped[name] = reason
            else:
                skipped.pop(name, None)
                codecs.append(codec)
        total = sum(len(c.qualities) for c in codecs) * len(data.paths)
        print(f"{data.name}: {len(data.paths)} images from {data.root}; codecs: "
              f"{', '.join(c.name for c in codecs) or 'none'}", file=sys.stderr)
        with tqdm(total=total, desc="coding", unit="img", dynamic_ncols=True) as progress:
            for codec in codecs:
                progress.set_postfix_str(codec.name)
                records = run_codec(codec, data.paths, progress)
                results.write_csv(folder / "per_image" / f"{codec.name}.csv", records)
                doc = results.aggregate(records, name=codec.label, description=codec.description,
                                        versions=codec.versions(), dataset=data.name)
                results.write_json(folder / "results" / f"{codec.name}.json", doc)
        if codecs and not args.no_crops:
            image, box = crops.default_crop(data.paths)
            if args.crop_image:
                matches = [p for p in data.paths if p.name == args.crop_image]
                if not matches:
                    parser.exit(2, f"error: {args.crop_image} is not in the dataset\n")
                image = matches[0]
            box = args.crop_box or box
            for codec in tqdm(codecs, desc="crops", unit="codec", dynamic_ncols=True):
                crops.make_crops([codec], image, box, args.crop_bpp, folder / "crops")
        folder.mkdir(parents=True, exist_ok=True)
        status_path.write_text(json.dumps({"dataset": data.name, "images": len(data.paths),
                                           "skipped": skipped}, indent=2) + "\n")

    try:
        written = report.build_report(folder, anchor_set)
    except FileNotFoundError as error:
        print(f"no report: {error}", file=sys.stderr)
        return 1
    for kind, path in written.items():
        print(f"{kind}: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
