"""Fuzz summaries as ``summary.json`` (one entry per target) and ``summary.md`` in eval/reports/fuzz/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["REPORT_DIR", "update_report", "markdown"]

REPORT_DIR = Path(__file__).resolve().parents[1] / "reports" / "fuzz"
_TOP_MESSAGES = 12


def update_report(summaries: list[dict[str, Any]], folder: Path = REPORT_DIR) -> Path:
    """Merge ``summaries`` into ``folder/summary.json`` (by target) and rewrite ``summary.md``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "summary.json"
    known = json.loads(path.read_text()) if path.is_file() else {}
    for summary in summaries:
        known[summary.get("label", summary["target"])] = summary
    path.write_text(json.dumps(known, indent=2) + "\n")
    (folder / "summary.md").write_text(markdown(list(known.values())))
    return path


def markdown(summaries: list[dict[str, Any]]) -> str:
    """A table of the runs, then the typed errors and top messages of each target."""
    lines = [
        "# Fuzz summary",
        "",
        "Written by `python -m eval.fuzz`; see README.md for the commands.",
        "",
        "| run | codecs | max_pixels | inputs | inputs/s | crashes | hangs | accepted | command | date | code |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summaries:
        lines.append(
            f"| {s.get('label', s['target'])} | {', '.join(s.get('codecs', []))} | "
            f"{s['budget']['max_pixels']} | {s['executions']} | {s['inputs_per_s']} | "
            f"{s['crashes']} | {s['hangs']} | {s['ok']} | `{s.get('command', '')}` | "
            f"{s.get('date', '')} | {s.get('code', '')} |"
        )
    for s in summaries:
        lines += ["", f"## {s.get('label', s['target'])}", "", f"Stages reached: {_pairs(s['stages'])}.", "",
                  f"Typed errors: {_pairs(s['typed_errors'])}.", "", "| count | message |", "|---|---|"]
        for message, count in list(s["messages"].items())[:_TOP_MESSAGES]:
            lines.append(f"| {count} | `{message.replace('|', '/')}` |")
        if s["crash_signatures"]:
            lines += ["", "Crashes:", ""]
            for signature, entry in s["crash_signatures"].items():
                lines.append(f"- {entry['count']} x {signature}: {entry.get('artifact', '')}")
    return "\n".join(lines) + "\n"


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items()) or "none"
