"""Tables of rows (list of dicts) to CSV, JSON and markdown."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any, Sequence

from tokbench.files import write_json_atomic, write_text_atomic


def format_cell(v: Any, floatfmt: str = "{:.3f}") -> str:
    """One value as a table shows it: '–' for missing, yes/no, floats by ``floatfmt``, ints with commas."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return floatfmt.format(v)
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _cell(v: Any, floatfmt: str) -> str:
    """A markdown cell: :func:`format_cell` with pipes escaped and newlines folded."""
    return format_cell(v, floatfmt).replace("|", "\\|").replace("\n", " ")


def columns_of(rows: Sequence[dict]) -> list[str]:
    return list(dict.fromkeys(k for r in rows for k in r))


def markdown_table(rows: Sequence[dict], columns: Sequence[str] | None = None, floatfmt: str = "{:.3f}") -> str:
    """A GitHub-flavoured markdown table.

    >>> print(markdown_table([{"a": 1, "b": 0.5}]))
    | a | b |
    |---:|---:|
    | 1 | 0.500 |
    """
    cols = list(columns) if columns else columns_of(rows)
    if not cols:
        return "_(no rows)_"
    numeric = [all(isinstance(r.get(c), (int, float)) or r.get(c) is None for r in rows) for c in cols]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(_cell(r.get(c), floatfmt) for c in cols) + " |")
    return "\n".join(lines)


def write_table(out_dir: str | Path, stem: str, rows: Sequence[dict], columns: Sequence[str] | None = None) -> dict[str, Path]:
    """Write ``rows`` as ``<stem>.csv`` and ``<stem>.json`` under ``out_dir``; returns the paths."""
    out_dir = Path(out_dir)
    cols = list(columns) if columns else columns_of(rows)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({c: ("" if r.get(c) is None else r.get(c)) for c in cols})
    return {
        "csv": write_text_atomic(out_dir / f"{stem}.csv", buf.getvalue()),
        "json": write_json_atomic(out_dir / f"{stem}.json", list(rows)),
    }
