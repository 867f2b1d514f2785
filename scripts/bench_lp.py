"""Benchmark the mixture LP solvers side by side on the same instances, in one run.

For each reference tokenizer and category set (the 10 categories de en-us es fr ja ru zh-cn javascript
python rust, and every bundled category), the pair-count trajectories of the first 30,000 merges are built
once and both solvers run on that same problem:

* ``steps``: the older lazy LP (one row per (step, pair), heap sweeps, purging, in-out stabilisation);
* ``intervals``: lazy rows over the interval reformulation (one row per (pair segment, segment-tree node)),
  the default of ``tokbench infer-mixture``.

Each prints the certified objective (an upper bound checked by the independent dense sweep), the lower bound,
the relative gap, whether that proves optimality, wall seconds (with the certificate) and LP re-solves.
The targets of issue 17: proven optimal in <= 60 s for 10 categories and <= 300 s for 38.

    python scripts/bench_lp.py [--tokenizers gpt2,llama3] [--steps-limit S] [--limit 600] [--out FILE]
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

TEN = ("de", "en-us", "es", "fr", "ja", "ru", "zh-cn", "javascript", "python", "rust")


def build(tokenizer: str, names: tuple[str, ...] | None, merges: int):
    from tokbench.mixture.infer import default_category_specs, load_categories
    from tokbench.mixture.lp import Problem
    from tokbench.mixture.paircount import count_all
    from tokbench.mixture.words import SymbolTable, boundary_safe_split, build_words, merge_list
    from tokbench.tokenizer import load_tokenizer

    specs = default_category_specs("train")
    if names is not None:
        specs = [s for s in specs if s[0] in names]
    cats = load_categories(specs)
    tok = load_tokenizer(tokenizer)
    ml = merge_list(tok, None)[:merges]
    table = SymbolTable.from_merges(ml)
    cut = boundary_safe_split(ml)
    words = [build_words(tok, c.read_texts(), table, cut_markers=cut) for c in cats]
    trs, index = count_all(words, table.merges, len(table))
    return Problem.build(trs, table.merges, index)


def run(problem, method: str, limit: float) -> dict:
    from tokbench.mixture.lp import solve

    t, c = time.perf_counter(), time.process_time()
    res = solve(problem, method=method, time_limit=limit)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    return {"method": method, "objective": res.objective, "lower_bound": res.lower_bound, "gap": res.gap,
            "converged": res.converged, "seconds": wall, "cpu": cpu, "certify_s": res.certify_seconds, "resolves": res.rounds,
            "rows": res.rows, "iterations": res.simplex_iterations}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tokenizers", default="gpt2", help="comma-separated reference tokenizers (default gpt2)")
    ap.add_argument("--merges", type=int, default=30_000)
    ap.add_argument("--steps-limit", type=float, default=None,
                    help="time limit of the older 'steps' solver (s; default the target: 60 for 10 categories, 300 for all)")
    ap.add_argument("--limit", type=float, default=600.0, help="time limit of the 'intervals' solver (s)")
    ap.add_argument("--sets", default="10,all", help="category sets: 10 and/or all (default both)")
    ap.add_argument("--out", type=Path, default=None, help="write the markdown table here as well")
    args = ap.parse_args()
    # Warm the JIT (and HiGHS) on a small problem, so compile time is not counted as solving time.
    small = build(args.tokenizers.split(",")[0], ("de", "fr"), 300)
    for method in ("steps", "intervals"):
        run(small, method, 60.0)
    lines = [f"Command: `python {' '.join(shlex.quote(a) for a in sys.argv)}`", "",
             "| tokenizer | categories | pairs | solver | objective (certified) | lower bound | gap | proven optimal | wall s | CPU s | LP re-solves | rows |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    print("\n".join(lines), flush=True)
    for tokenizer in args.tokenizers.split(","):
        for which in args.sets.split(","):
            names = TEN if which == "10" else None
            t = time.perf_counter()
            problem = build(tokenizer, names, args.merges)
            print(f"<!-- {tokenizer} {which}: built in {time.perf_counter() - t:.1f} s -->", flush=True)
            steps_limit = args.steps_limit or (60.0 if which == "10" else 300.0)
            for method, limit in (("steps", steps_limit), ("intervals", args.limit)):
                r = run(problem, method, limit)
                line = (f"| {tokenizer} | {problem.n} | {problem.P:,} | {method} (limit {limit:.0f} s) | {r['objective']:,.1f} | "
                        f"{r['lower_bound']:,.1f} | {r['gap']:.2e} | {'yes' if r['converged'] else 'no'} | {r['seconds']:.1f} "
                        f"(certificate {r['certify_s']:.1f}) | {r['cpu']:.1f} | {r['resolves']} | {r['rows']:,} |")
                lines.append(line)
                print(line, flush=True)
                if args.out is not None:
                    args.out.parent.mkdir(parents=True, exist_ok=True)
                    tmp = args.out.with_suffix(".partial")
                    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
                    tmp.replace(args.out)


if __name__ == "__main__":
    main()
