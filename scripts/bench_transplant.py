"""Benchmark `tokbench transplant`: SmolLM2-135M moved onto other tokenizers, measured in bits per byte.

For each target tokenizer and each method: transplant (wall time, peak memory, in a child process), then
bits per byte on English and Turkish test text next to the original model's. Also times tokbench's OMP
against mergekit's ``batch_omp`` on the same matrices (a subset of the new tokens, all anchors).

    python scripts/bench_transplant.py                       # llama3, qwen3 + a 32k BPE, every method
    python scripts/bench_transplant.py --targets llama3 --methods omp,fvt --max-bytes 20KB

Writes reports/transplant/{bench.json,results.json,results.csv,table.md,omp_timing.json,bpb.png}.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {  # label -> (method, aux, scale, rank decay); None = the method's default (config.py)
    "omp/self": ("omp", "self", None, None), "omp/minilm": ("omp", "minilm", None, None),
    "omp/self scale=1": ("omp", "self", 1.0, 0.0),  # tokensurgeon's plain OMP, no calibration
    "omp/self scale=0.85": ("omp", "self", 0.85, 0.0),  # the constant shrink that was the default before
    "omp/minilm scale=0.85": ("omp", "minilm", 0.85, 0.0),
    "omp/self decay=0.03": ("omp", "self", None, 0.03),  # the English-only dev choice (config.py)
    "omp/minilm decay=0.03": ("omp", "minilm", None, 0.03),
    "heuristic/self": ("heuristic", "self", None, None), "heuristic/minilm": ("heuristic", "minilm", None, None),
    "fvt": ("fvt", "self", None, None), "mean": ("mean", "self", None, None), "zero": ("zero", "self", None, None),
    "random": ("random", "self", None, None),
}
TEXTS = {"en": "libreoffice:en-us@test", "tr": "turkish:tr@test"}


def one(args) -> None:
    """Child mode: one transplant, print wall time and peak RSS as JSON."""
    from tokbench.transplant.config import TransplantConfig
    from tokbench.transplant.run import transplant

    t0 = time.perf_counter()
    scale = float(args.scale) if args.scale else None
    decay = float(args.rank_decay) if args.rank_decay else None
    man = transplant(args.model, args.tokenizer, args.out,
                     TransplantConfig(method=args.method, aux=args.aux, scale=scale, rank_decay=decay), force=True)
    wall = time.perf_counter() - t0
    peak = peak_rss_mib()
    print(json.dumps({"wall_s": round(wall, 1), "peak_mib": round(peak), "counts": man["counts"],
                      "estimation": man["estimation"]}))


def peak_rss_mib() -> float:
    """This process's peak resident memory in MiB.

    Linux's ru_maxrss survives execve, so in a child started by this script it would report at least the
    parent's size at fork; VmHWM in /proc belongs to the new address space. ru_maxrss elsewhere.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux, bytes on macOS


def run_child(model, tokenizer, out, method, aux, scale=None, decay=None) -> dict:
    cmd = [sys.executable, __file__, "--one", "--model", str(model), "--tokenizer", str(tokenizer), "--out", str(out),
           "--method", method, "--aux", aux] + (["--scale", str(scale)] if scale is not None else []) \
        + (["--rank-decay", str(decay)] if decay is not None else [])
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"transplant {method}/{aux} failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bpe32k(work: Path) -> Path:
    """A 32k byte-level BPE trained by `tokbench train` on the bundled libreoffice train split (all languages)."""
    out = work / "bpe32k"
    if not (out / "tokenizer.json").exists():
        subprocess.run([sys.executable, "-m", "tokbench.cli.main", "train", "bpe", "-v", "32000", "-o", str(out), "--force"],
                       check=True)
    return out


