#!/usr/bin/env python
"""How much does floating-point noise move the transplant CI test's figure?

tests/test_transplant_integration.py asserts that the default ``omp`` onto Qwen3 scores within 25% of the
original SmolLM2-135M in bits per byte on the whole English test split (run 4: +24.5%). This script
measures that ratio under different floating-point paths of the same computation, each in a fresh
process: BLAS/OpenMP/Numba/torch on one thread, and on every core. Different thread counts change the
order of float sums (in BLAS, in OMP's least squares and in torch's matmuls) the way another CPU does.

    python scripts/repro_transplant_ci.py                  # both settings, about 15 minutes on 2 cores
    python scripts/repro_transplant_ci.py --threads 1      # one setting, prints its JSON line

Prints one JSON line per setting and the largest difference between settings, in percentage points.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def measure(threads: int) -> dict:
    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tokbench.corpora import load_source
    from tokbench.tokenizer import load_tokenizer
    from tokbench.transplant.evaluate import evaluate_dir
    from tokbench.transplant.fetch import smollm2_gguf
    from tokbench.transplant.run import export_hf, transplant

    torch.set_num_threads(threads)
    src = load_source("libreoffice:en-us@test")
    with tempfile.TemporaryDirectory(prefix="tokbench-repro-") as tmp:
        tmp = Path(tmp)
        gguf = smollm2_gguf()
        export_hf(gguf, tmp / "orig")
        transplant(gguf, load_tokenizer("qwen3"), tmp / "omp")
        orig = evaluate_dir(tmp / "orig", src.texts).bits_per_byte
        new = evaluate_dir(tmp / "omp", src.texts).bits_per_byte
    return {"threads": threads, "original_bpb": orig, "omp_bpb": new, "increase_pct": 100 * (new / orig - 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, help="measure one setting in this process (thread variables must be set)")
    args = ap.parse_args()
    if args.threads:
        print(json.dumps(measure(args.threads)), flush=True)
        return 0
    rows = []
    for threads in (1, os.cpu_count() or 2):
        env = {**os.environ, **{v: str(threads) for v in THREAD_VARS}}
        proc = subprocess.run([sys.executable, __file__, "--threads", str(threads)], env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            print(proc.stderr[-2000:], file=sys.stderr)
            return 1
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    pcts = [r["increase_pct"] for r in rows]
    print(json.dumps({"spread_points": max(pcts) - min(pcts), "orig_spread": max(r["original_bpb"] for r in rows) - min(r["original_bpb"] for r in rows)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
