"""Benchmark `tokbench train`: SuperBPE against plain BPE on the same text, side by side.

Two datasets:
  libreoffice   the bundled multilingual LibreOffice help train split, every language, equal byte shares
                (the `tokbench train` default: 50 MB budget, each language gives up to its share)
  large         >= 100 MB built by repeating and mixing the bundled train text (LibreOffice train, code
                train, UDHR): the original segments plus --variants reshuffled copies in which adjacent
                segments of a source are joined pairwise, so most repeated text forms new distinct
                segments rather than just doubling counts

For each dataset, bpe and superbpe (same vocabulary, same stage-1 settings; superbpe transition 0.8,
2025 recipe, caps on) each train in a fresh child process that reports its wall time and peak RSS
(resource.getrusage). Both tokenizers are then scored in bytes per token on every language's test split
(libreoffice@test and code@test). Targets: superbpe <= 3x the time and <= 2x the peak memory of bpe;
>= 10% fewer tokens than bpe on the English (en-us) test split.

    python scripts/bench_train.py                    # both datasets, 32k vocabulary
    python scripts/bench_train.py --datasets libreoffice --vocab-size 16000

Writes reports/bench/train.json and reports/bench/train.md. The machine may be shared with other jobs:
timings are single runs, and ratios are taken within one run.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGETS = {"time_ratio_max": 3.0, "memory_ratio_max": 2.0, "english_reduction_min": 0.10}


def large_sources(variants: int, seed: int = 0):
    """The >= 100 MB mixture: every train source, then ``variants`` copies with segments joined in pairs."""
    import numpy as np

    from tokbench.corpora import load_sources
    from tokbench.corpora.source import TextSource

    base = load_sources("libreoffice@train") + load_sources("code@train") + load_sources("udhr")
    out = list(base)
    for v in range(1, variants + 1):
        rng = np.random.default_rng(seed + v)
        for src in base:
            order = rng.permutation(len(src.texts))
            texts = [src.texts[order[i]] + (" " + src.texts[order[i + 1]] if i + 1 < len(order) else "")
                     for i in range(0, len(order), 2)]
            # joined pairs keep every byte once; the odd one out stays alone
            out.append(TextSource(f"{src.spec}~mix{v}", src.corpus, src.lang, f"{src.split}~mix{v}",
                                  [str(i) for i in range(len(texts))], texts, kind=src.kind))
    return out


def child(args) -> None:
    """Train one tokenizer and print its measurements as JSON (runs in a fresh process)."""
    from tokbench.corpora import load_sources
    from tokbench.train import TrainConfig, train_to_dir

    t0 = time.perf_counter()
    if args.dataset == "libreoffice":
        sources, budget = load_sources("libreoffice@train"), 50_000_000
    else:
        sources, budget = large_sources(args.variants), None
    load_s = time.perf_counter() - t0
    cfg = TrainConfig(args.kind, vocab_size=args.vocab_size, max_bytes=budget)
    t1 = time.perf_counter()
    res = train_to_dir(cfg, sources, args.out, force=True)
    train_s = time.perf_counter() - t1
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"kind": args.kind, "dataset": args.dataset, "train_s": round(train_s, 2),
                      "load_s": round(load_s, 2), "peak_rss_mb": round(peak_mb, 1), "stages_s": res.stages,
                      "training_bytes": sum(u["bytes_used"] for u in res.usage), "info": res.info,
                      "vocab_size": res.vocab_size}))


def run_child(kind: str, dataset: str, out: Path, vocab_size: int, variants: int) -> dict:
    cmd = [sys.executable, __file__, "--child", "--kind", kind, "--dataset", dataset, "--out", str(out),
           "--vocab-size", str(vocab_size), "--variants", str(variants)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"child {kind}/{dataset} failed:\n{proc.stderr[-3000:]}")
    rec = json.loads(proc.stdout.strip().splitlines()[-1])
    rec["process_s"] = round(time.perf_counter() - t0, 2)
    return rec


def bytes_per_token(tok_dirs: dict[str, Path]) -> list[dict]:
    """Bytes per token of each tokenizer on every language's test split."""
    from tokenizers import Tokenizer

    from tokbench.corpora import load_sources

    toks = {k: Tokenizer.from_file(str(d / "tokenizer.json")) for k, d in tok_dirs.items()}
    rows = []
    for src in load_sources("libreoffice@test") + load_sources("code@test"):
        n_bytes = src.n_bytes
        row = {"test": src.label, "bytes": n_bytes}
        for k, tok in toks.items():
            n = sum(len(e.ids) for e in tok.encode_batch_fast(src.texts, add_special_tokens=False))
            row[f"{k}_tokens"] = n
            row[f"{k}_bytes_per_token"] = round(n_bytes / n, 4)
        row["token_reduction"] = round(1 - row["superbpe_tokens"] / row["bpe_tokens"], 4)
        rows.append(row)
    return rows


