"""Write an evaluation as files: tables (CSV + JSON), report.md, PNG plots and a manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from tokbench.files import write_json_atomic, write_text_atomic
from tokbench.metrics.evaluation import EvalResults
from tokbench.report import grouped_bar_chart, markdown_table, write_table  # noqa: F401
from tokbench.report.plots import pyplot, save_figure

#: Languages shown in the premium bar chart and markdown table when the corpus has them (UDHR codes and
#: LibreOffice codes); every language is in premium.csv.
SHOWCASE = (
    "deu_1996", "de", "fra", "fr", "spa", "es", "tur", "tr", "rus", "ru", "ukr", "pol", "pl", "ell_monotonic", "el",
    "fin", "fi", "hun", "hu", "eus", "eu", "ind", "id", "vie", "vi", "cmn_hans", "zh-cn", "jpn", "ja", "kor", "ko",
    "hin", "hi", "ben", "tam", "arb", "heb", "pes_1", "hye", "kat", "tha", "khm", "km", "mya", "dzo", "dz", "amh",
    "swh", "yor", "zul",
)


def _pivot(rows: Sequence[dict], value: str, index: str = "lang", column: str = "tokenizer") -> tuple[list[str], list[str], dict]:
    idx = list(dict.fromkeys(r[index] for r in rows))
    cols = list(dict.fromkeys(r[column] for r in rows))
    cell = {(r[index], r[column]): r.get(value) for r in rows}
    return idx, cols, cell


def pivot_rows(rows: Sequence[dict], value: str, index: str = "lang", column: str = "tokenizer") -> list[dict]:
    """Long rows -> one row per ``index`` with a column per ``column`` value holding ``value``.

    >>> pivot_rows([{"lang": "de", "tokenizer": "a", "x": 1.0}, {"lang": "de", "tokenizer": "b", "x": 2.0}], "x")
    [{'lang': 'de', 'a': 1.0, 'b': 2.0}]
    """
    idx, cols, cell = _pivot(rows, value, index, column)
    return [{index: i, **{c: cell.get((i, c)) for c in cols}} for i in idx]


def _series(rows: Sequence[dict], value: str, groups: list[str], skip=lambda r: False) -> dict[str, list[float]]:
    _, cols, _ = _pivot(rows, value)
    cell = {(r["lang"], r["tokenizer"]): (np.nan if skip(r) or r.get(value) is None else r[value]) for r in rows}
    return {c: [cell.get((g, c), np.nan) for g in groups] for c in cols}


def cached_plot(draw, path: Path, *args, **kwargs) -> Path:
    """``draw(path, *args, **kwargs)``, or a copy of the identical PNG drawn before.

    Plots are deterministic (fixed PNG metadata), so the PNG of the same function, data and matplotlib
    version is reused from ``<cache>/plots``: a warm evaluation does not spend seconds re-rendering.
    """
    import hashlib
    import json
    from importlib.metadata import version

    from tokbench.files import cache_dir, write_bytes_atomic
    from tokbench.files import _json_default

    # The installed version, read without importing matplotlib (0.4 s a warm run need not pay).
    spec = json.dumps([draw.__module__, draw.__qualname__, version("matplotlib"), args, kwargs], default=_json_default, sort_keys=True)
    from tokbench.verified_cache import best_effort

    folder = best_effort("plots", cache_dir, "plots")
    cached = folder / f"{hashlib.sha256(spec.encode()).hexdigest()[:40]}.png" if folder else None
    if cached is not None and cached.is_file():
        try:
            data = cached.read_bytes()
        except OSError:
            data = b""
        if data.startswith(b"\x89PNG\r\n\x1a\n"):  # a damaged entry is redrawn
            return write_bytes_atomic(path, data)
    draw(path, *args, **kwargs)
    if cached is not None:
        best_effort("plots", write_bytes_atomic, cached, Path(path).read_bytes())
    return Path(path)


def heatmap(path: Path, rows: list[str], cols: list[str], values: np.ndarray, *, title: str, fmt: str = "{:.2f}",
            log: bool = False, reverse: bool = False) -> Path:
    """Languages (rows) x tokenizers (columns), each cell coloured and annotated; NaN cells left blank.

    values: (len(rows), len(cols)) float. ``reverse`` colours high values as good (green).
    """
    from matplotlib.colors import LogNorm, Normalize

    plt = pyplot()
    v = np.asarray(values, dtype=float)
    finite = v[np.isfinite(v)]
    fig, ax = plt.subplots(figsize=(1.5 + 0.95 * len(cols), 1.2 + 0.24 * len(rows)))
    if finite.size:
        lo, hi = float(finite.min()), float(finite.max())
        norm = LogNorm(vmin=max(lo, 1e-6), vmax=max(hi, lo * 1.01)) if log and lo > 0 else Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1)
        cmap = plt.get_cmap("RdYlGn" if reverse else "RdYlGn_r").with_extremes(bad="white")
        ax.imshow(np.ma.masked_invalid(v), aspect="auto", cmap=cmap, norm=norm)
        for i in range(v.shape[0]):
            for j in range(v.shape[1]):
                if np.isfinite(v[i, j]):
                    ax.text(j, i, fmt.format(v[i, j]), ha="center", va="center", fontsize=6.5)
    ax.set_xticks(range(len(cols)), cols, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=7)
    ax.set_title(title, fontsize=9)
    return save_figure(fig, path)


def _matrix(rows: Sequence[dict], value: str, groups: list[str], skip=lambda r: False) -> tuple[list[str], np.ndarray]:
    series = _series(rows, value, groups, skip)
    cols = list(series)
    return cols, np.array([series[c] for c in cols], dtype=float).T


def box_plot(path: Path, data: dict[str, Sequence[float]], *, title: str, ylabel: str, log: bool = False, hline: float | None = None) -> Path:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(5, 0.8 * len(data) + 2), 4))
    labels = list(data)
    ax.boxplot([np.asarray(data[k], dtype=float)[np.isfinite(np.asarray(data[k], dtype=float))] for k in labels],
               showfliers=True, flierprops={"markersize": 2})
    ax.set_xticks(range(1, len(labels) + 1), labels, rotation=30, ha="right", fontsize=8)
    if log:
        ax.set_yscale("log")
    if hline is not None:
        ax.axhline(hline, color="grey", lw=0.8, ls="--")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return save_figure(fig, path)


def write_plots(res: EvalResults, out: Path) -> list[str]:
    """PNG plots of the families that were measured; returns the file names."""
    t = res.tables
    made = []
    comp = t.get("compression", [])
    if comp:
        groups = list(dict.fromkeys(r["lang"] for r in comp))
        cols, m = _matrix(comp, "bytes_per_token", groups)
        cached_plot(heatmap, out / "bytes_per_token.png", groups, cols, m, reverse=True,
                title="UTF-8 bytes per token (higher = more compression)")
        made.append("bytes_per_token.png")
    fert = [r for r in t.get("fertility", []) if r.get("fertility") is not None]
    if fert:
        groups = list(dict.fromkeys(r["lang"] for r in fert))
        cols, m = _matrix(fert, "fertility", groups)
        cached_plot(heatmap, out / "fertility.png", groups, cols, m,
                title="Fertility: tokens per word (lower = fewer splits; unspaced scripts left out)")
        made.append("fertility.png")
    prem = t.get("premium", [])
    if prem:
        flagged = lambda r: r["flagged_unk"]  # noqa: E731
        langs = list(dict.fromkeys(r["lang"] for r in prem))
        show = [l for l in SHOWCASE if l in langs] or langs[:40]
        cols, m = _matrix(prem, "premium", show, flagged)
        cached_plot(heatmap, out / "premium.png", show, cols, m, log=True,
                title=f"Token premium vs {prem[0]['reference']} on {prem[0]['corpus']} (tokens(L) / tokens(ref); blank = UNK > 10%)")
        made.append("premium.png")
        if len(langs) > len(show):
            data = {}
            for r in prem:
                if not r["flagged_unk"] and r["lang"] != r["reference"]:
                    data.setdefault(r["tokenizer"], []).append(r["premium"])
            cached_plot(box_plot, out / "premium_all_languages.png", data, log=True, hline=1.0, ylabel="tokens(L) / tokens(ref)",
                     title=f"Token premium over all {len(langs) - 1} languages of {prem[0]['corpus']} (UNK-flagged left out)")
            made.append("premium_all_languages.png")
    tr = t.get("tr", [])
    if tr:
        for (lang, oracle) in dict.fromkeys((r["lang"], r["oracle"]) for r in tr):
            rows = [r for r in tr if r["lang"] == lang and r["oracle"] == oracle]
            names = [r["tokenizer"] for r in rows]
            series = {"%TR (types)": [r["tr_pct_types"] for r in rows],
                      "%TR (occurrences)": [r["tr_pct_occurrences"] for r in rows]}
            if rows[0]["pure_pct_types"] is not None:
                series["%Pure (types)"] = [r["pure_pct_types"] for r in rows]
                series["%Pure (occurrences)"] = [r["pure_pct_occurrences"] for r in rows]
            name = f"tr_purity_{lang}_{oracle}.png"
            cached_plot(grouped_bar_chart, out / name, names, series, title=f"%TR / %Pure on {rows[0]['corpus']} (oracle: {oracle})",
                              ylabel="% of tokens")
            made.append(name)
    return made


def _fmt_pct(rows: list[dict], keys: Sequence[str]) -> list[dict]:
    return [{k: (100 * v if k in keys and isinstance(v, float) else v) for k, v in r.items()} for r in rows]


def render_markdown(res: EvalResults, manifest: dict, plots: list[str]) -> str:
    t = res.tables
    cfg = res.config
    L: list[str] = ["# Tokenizer evaluation", ""]
    L.append(f"Produced by `{manifest.get('command_line', 'tokbench evaluate')}` (tokbench {manifest.get('tokbench_version')}, "
             f"{manifest.get('created')}). Metric definitions follow the papers cited per section; every choice is stated "
             "next to its numbers. Full tables are in the CSV/JSON files beside this report.")
    L += ["", "## Tokenizers", ""]
    cols = ("name", "format", "model", "vocab_size", "special_tokens", "lossless", "unk_id", "fingerprint", "trained")
    L.append(markdown_table([{k: d.get(k) for k in cols} for d in res.tokenizers]))
    trained = [d for d in res.tokenizers if d.get("trained")]
    if trained:
        L += ["", "Tokenizers trained by tokbench are measured in-domain wherever the evaluation corpus shares its "
              "source with their training corpus (e.g. LibreOffice test vs LibreOffice train): compare them with the "
              "published tokenizers with that in mind."]
    if res.failures:
        L += ["", "**Failed to load** (left out of every table; the command exits with code 1):", ""]
        L.append(markdown_table(res.failures))
    if res.warnings:
        L += ["", "**Left out:**", ""] + [f"- {w}" for w in res.warnings]
    L += ["", "## Inputs", ""]
    inputs = {}
    for i in res.inputs:
        key = i["spec"]
        agg = inputs.setdefault(key, {"spec": key, "sources": 0, "segments": 0, "bytes": 0})
        agg["sources"] += 1
        agg["segments"] += i["segments"]
        agg["bytes"] += i["bytes"]
    L.append(markdown_table(list(inputs.values())))
    L += ["", "Each source's sha256 is in manifest.json."]
    if t.get("summary"):
        L += ["", "## Summary", "",
              "One row per tokenizer: bytes/token on all natural-language and all code text of the main corpora; Rényi "
              f"efficiency (a = {cfg.renyi_power:g}, |V| = vocabulary size) on the natural text; fertility and PCW averaged over "
              "languages written with spaces; premium median/mean/std over the non-reference languages of the premium "
              "corpus (UNK-flagged pairs left out); %TR/%Pure type-level with the zeyrek oracle; coverage on the natural text.", ""]
        L.append(markdown_table(t["summary"]))
    if "compression" in t:
        L += ["", "## Compression", "", res.notes["compression"] + ".", ""]
        L.append(markdown_table(t["compression_total"]))
        L += ["", "Bytes per token per language:", ""]
        L.append(markdown_table(pivot_rows(t["compression"], "bytes_per_token"), floatfmt="{:.2f}"))
        L += ["", f"Rényi efficiency (a = {cfg.renyi_power:g}, |V| = vocabulary size) per language:", ""]
        L.append(markdown_table(pivot_rows(t["compression"], "renyi_efficiency")))
        if "bytes_per_token.png" in plots:
            L += ["", "![bytes per token](bytes_per_token.png)"]
    if "fertility" in t:
        L += ["", "## Fertility and continued words", "", res.notes["fertility"] + ".", "",
              "Fertility (tokens per word; '–' = not applicable, written without spaces):", ""]
        L.append(markdown_table(pivot_rows(t["fertility"], "fertility"), floatfmt="{:.2f}"))
        L += ["", "Proportion of continued words (PCW):", ""]
        L.append(markdown_table(pivot_rows(t["fertility"], "pcw")))
        L += ["", "Tokens per character (defined for every language):", ""]
        L.append(markdown_table(pivot_rows(t["fertility"], "tokens_per_char")))
        if "fertility.png" in plots:
            L += ["", "![fertility](fertility.png)"]
    if "premium" in t:
        prem = t["premium"]
        ref = prem[0]["reference"]
        langs = list(dict.fromkeys(r["lang"] for r in prem))
        show = [l for l in SHOWCASE if l in langs] or langs[:30]
        L += ["", "## Token premium", "", res.notes["premium"] + ".", "",
              f"Corpus `{cfg.premium_corpus}`, reference language `{ref}`, {len(langs)} languages. Selected languages "
              "(all in premium.csv; '–' = UNK share above 10%):", ""]
        sel = [dict(r, premium=None if r["flagged_unk"] else r["premium"]) for r in prem if r["lang"] in show]
        L.append(markdown_table(pivot_rows(sel, "premium"), floatfmt="{:.2f}"))
        flagged = [r for r in prem if r["flagged_unk"]]
        L += ["", f"Pairs flagged for UNK share > 10%: {len(flagged)}" + (
            " (" + ", ".join(f"{r['tokenizer']}/{r['lang']} {100 * r['unk_share']:.0f}%" for r in flagged[:20]) + (" ..." if len(flagged) > 20 else "") + ")" if flagged else "") + "."]
        for p in ("premium.png", "premium_all_languages.png"):
            if p in plots:
                L += ["", f"![{p[:-4]}]({p})"]
    if "tr" in t:
        L += ["", "## %TR and %Pure", "", res.notes["tr"] + ".", "", "Oracles:", ""]
        for k, v in res.oracles.items():
            L.append(f"- `{k}`: {v}")
        L += ["", "Published for comparison (Bayram et al. 2025, TR-MMLU text, another oracle, type level %TR / %Pure): "
              "gemma-2 48.63 / 37.05, llama-3.1 45.80 / 30.91, Qwen2.5 40.33 / 30.15, gpt-4o 42.14 / 28.68, gpt2 39.30 / 25.40.", ""]
        L.append(markdown_table(t["tr"], floatfmt="{:.2f}"))
        for p in plots:
            if p.startswith("tr_purity"):
                L += ["", f"![{p[:-4]}]({p})"]
    if "coverage" in t:
        L += ["", "## Coverage", "", res.notes["coverage"] + ".", ""]
        L.append(markdown_table(t["coverage_total"], floatfmt="{:.4f}"))
        L += ["", "Share of characters needing UNK or byte tokens, per language (%):", ""]
        L.append(markdown_table(pivot_rows(_fmt_pct(t["coverage"], ["chars_needing_unk_or_bytes"]), "chars_needing_unk_or_bytes"), floatfmt="{:.2f}"))
        if t.get("scripts"):
            L += ["", "Vocabulary share per script (%, scripts above 0.5% in some tokenizer):", ""]
            rows = pivot_rows(_fmt_pct(t["scripts"], ["share"]), "share", index="script")
            keep = [r for r in rows if any(isinstance(v, float) and v >= 0.5 for k, v in r.items() if k != "script")]
            L.append(markdown_table(keep, floatfmt="{:.2f}"))
    if res.timings:
        L += ["", "## Run", "",
              f"Encodings from cache: {res.cache['hits']}, encoded now: {res.cache['misses']}. Seconds per tokenizer "
              "(machine shared with other jobs):", ""]
        L.append(markdown_table([{"tokenizer": k, **v} for k, v in res.timings.items()], floatfmt="{:.2f}"))
    return "\n".join(L) + "\n"


def write_report(res: EvalResults, out: Path, manifest: dict) -> dict[str, Path]:
    """Everything into ``out`` (an existing, e.g. temporary, directory)."""
    out = Path(out)
    for name, rows in res.tables.items():
        if rows:
            write_table(out, name, rows)
    if res.failures:
        write_table(out, "failures", res.failures)
    plots = write_plots(res, out)
    # Every table already has its own JSON file: results.json names them instead of repeating them.
    slim = res.to_json()
    slim["tables"] = {name: f"{name}.json" for name, rows in res.tables.items() if rows}
    write_json_atomic(out / "results.json", slim)
    write_json_atomic(out / "manifest.json", manifest)
    write_text_atomic(out / "report.md", render_markdown(res, manifest, plots))
    return {"report": out / "report.md"}