def omp_timing(model, tokenizer: str, n: int) -> dict:
    """tokbench exact / screened OMP vs mergekit batch_omp on the same (n new tokens x all anchors) matrices."""
    import numpy as np

    from tokbench.tokenizer import load_tokenizer
    from tokbench.transplant.aux import old_pieces, self_space
    from tokbench.transplant.load import load_checkpoint
    from tokbench.transplant.omp import batch_omp, batch_omp_screened
    from tokbench.transplant.run import old_tokenizer_for
    from tokbench.transplant.vocab import align_vocabularies

    ck = load_checkpoint(model)
    old, new = old_tokenizer_for(ck), load_tokenizer(tokenizer)
    E = ck.tensors[ck.input_embedding_name()].to_float32()
    al = align_vocabularies(old, new, old_rows=E.shape[0])
    rng = np.random.default_rng(0)
    pick = np.sort(rng.choice(len(al.new_ids), size=min(n, len(al.new_ids)), replace=False))
    nb = new.token_bytes()
    pieces = old_pieces(old, [nb[al.new_ids[i]] for i in pick], E.shape[0])
    T, _ = self_space(E, pieces)
    A = np.ascontiguousarray(E[al.anchor_old])
    k = 64
    batch_omp_screened(T[:4], A, k, 256)  # compile the kernel outside the timing
    out = {"targets": int(len(T)), "anchors": int(len(A)), "dim": int(A.shape[1]), "k": k,
           "new_tokens_total": int(len(al.new_ids))}
    res = {}
    t0 = time.perf_counter(); res["tokbench exact"] = batch_omp(T, A, k); out["tokbench_exact_s"] = time.perf_counter() - t0
    t0 = time.perf_counter(); res["tokbench screened"] = batch_omp_screened(T, A, k, 256); out["tokbench_screened_s"] = time.perf_counter() - t0
    try:
        import torch
        from mergekit.tokensurgeon.omp import batch_omp as mk_omp

        t0 = time.perf_counter()
        mi, mc = mk_omp(torch.from_numpy(T), torch.from_numpy(A), k)
        out["mergekit_s"] = time.perf_counter() - t0
        res["mergekit"] = (mi.numpy(), mc.numpy())
        out["mergekit_version"] = __import__("importlib.metadata").metadata.version("mergekit")
    except ImportError as exc:
        out["mergekit_error"] = str(exc)
    norms = np.linalg.norm(T, axis=1)
    ref_idx = res.get("mergekit", res["tokbench exact"])[0]
    for name, (idx, coef) in res.items():
        rec = np.einsum("bk,bkd->bd", coef.astype(np.float64), A[idx].astype(np.float64))
        out[f"{name}: relative residual"] = float((np.linalg.norm(T - rec, axis=1) / norms).mean())
        out[f"{name}: selection overlap with mergekit"] = float(np.mean([len(set(a) & set(b)) / k for a, b in zip(idx, ref_idx)]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--model"); ap.add_argument("--tokenizer"); ap.add_argument("--out"); ap.add_argument("--method"); ap.add_argument("--aux"); ap.add_argument("--scale")
    ap.add_argument("--rank-decay")
    ap.add_argument("--targets", default="llama3,qwen3,bpe32k",
                    help="reference tokenizer names, tokenizer paths, or bpe32k (trained here)")
    ap.add_argument("--methods", default="omp/self,fvt,mean,zero,random,heuristic/minilm,omp/minilm,omp/self scale=1,heuristic/self")
    ap.add_argument("--methods-bpe", default="omp/self,omp/minilm,heuristic/self,heuristic/minilm,fvt,mean,zero,random",
                    help="methods for the trained 32k BPE (MiniLM variants here: 3.5x fewer new tokens than llama3)")
    ap.add_argument("--max-bytes", default="10KB", help="text per language (a 135M model on a shared 2-core CPU scores ~40 tokens/s)")
    ap.add_argument("--omp-subset", type=int, default=200)
    ap.add_argument("--report", default=str(ROOT / "reports" / "transplant"))
    ap.add_argument("--work", default=None, help="scratch folder for models (default: the tokbench cache)")
    ap.add_argument("--no-omp-timing", action="store_true", help="skip the OMP vs mergekit timing")
    ap.add_argument("--merge", default=None, help="add the rows of another run's bench.json (e.g. one run per target in parallel) and redraw")
    ap.add_argument("--resume", action="store_true", help="keep rows already in results.json and skip them")
    args = ap.parse_args()
    if args.one:
        return one(args)

    from tokbench.cli.common import parse_size
    from tokbench.corpora import load_source
    from tokbench.files import cache_dir, write_json_atomic
    from tokbench.report import markdown_table, write_table
    from tokbench.transplant.evaluate import evaluate_dir
    from tokbench.transplant.fetch import minilm_dir, smollm2_gguf
    from tokbench.transplant.run import export_hf

    report = Path(args.report)
    report.mkdir(parents=True, exist_ok=True)
    work = Path(args.work) if args.work else cache_dir("transplant/bench")
    gguf = smollm2_gguf()
    minilm_dir()
    texts = {lang: load_source(spec, max_bytes=parse_size(args.max_bytes)) for lang, spec in TEXTS.items()}
    targets = {"llama3": "llama3", "bpe32k": None}
    rows: list[dict] = []
    results_path = report / "bench.json"

    def save():
        # one block per target in a fixed order (the original first), methods in the order they were run
        rank = {"llama3": 1, "qwen3": 2, "bpe32k": 3}
        rows.sort(key=lambda r: 0 if str(r["target"]).startswith("original") else rank.get(r["target"], 4))
        write_json_atomic(results_path, {"model": "SmolLM2-135M-Instruct Q4_1 GGUF (dequantised to float32)",
                                         "texts": {k: v.label for k, v in texts.items()}, "rows": rows})
        write_table(report, "results", rows)

    if args.resume and results_path.exists():
        saved = json.loads(results_path.read_text("utf-8"))
        rows.extend(saved["rows"] if isinstance(saved, dict) else saved)
    if args.merge:
        have = {(r["target"], r["method"]) for r in rows}
        other = json.loads(Path(args.merge).read_text("utf-8"))
        rows.extend(r for r in (other["rows"] if isinstance(other, dict) else other) if (r["target"], r["method"]) not in have)
        args.targets = ""
        args.no_omp_timing = True
    done = {(r["target"], r["method"]) for r in rows}
    if not rows:
        orig = work / "original"
        t0 = time.perf_counter()
        export_hf(gguf, orig, force=True)
        row = {"target": "original (SmolLM2 tokenizer)", "method": "-", "transplant_s": round(time.perf_counter() - t0, 1)}
        for lang, src in texts.items():
            r = evaluate_dir(orig, src.texts)
            row[f"bpb_{lang}"] = r.bits_per_byte
            row[f"tokens_{lang}"] = r.tokens
            print(f"original {lang}: {r.bits_per_byte:.4f} bpb ({r.tokens} tokens, {r.seconds:.0f}s)", flush=True)
        rows.append(row)
        save()

    for target in filter(None, args.targets.split(",")):
        tok = targets.get(target) or target
        if target == "bpe32k":
            tok = str(bpe32k(work))
        for label in (args.methods_bpe if target == "bpe32k" else args.methods).split(","):
            method, aux, scale, decay = VARIANTS[label]
            if (target, label) in done:
                continue
            out = work / f"{target}-{label.replace('/', '-').replace(' ', '-').replace('=', '')}"
            info = run_child(gguf, tok, out, method, aux, scale, decay)
            est_in = info["estimation"].get("input_embeddings", {})
            row = {"target": target, "method": label, "transplant_s": info["wall_s"], "peak_mib": info["peak_mib"],
                   "shared": info["counts"]["shared"], "new": info["counts"]["new"], "omp_s": est_in.get("omp_seconds"),
                   **{k: est_in.get(k) for k in ("scale", "rank_decay", "row_scale_mean", "ridge")}}
            for lang, src in texts.items():
                r = evaluate_dir(out, src.texts)
                row[f"bpb_{lang}"] = r.bits_per_byte
                row[f"tokens_{lang}"] = r.tokens
            row["en_vs_original"] = row["bpb_en"] / rows[0]["bpb_en"]
            print(json.dumps(row), flush=True)
            rows.append(row)
            save()
            shutil.rmtree(out, ignore_errors=True)

    if not args.no_omp_timing:
        timing = omp_timing(gguf, "llama3", args.omp_subset)
        write_json_atomic(report / "omp_timing.json", timing)
        print(json.dumps(timing, indent=2))

    save()
    try:
        from tokbench.report import grouped_bar_chart

        shown = [r for r in rows if r["bpb_en"] < 50]  # a diverged model (bits/byte ~1e10) would flatten every bar
        left_out = [f"{r['target']} {r['method']}" for r in rows if r["bpb_en"] >= 50]
        labels = [f"{r['target']} {r['method']}" for r in shown]
        grouped_bar_chart(report / "bpb.png", labels, {"English": [r["bpb_en"] for r in shown], "Turkish": [r["bpb_tr"] for r in shown]},
                          title="SmolLM2-135M after transplant: bits per byte (lower is better)"
                                + (f"\n(not shown, diverged: {', '.join(left_out)})" if left_out else ""),
                          ylabel="bits per byte", hline=shown[0]["bpb_en"])
    except Exception as exc:  # the plot is a convenience; the tables are the result
        print(f"plot skipped: {exc}")
    (report / "table.md").write_text(markdown_table(rows) + "\n", "utf-8")


if __name__ == "__main__":
    main()
