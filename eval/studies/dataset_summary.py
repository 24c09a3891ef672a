"""A markdown table of the compressed datasets in a folder (default ``build/datasets``).

    python -m eval.studies.dataset_summary [build/datasets]

Reads only ``dataset.json`` and ``manifest.jsonl`` of each finished folder; the original size
is that of the source files (JPEG / PNG) the bitstreams were made from.
"""

from __future__ import annotations

import sys
from pathlib import Path

from neuralcodec.dataset import DatasetError, read_info, read_manifest

__all__ = ["summary", "main"]


def summary(folder: Path) -> str:
    """The table, one row per finished dataset folder below ``folder``."""
    rows = [
        "| folder | layout | quality | splits (images) | bitstream bytes | mean bpp | bytes / image | source files |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for path in sorted(p for p in folder.iterdir() if p.is_dir()):
        try:
            info, records = read_info(path), read_manifest(path)
        except DatasetError:
            continue  # not finished
        splits = ", ".join(f"{s} {sum(r.split == s for r in records)}" for s in info.splits) or "-"
        total = sum(r.num_bytes for r in records)
        source = sum((Path(info.source_root) / r.source).stat().st_size for r in records)
        rows.append(
            f"| `{path}` | {info.layout} | {info.quality:g} | {splits} | {total:,} | "
            f"{sum(r.bpp for r in records) / len(records):.4f} | {total / len(records):,.0f} | "
            f"{source:,} B ({source / total:.1f}×) |"
        )
    return "\n".join(rows)


def main() -> None:
    """Print the table."""
    print(summary(Path(sys.argv[1] if len(sys.argv) > 1 else "build/datasets")))


if __name__ == "__main__":
    main()
