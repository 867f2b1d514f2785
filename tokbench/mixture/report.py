"""Write a mixture-inference result as a report folder: markdown, CSV/JSON, PNG, manifest."""

from __future__ import annotations

from pathlib import Path

from tokbench.files import write_json_atomic, write_text_atomic
from tokbench.mixture.infer import MixtureResult
from tokbench.report import grouped_bar_chart, markdown_table, write_table


def display_rows(res: MixtureResult) -> list[dict]:
    """Rows for tables: shares in percent, largest first."""
    level = res.bootstrap.get("level")
    out = []
    for r in res.rows():
        row = {"category": r["category"], "kind": r["kind"], "inferred_%": 100 * r["proportion"]}
        if r["low"] is not None:
            row[f"{100 * level:.0f}%_interval"] = f"{100 * r['low']:.2f}-{100 * r['high']:.2f}"
        row.update({"tc_%": 100 * r["tc"], "sample_bytes": r["sample_bytes"]})
        out.append(row)
    return out


def interval_sentence(res: MixtureResult) -> str:
    """What the intervals beside the shares are, in words (report.md)."""
    b = res.bootstrap
    what = {"merges": f"merge windows ({b.get('block')} consecutive merges each; "
                      + ("each replicate solves the LP on a random half of them)" if b.get("merge_draw") == "half"
                         else "drawn with replacement)"),
            "documents": "each category's documents (drawn with replacement, pairs recounted)",
            "both": f"each category's documents and merge windows of {b.get('block')} merges"}[b.get("over", "documents")]
    sc = b.get("scale", 1.0)
    how = (f"the replicates' 5th to 95th percentiles, their distances from the share x {sc:g}" if b.get("method") == "percentile"
           else f"the share +- {sc:g} x 1.645 standard deviations of the replicates")
    return (f"Intervals: {100 * b['level']:.0f}% bootstrap intervals over {what}: {b['replicates']} replicates "
            f"(seed {b['seed']}, {b['converged_uncertified']} with a converged LP, {b.get('seconds', 0):.0f} s), {how}. "
            "In simulate (tokenizers trained on known mixtures) such intervals were measured against the truth: see "
            "reports/mixture/README.md for how often they hold it. "
            + ("They do not include the gap of this unconverged LP. " if not res.lp.converged else "")
            + "They cannot see text of a kind no category covers.")


def write_report(res: MixtureResult, out_dir: str | Path, manifest: dict) -> dict[str, Path]:
    """mixture.csv/.json (one row per category), result.json, mixture.png, report.md, manifest.json."""
    out_dir = Path(out_dir)
    paths = write_table(out_dir, "mixture", res.rows())
    paths["result"] = write_json_atomic(out_dir / "result.json", res.to_json())
    rows = res.rows()
    labels = [r["category"] for r in rows]
    name = res.tokenizer.get("name", "tokenizer")
    paths["png"] = grouped_bar_chart(
        out_dir / "mixture.png", labels,
        {"inferred (LP)": [100 * r["proportion"] for r in rows], "TC baseline": [100 * r["tc"] for r in rows]},
        errors=None if res.intervals is None else
        {"inferred (LP)": ([100 * r["low"] for r in rows], [100 * r["high"] for r in rows])},
        title=f"{name}: inferred training mixture ({res.merges_phrase()})", ylabel="share of training bytes (%)",
    )
    paths["manifest"] = write_json_atomic(out_dir / "manifest.json", manifest)
    s = res.lp.stats()
    groups = ", ".join(f"{k} {100 * v:.1f}%" for k, v in sorted(res.groups().items()))
    md = [
        f"# Inferred training mixture of {name}",
        "",
        f"**{res.solver_line()}.**",
        "",
        (f"Data mixture inference (Hayase et al. 2024) over merges {res.skipped + 1:,}-{res.skipped + res.merges:,} of {name} "
         f"(the first {res.skipped:,} replayed but not used) " if res.skipped else
         f"Data mixture inference (Hayase et al. 2024) over {res.merges_phrase()} of {name} ")
        + f"({res.tokenizer.get('format')}, vocabulary {res.tokenizer.get('vocab_size'):,}) with {len(res.names)} categories. "
        + "Shares are of training bytes; TC is the paper's token-classification baseline.",
        "",
        f"Groups: {groups}.",
        "",
        (interval_sentence(res) if res.intervals is not None else "No intervals (--bootstrap 0)."),
        "",
        markdown_table(display_rows(res), floatfmt="{:.2f}"),
        "",
        "![mixture](mixture.png)",
        "",
        "## Solver",
        "",
        f"{s['constraints_added']:,} constraints and {s['slack_columns_added']:,} slack columns added lazily over "
        f"{s['lp_resolves']} LP re-solves (HiGHS); objective {s['objective']:.6g}; converged: {'yes' if s['converged'] else 'NO'}. "
        f"Time: " + ", ".join(f"{k} {v:.1f} s" for k, v in res.timings.items()) + ". "
        f"{res.sizes['pairs']:,} distinct pairs, {res.sizes['events']:,} count changes recorded.",
        "",
    ]
    paths["markdown"] = write_text_atomic(out_dir / "report.md", "\n".join(md))
    return paths
