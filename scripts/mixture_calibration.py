"""How often did the bootstrap intervals of `tokbench infer-mixture simulate` runs hold the true share?

Reads the result.json of one or more simulate runs made with --bootstrap (each trial keeps its replicates)
and recomputes the 90% intervals from the replicates by each construction and scale, pooling the
(trial, category) pairs of all runs: hits, pairs, rate and the 95% Wilson range of the rate. Also prints
the quantile of |error| / replicate sd that a calibrated normal interval would need.

    python scripts/mixture_calibration.py reports/mixture/sim-calib-3k-seed1/result.json --scale 1 2
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from tokbench.mixture.bootstrap import INTERVALS, binomial_interval, interval
from tokbench.mixture.simulate import covered


def load_pairs(paths):
    """[(truth, inferred, replicates, converged)] of every trial with replicates."""
    out = []
    for p in paths:
        for t in json.loads(Path(p).read_text())["trials"]:
            if t.get("replicates"):
                out.append((np.array(t["truth"]), np.array(t["inferred"]), np.array(t["replicates"]),
                            bool(t["solver"].get("converged"))))
    return out


def calibration(trials, method: str, scale: float, level: float = 0.9) -> dict:
    hits = np.concatenate([covered(truth, interval(inf, reps, level, method, scale)) for truth, inf, reps, _ in trials])
    k, n = int(hits.sum()), int(hits.size)
    low, high = binomial_interval(k, n, 0.95)
    return {"method": method, "scale": scale, "hits": k, "pairs": n, "coverage": k / n, "range_95": [low, high]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="+", help="result.json of simulate runs with --bootstrap")
    ap.add_argument("--scale", type=float, nargs="+", default=[1.0, 2.0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    trials = load_pairs(args.results)
    if not trials:
        raise SystemExit("no trial with bootstrap replicates in these files (run simulate with --bootstrap N)")
    rows = [calibration(trials, m, s) for m in INTERVALS for s in args.scale]
    z = np.concatenate([np.abs(inf - truth) / np.maximum(reps.std(axis=0, ddof=1), 1e-12) for truth, inf, reps, _ in trials])
    summary = {"trials": len(trials), "converged": sum(t[3] for t in trials), "rows": rows,
               "abs_z_quantile_90": float(np.quantile(z, 0.9)), "scale_for_90_normal": float(np.quantile(z, 0.9) / 1.6449)}
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{summary['trials']} trials ({summary['converged']} with a converged LP), {rows[0]['pairs']} (trial, category) pairs")
    for r in rows:
        print(f"{r['method']:>10} x {r['scale']:<4g} inside {r['hits']:>3}/{r['pairs']:<3} = {100 * r['coverage']:5.1f}%  "
              f"(95% range {100 * r['range_95'][0]:.0f}-{100 * r['range_95'][1]:.0f}%)")
    print(f"90% quantile of |error| / replicate sd: {summary['abs_z_quantile_90']:.2f} "
          f"(a normal 90% interval would need scale {summary['scale_for_90_normal']:.2f})")


if __name__ == "__main__":
    main()
