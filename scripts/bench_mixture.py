"""Benchmark `tokbench infer-mixture`: time and peak memory of pair counting and of solving.

Each configuration (10 and 34 categories of the bundled train splits, 30,000 merges of a reference
tokenizer) runs in a fresh process so its peak RSS is its own. Peers, as ratios within this run:
* pair counting: the slow reference (apply a merge, recount every pair) vs the Numba kernel, on the
  first merges of one category (the reference cannot run 30,000 merges in reasonable time);
* solving: the lazy LP vs the full LP (every constraint) on a small instance.

    python scripts/bench_mixture.py [--tokenizer gpt2] [--time-limit 300] [--out reports/bench]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def child(n_cats: int, tokenizer: str, merges: int, time_limit: float) -> dict:
    import numpy as np

    from tokbench.mixture.infer import default_category_specs, load_categories
    from tokbench.mixture.lp import Problem, solve
    from tokbench.mixture.paircount import count_all
    from tokbench.mixture.words import SymbolTable, boundary_safe_split, build_words, merge_list
    from tokbench.tokenizer import load_tokenizer

    specs = default_category_specs("train")
    langs = [s for s in specs if not s[1].startswith("code:")]
    code = [s for s in specs if s[1].startswith("code:")]
    chosen = (langs[: max(n_cats - len(code), 0)] + code)[:n_cats] if n_cats <= len(specs) else specs
    t = time.perf_counter()
    cats = load_categories(chosen)
    tok = load_tokenizer(tokenizer)
    ml = merge_list(tok, merges)
    table = SymbolTable.from_merges(ml)
    out = {"categories": len(cats), "sample_mb": round(sum(c.n_bytes for c in cats) / 1e6, 2), "merges": merges,
           "tokenizer": tokenizer, "load_s": round(time.perf_counter() - t, 2)}
    t = time.perf_counter()
    words = [build_words(tok, c.read_texts(), table, cut_markers=boundary_safe_split(ml)) for c in cats]
    out["pretokenize_s"] = round(time.perf_counter() - t, 2)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # warm the JIT on a tiny input so compile time is not counted as counting time
    count_all(words[:1], table.merges[:5], len(table))
    t = time.perf_counter()
    trs, index = count_all(words, table.merges, len(table))
    out["count_s"] = round(time.perf_counter() - t, 2)
    out["count_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3, 1)
    out["count_rss_growth_mb"] = round((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1e3, 1)
    out["pairs"] = len(index)
    out["events"] = int(sum(tr.n_events for tr in trs))
    out["trajectory_mb"] = round(sum(tr.nbytes for tr in trs) / 1e6, 1)
    problem = Problem.build(trs, table.merges, index)
    t = time.perf_counter()
    res = solve(problem, time_limit=time_limit)  # the solver `tokbench infer-mixture` uses by default
    out["solve_s"] = round(time.perf_counter() - t, 2)
    out["solve_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3, 1)
    out.update({f"lp_{k}": v for k, v in res.stats().items()})
    out["total_s"] = round(out["load_s"] + out["pretokenize_s"] + out["count_s"] + out["solve_s"], 1)
    return out


def peers() -> dict:
    """Numba kernel vs slow recount; lazy vs full LP (small instances, same process)."""
    import numpy as np

    from tokbench.mixture.lp import Problem, solve, solve_full
    from tokbench.mixture.paircount import PairIndex, count_all, count_pairs
    from tokbench.mixture.reference import pair_trajectory, train_bpe
    from tokbench.mixture.infer import load_categories
    from tokbench.mixture.words import SymbolTable, Words, build_words, merge_list
    from tokbench.tokenizer import load_tokenizer

    tok = load_tokenizer("gpt2")
    cat = load_categories([("en", "libreoffice:en-us@train")], sample_bytes=200_000)[0]
    T = 300
    ml = merge_list(tok, T)
    table = SymbolTable.from_merges(ml)
    w = build_words(tok, cat.read_texts(), table)
    count_pairs(w, table.merges[:3], PairIndex(), len(table))
    t = time.perf_counter()
    count_pairs(w, table.merges, PairIndex(), len(table))
    fast = time.perf_counter() - t
    words = [w.symbols[w.offsets[i]:w.offsets[i + 1]].tolist() for i in range(w.n_words)]
    t = time.perf_counter()
    pair_trajectory(words, w.counts.tolist(), table.merges)
    slow = time.perf_counter() - t
    out = {"count_peer": {"sample_bytes": cat.n_bytes, "merges": T, "numba_s": round(fast, 4),
                          "slow_recount_s": round(slow, 2), "speedup": round(slow / fast, 1)}}
    rng = np.random.default_rng(0)
    cats = []
    for i in range(4):
        probs = rng.dirichlet(np.full(8, 0.4))
        ws = [list(rng.choice(8, size=int(rng.integers(2, 8)), p=probs)) for _ in range(400)]
        cats.append((ws, [1] * len(ws)))
    all_w = [x for ws, _ in cats for x in ws]
    merges = np.array(train_bpe(all_w + all_w[:300], [1] * (len(all_w) + 300), 60, 8), dtype=np.int32)
    words = [Words.from_lists(ws, cs, n_bytes=sum(map(len, ws))) for ws, cs in cats]
    trs, index = count_all(words, merges, 8 + len(merges))
    problem = Problem.build(trs, merges, index)
    solve(problem)
    t = time.perf_counter()
    lz = solve(problem)
    lazy_s = time.perf_counter() - t
    t = time.perf_counter()
    fu = solve_full(problem)
    full_s = time.perf_counter() - t
    out["lp_peer"] = {"categories": 4, "merges": len(merges), "lazy_rows": lz.rows, "full_rows": fu.rows,
                      "lazy_s": round(lazy_s, 3), "full_s": round(full_s, 3), "same_objective": bool(abs(lz.objective - fu.objective) <= 1e-6 * max(1, abs(fu.objective))),
                      "row_ratio": round(fu.rows / max(lz.rows, 1), 1)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokenizer", default="gpt2")
    ap.add_argument("--merges", type=int, default=30_000)
    ap.add_argument("--categories", default="10,34")
    ap.add_argument("--time-limit", type=float, default=300.0, help="seconds of LP constraint generation")
    ap.add_argument("--out", default="reports/bench")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--peers", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child is not None:
        print(json.dumps(child(a.child, a.tokenizer, a.merges, a.time_limit)))
        return
    if a.peers:
        print(json.dumps(peers()))
        return
    rows = []
    for n in [int(x) for x in a.categories.split(",")]:
        r = subprocess.run([sys.executable, __file__, "--child", str(n), "--tokenizer", a.tokenizer, "--merges",
                            str(a.merges), "--time-limit", str(a.time_limit)], capture_output=True, text=True, check=True)
        rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    r = subprocess.run([sys.executable, __file__, "--peers"], capture_output=True, text=True, check=True)
    peer = json.loads(r.stdout.strip().splitlines()[-1])
    from tokbench.files import write_json_atomic, write_text_atomic
    from tokbench.provenance import package_versions
    from tokbench.report import markdown_table

    result = {"runs": rows, "peers": peer, "cpus": os.cpu_count(), "packages": package_versions(),
              "note": "2-core machine shared with other jobs; wall times are indicative",
              "command": "python scripts/bench_mixture.py " + " ".join(sys.argv[1:])}
    out = Path(a.out)
    write_json_atomic(out / "mixture.json", result)
    cols = ["categories", "sample_mb", "merges", "pretokenize_s", "count_s", "count_peak_rss_mb", "pairs", "events",
            "solve_s", "solve_peak_rss_mb", "lp_lp_resolves", "lp_constraints_added", "lp_converged", "lp_gap", "total_s"]
    md = [
        f"# infer-mixture benchmark ({a.tokenizer}, {a.merges:,} merges, bundled train splits)", "",
        f"`{result['command']}` on {os.cpu_count()} cores shared with other jobs (timings indicative). "
        f"LP constraint generation is capped at {a.time_limit:.0f} s.", "",
        markdown_table(rows, columns=cols, floatfmt="{:.3g}"), "",
        "## Peers (ratios within this run)", "",
        markdown_table([peer["count_peer"]]), "",
        markdown_table([peer["lp_peer"]]), "",
    ]
    write_text_atomic(out / "mixture.md", "\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