def markdown(report: dict) -> str:
    from tokbench.report import markdown_table

    lines = ["# tokbench train: SuperBPE vs BPE", "",
             f"Vocabulary {report['vocab_size']:,}; superbpe transition 0.8, 2025 recipe, caps on. "
             f"{report['machine']}. The machine was shared with other jobs: single runs, ratios within one run.", ""]
    for ds in report["datasets"]:
        b, s = ds["bpe"], ds["superbpe"]
        lines += [f"## {ds['name']}: {b['training_bytes'] / 1e6:,.1f} MB of training text", "",
                  markdown_table([
                      {"kind": "bpe", "train wall s": b["train_s"], "peak RSS MB": b["peak_rss_mb"], "stages s": json.dumps(b["stages_s"])},
                      {"kind": "superbpe", "train wall s": s["train_s"], "peak RSS MB": s["peak_rss_mb"], "stages s": json.dumps(s["stages_s"])},
                      {"kind": "superbpe / bpe", "train wall s": ds["time_ratio"], "peak RSS MB": ds["memory_ratio"], "stages s": ""},
                  ]), "",
                  f"superbpe stage 1: {s['info']['stage1_merges']:,} merges; stage 2: {s['info']['stage2_merges']:,} merges over "
                  f"{s['info']['stage2_pretokens']:,} distinct pre-tokens ({s['info']['stage2_symbols']:,} symbols after replay).", "",
                  "Bytes per token on every test split (higher is better):", "",
                  markdown_table([{"test split": r["test"], "bpe": r["bpe_bytes_per_token"], "superbpe": r["superbpe_bytes_per_token"],
                                   "fewer tokens": f"{100 * r['token_reduction']:.1f}%"} for r in ds["bytes_per_token"]]), "",
                  "Targets: " + ", ".join(f"{k} {'met' if v['met'] else 'MISSED'} ({v['value']})" for k, v in ds["targets"].items()), ""]
    return "\n".join(lines)


def warm_numba() -> None:
    """Compile (or load from Numba's cache) the stage-2 kernel once, so no timed run pays compilation."""
    import numpy as np

    from tokbench.train.stage2_kernel import continue_bpe, flatten_words

    sym, wcnt = flatten_words([([0, 1, 0, 1, 2], 3)])
    continue_bpe(sym, wcnt, [b"a", b"b", b"c"], np.zeros((0, 3), np.int64), 6)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="libreoffice,large")
    ap.add_argument("--vocab-size", type=int, default=32000)
    ap.add_argument("--variants", type=int, default=2, help="reshuffled copies in the large dataset")
    ap.add_argument("--out", default=str(ROOT / "reports" / "bench"))
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--kind", help=argparse.SUPPRESS)
    ap.add_argument("--dataset", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return

    from tokbench.cli.common import console, rich_table
    from tokbench.files import write_json_atomic, write_text_atomic

    report = {"vocab_size": args.vocab_size, "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores, Python {platform.python_version()}",
              "targets": TARGETS, "datasets": []}
    warm_numba()
    with tempfile.TemporaryDirectory(prefix="tokbench-bench-train-") as tmp:
        for name in args.datasets.split(","):
            runs = {}
            for kind in ("bpe", "superbpe"):
                console.print(f"[bold]{name}[/]: training {kind} ...")
                runs[kind] = run_child(kind, name, Path(tmp) / f"{name}-{kind}", args.vocab_size, args.variants)
                console.print(f"  {runs[kind]['train_s']} s, peak {runs[kind]['peak_rss_mb']} MB")
            bpt = bytes_per_token({k: Path(tmp) / f"{name}-{k}" for k in runs})
            ds = {"name": name, **runs,
                  "time_ratio": round(runs["superbpe"]["train_s"] / runs["bpe"]["train_s"], 3),
                  "memory_ratio": round(runs["superbpe"]["peak_rss_mb"] / runs["bpe"]["peak_rss_mb"], 3),
                  "bytes_per_token": bpt}
            en = next(r for r in bpt if r["test"] == "libreoffice:en-us@test")
            ds["targets"] = {
                "time_ratio<=3": {"value": ds["time_ratio"], "met": ds["time_ratio"] <= TARGETS["time_ratio_max"]},
                "memory_ratio<=2": {"value": ds["memory_ratio"], "met": ds["memory_ratio"] <= TARGETS["memory_ratio_max"]},
                "en-us fewer tokens>=10%": {"value": en["token_reduction"], "met": en["token_reduction"] >= TARGETS["english_reduction_min"]},
            }
            report["datasets"].append(ds)
            console.print(rich_table([{"kind": k, "train s": runs[k]["train_s"], "peak MB": runs[k]["peak_rss_mb"]} for k in runs]
                                     + [{"kind": "ratio", "train s": ds["time_ratio"], "peak MB": ds["memory_ratio"]}], title=name))
            console.print(rich_table([{"test": r["test"], "bpe B/tok": r["bpe_bytes_per_token"], "superbpe B/tok": r["superbpe_bytes_per_token"],
                                       "fewer tokens": r["token_reduction"]} for r in bpt]))
    out = Path(args.out)
    write_json_atomic(out / "train.json", report)
    write_text_atomic(out / "train.md", markdown(report))
    console.print(f"wrote {out / 'train.json'} and {out / 'train.md'}")


if __name__ == "__main__":
    main()
