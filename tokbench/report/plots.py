"""PNG plots with matplotlib (Agg backend, no display needed), written atomically."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Mapping, Sequence

from tokbench.files import write_bytes_atomic


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | Path) -> Path:
    buf = io.BytesIO()
    # Fixed metadata keeps PNGs byte-identical between runs with the same numbers.
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    _plt().close(fig)
    return write_bytes_atomic(path, buf.getvalue())


def bar_chart(path: str | Path, labels: Sequence[str], values: Sequence[float], *, title: str, ylabel: str,
              errors: Sequence[float] | None = None, hline: float | None = None, horizontal: bool | None = None) -> Path:
    """One series of bars (horizontal when there are many labels)."""
    plt = _plt()
    horizontal = len(labels) > 12 if horizontal is None else horizontal
    if horizontal:
        fig, ax = plt.subplots(figsize=(7, max(2.5, 0.26 * len(labels) + 1)))
        ax.barh(range(len(labels)), values, xerr=errors, color="#4C72B0")
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel(ylabel)
        if hline is not None:
            ax.axvline(hline, color="grey", lw=0.8, ls="--")
    else:
        fig, ax = plt.subplots(figsize=(max(5, 0.45 * len(labels) + 2), 3.8))
        ax.bar(range(len(labels)), values, yerr=errors, color="#4C72B0")
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=8)
        ax.set_ylabel(ylabel)
        if hline is not None:
            ax.axhline(hline, color="grey", lw=0.8, ls="--")
    ax.set_title(title)
    ax.grid(axis="x" if horizontal else "y", alpha=0.3)
    return _save(fig, path)


def grouped_bar_chart(path: str | Path, groups: Sequence[str], series: Mapping[str, Sequence[float]], *, title: str,
                      ylabel: str, hline: float | None = None, log: bool = False,
                      errors: Mapping[str, tuple[Sequence[float], Sequence[float]]] | None = None) -> Path:
    """Bars for several series (e.g. tokenizers) per group (e.g. language); NaN values are left out.
    ``errors`` maps a series to (low, high) values drawn as error bars (intervals)."""
    import numpy as np

    plt = _plt()
    n = max(len(series), 1)
    width = 0.8 / n
    fig, ax = plt.subplots(figsize=(max(6, 0.32 * len(groups) * max(1, n / 2) + 2), 4.2))
    x = np.arange(len(groups))
    for k, (name, vals) in enumerate(series.items()):
        v = np.asarray(vals, dtype=float)
        yerr = None
        if errors and name in errors:
            lo, hi = (np.asarray(a, dtype=float) for a in errors[name])
            yerr = np.stack([np.maximum(v - lo, 0), np.maximum(hi - v, 0)])
        ax.bar(x + (k - (n - 1) / 2) * width, v, width, label=name, yerr=yerr, capsize=2 if yerr is not None else 0,
               error_kw={"lw": 0.8})
    ax.set_xticks(x, groups, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if log:
        ax.set_yscale("log")
    if hline is not None:
        ax.axhline(hline, color="grey", lw=0.8, ls="--")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, ncol=min(n, 5), loc="upper left")
    return _save(fig, path)


def pyplot():
    """matplotlib.pyplot on the Agg backend, for callers that draw their own figures."""
    return _plt()


def save_figure(fig, path: str | Path) -> Path:
    """Save a figure from :func:`pyplot` as a reproducible PNG, atomically, and close it."""
    return _save(fig, path)
