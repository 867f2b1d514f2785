"""Build reports/mixture/: the reference tokenizers' inferred training mixtures over the bundled categories.

Runs `infer-mixture` (library API) for each tokenizer over every bundled libreoffice language and code
language (train split), writes one report folder per tokenizer and a summary (README.md, summary.csv/json,
summary.png) comparing them, with the paper's findings where they overlap.

    python scripts/mixture_report.py [--tokenizers gpt2,cl100k,...] [--sample-bytes 700000] [--split all] [--time-limit 150]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tokbench.files import atomic_dir, write_text_atomic
from tokbench.mixture.config import MixtureConfig
from tokbench.mixture.infer import default_category_specs, infer_mixture, load_categories
from tokbench.mixture.report import write_report
from tokbench.provenance import run_manifest
from tokbench.report import grouped_bar_chart, markdown_table, write_table
from tokbench.tokenizer import load_tokenizer
from tokbench.tokenizer.references import DEFAULT_SET

PAPER = {
    "gpt2": "99.1% English (paper, with web/book/code categories)",
    "cl100k": "GPT-3.5: 62.6% code (paper)",
    "o200k": "GPT-4o: 39% non-English (paper)",
    "llama3": "Llama 3 added merges: 48.5% non-English (paper)",
    "claude": "old Claude: 57.5% code (paper)",
}


NOTES = """## Reading these numbers

* **What the bundled data limits.** The categories are 33 LibreOffice-help languages and 5 code languages,
  at most ~1 MB each (here capped further), and there is no web, book or scientific text. The method can
  only split the tokenizer's training data among the categories it is given: text of any other kind
  (web pages, other languages) is attributed to whichever bundled category looks most like it. GPT-2's
  WebText therefore lands mostly on English help text and a little on code; the paper, with web, book and
  code categories and 1 GB per category, finds 99.1% English.
* **Small samples.** With under 1 MB per category most of the 30,000 merges occur a handful of times or
  never in a sample, so the LP is dominated by slack and needs many rows; when the lazy constraint
  generation stops at its time limit before the optimum (column `converged`), `gap` is the relative distance
  between the LP's lower bound and the best upper bound found, and the weights reported are those with the
  best upper bound. Treat the shares as indicative, the groups (English / code / other) more than the
  individual languages.
* **Near-duplicate categories.** en-us and en-gb (and pt / pt-br, zh-cn / zh-tw) are almost the same text:
  the split between them is arbitrary; read their sum.
* **SentencePiece-style models** (Gemma 3) are replayed on word pieces cut at '▁' (exact because none of the
  first 30,000 merges crosses a word start); their merge order comes from the converted tokenizer.json.
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokenizers", default=",".join(DEFAULT_SET))
    ap.add_argument("--merges", type=int, default=30_000)
    ap.add_argument("--sample-bytes", type=int, default=700_000)
    ap.add_argument("--split", default="all", help="bundled split(s) of the categories: train, dev, test or all")
    ap.add_argument("--time-limit", type=float, default=150.0)
    ap.add_argument("--out", default="reports/mixture")
    a = ap.parse_args()
    out = Path(a.out)
    config = MixtureConfig(merges=a.merges, sample_bytes=a.sample_bytes, time_limit=a.time_limit, split=a.split)
    pairs = default_category_specs(config.split)
    cats = load_categories(pairs, config.sample_bytes)
    summary, shares = [], {}
    for name in a.tokenizers.split(","):
        started = time.perf_counter()
        tok = load_tokenizer(name)
        res = infer_mixture(tok, cats, config)
        manifest = run_manifest("infer-mixture", dict(config.__dict__, tokenizer=name), [c.provenance for c in cats],
                                started=started, extra={"tokenizer": res.tokenizer})
        with atomic_dir(out / name, force=True) as tmp:
            write_report(res, tmp, manifest)
        g = res.groups()
        top = res.rows()[:3]
        s = res.lp.stats()
        summary.append({
            "tokenizer": name, "english_%": 100 * g.get("english", 0), "code_%": 100 * g.get("code", 0),
            "other_languages_%": 100 * (g.get("natural", 0) - g.get("english", 0)),
            "top_3": ", ".join(f"{r['category']} {100 * r['proportion']:.1f}" for r in top),
            "tc_english_%": 100 * sum(r["tc"] for r in res.rows() if r["category"].startswith("en")),
            "tc_code_%": 100 * sum(r["tc"] for r in res.rows() if r["kind"] == "code"),
            "lp_resolves": s["lp_resolves"], "constraints": s["constraints_added"], "converged": s["converged"],
            "gap": s["gap"], "seconds": round(time.perf_counter() - started, 1), "paper": PAPER.get(name, "–"),
        })
        shares[name] = {r["category"]: 100 * r["proportion"] for r in res.rows()}
        print(summary[-1], flush=True)
    write_table(out, "summary", summary)
    cats_order = [n for n, _ in pairs]
    grouped_bar_chart(out / "summary.png", cats_order, {k: [v.get(c, 0.0) for c in cats_order] for k, v in shares.items()},
                      title=f"Inferred training mixture over {len(cats_order)} bundled categories ({a.merges:,} merges)",
                      ylabel="share of training bytes (%)")
    md = [
        "# What were the reference tokenizers trained on? (data mixture inference)",
        "",
        f"`python scripts/mixture_report.py --sample-bytes {a.sample_bytes} --split {a.split} --time-limit {a.time_limit:g}`: the first "
        f"{a.merges:,} merges of each tokenizer, {len(cats_order)} categories (every bundled libreoffice language and "
        f"code language, {a.split} split{'s pooled' if a.split == 'all' else ''}, at most {a.sample_bytes:,} bytes each). One folder per tokenizer holds its table, "
        "plot, solver statistics and manifest.",
        "",
        markdown_table(summary, floatfmt="{:.3g}"),
        "",
        "![summary](summary.png)",
        "",
        NOTES,
    ]
    write_text_atomic(out / "README.md", "\n".join(md))


if __name__ == "__main__":
    main()
