"""Benchmark tokbench at scale: peak memory and wall time against corpus size, beside the stock paths.

For each corpus size (default 100MB; e.g. ``--sizes 100MB,1GB``) a text file of varied text is built from
the bundled corpora (every train/test/dev split of libreoffice, code, turkish, gnome-help and udhr): pass
0 is every segment once; each further pass shuffles the segments with its own seed, joins them in pairs
and maps the digits 0-9 through a pass-specific permutation, so repeated passes add new segments and new
number pre-tokens instead of one file repeated. One segment per line (newlines inside a segment become
spaces). Then, each in a fresh child process whose wall time and peak RSS (``wait4``'s ``ru_maxrss``) are
taken:

  stock-bpe        stock `tokenizers` byte-level BPE ``Tokenizer.train([file])`` (what a user would run)
  tokbench-bpe     ``tokbench train bpe -c FILE --max-bytes all`` (streams the file into the same trainer)
  tokbench-superbpe ``tokbench train superbpe -c FILE --max-bytes all``
  stock-encode     stock ``Tokenizer.encode_batch`` over the file in batches of 1,024 lines, counting tokens
  tokbench-evaluate ``tokbench evaluate`` of the stock-bpe tokenizer on the file, compression only, no cache
  tokbench-bpe-ray-1/-2  ``tokbench train bpe ... --engine ray --workers N``: a local Ray cluster of N CPUs
                   started by the command counts pre-tokens, the driver trains BPE from the counts
  tokbench-infer-mixture(-ray-2)  ``tokbench infer-mixture`` of tokbench-bpe's tokenizer with the whole
                   corpus as one category (streamed) beside two bundled ones, 3,000 merges, 2 bootstrap
                   replicates over documents and merges (locally, or counting on a 2-CPU local Ray cluster): peak RSS against size
  superbpe-bound   SuperBPE unbounded and with stage 2 bounded at 1/4 and 1/10 of its distinct pre-tokens,
                   and plain BPE, on a corpus without every 10th bundled segment; bytes per token on those
                   held-out segments (the compression cost of the bound)

Evaluate against the tokenizer's own batch encoding, for each tokenizer of ``--eval-tokenizers`` (reference
names, e.g. cl100k (tiktoken) and deepseek-v3 (a `tokenizers` tokenizer.json)); NAME is the tokenizer:

  encode-batch:NAME     the library's own batch call over the file's lines in batches of 1,024, counting
                        tokens: tiktoken ``encode_ordinary_batch`` / tokenizers ``encode_batch``
  encode-fast:NAME      the fastest stock call: tiktoken ``encode_ordinary`` per line / tokenizers
                        ``encode_batch_fast`` (no offsets)
  evaluate-compression:NAME  ``tokbench evaluate NAME -c FILE --metrics compression --no-cache``
  evaluate-default:NAME      ``tokbench evaluate NAME -c FILE --no-cache`` (every default family: compression,
                        fertility and coverage on FILE, premium on udhr, %TR on the bundled test texts)
  evaluate-ray-1/-2:NAME     ``tokbench evaluate NAME -c FILE --metrics compression --engine ray --workers N
                        --no-cache``: a local Ray cluster of N CPUs started by the command, one actor per CPU

    python scripts/bench_scale.py --sizes 100MB --jobs evaluate --eval-tokenizers cl100k,deepseek-v3

All use one vocabulary size (32,000 default) and the same pre-tokenizer (GPT-2's). Ratios are taken within
one run; the machine may be shared, so times are single runs under whatever load there was.

    python scripts/bench_scale.py --sizes 100MB            # then 1GB, 5GB, 10GB as time allows
    python scripts/bench_scale.py --sizes 1GB --jobs stock-bpe,tokbench-bpe

Results accumulate in reports/bench/scale.json (one entry per size and job, newer runs replace older
ones) and reports/bench/scale.md is rewritten from it after every job.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT_JSON = ROOT / "reports" / "bench" / "scale.json"
REPORT_MD = ROOT / "reports" / "bench" / "scale.md"

BUILD = r"""
import random, sys
from tokbench.corpora import bundled_corpora, open_streams
path, size = sys.argv[1], int(sys.argv[2])
segs = []
for name in ("libreoffice", "code", "turkish", "gnome-help", "udhr"):
    if name in bundled_corpora():
        for s in open_streams(name):
            segs.extend(" ".join(t.split("\n")) for t in s.texts() if t.strip())
if len(sys.argv) > 3:  # a held-out file: every 10th segment goes there and never into the corpus
    with open(sys.argv[3], "w", encoding="utf-8") as f:
        f.writelines(t + "\n" for t in segs[::10])
    segs = [t for i, t in enumerate(segs) if i % 10]
written, k = 0, 0
with open(path, "w", encoding="utf-8") as f:
    while written < size:
        order = list(range(len(segs)))
        if k:
            rnd = random.Random(k)
            rnd.shuffle(order)
            digits = list("0123456789"); rnd.shuffle(digits)
            table = str.maketrans("0123456789", "".join(digits))
        for i in range(0, len(order), 1 if k == 0 else 2):
            line = segs[order[i]] if k == 0 else " ".join(segs[j] for j in order[i:i + 2]).translate(table)
            data = line + "\n"
            n = len(data.encode("utf-8"))
            if written + n > size:
                size = written  # full: the next segment does not fit
                break
            f.write(data)
            written += n
        k += 1
print(written, k)
"""

STOCK_BPE = r"""
import sys
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from tokbench.train.pretokenizers import stage1_pretokenizer
path, vocab, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
tok = Tokenizer(models.BPE())
tok.pre_tokenizer = stage1_pretokenizer("gpt2")
tok.decoder = decoders.ByteLevel()
trainer = trainers.BpeTrainer(vocab_size=vocab, min_frequency=2, special_tokens=["<|endoftext|>"],
                              initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
tok.train([path], trainer)
tok.save(out)
"""

STOCK_ENCODE = r"""
import sys
from tokenizers import Tokenizer
path, tok_path = sys.argv[1], sys.argv[2]
tok = Tokenizer.from_file(tok_path)
n_tokens = n_bytes = 0
batch = []
def flush():
    global n_tokens
    for e in tok.encode_batch(batch, add_special_tokens=False):
        n_tokens += len(e.ids)
with open(path, encoding="utf-8") as f:
    for line in f:
        line = line.rstrip("\n")
        if not line.strip():
            continue
        batch.append(line)
        n_bytes += len(line.encode("utf-8"))
        if len(batch) >= 1024:
            flush(); batch = []
flush()
print(n_bytes, n_tokens)
"""

# SuperBPE's bounded stage 2: train unbounded, then with the bound at 1/4 and 1/10 of the distinct stage-2
# pre-tokens the unbounded run counted, and plain BPE; each one's bytes per token on held-out segments.
SUPERBPE_BOUND = r"""
import json, sys, time
from tokbench.corpora import open_stream
from tokbench.train import TrainConfig, train
corpus, heldout, vocab, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
held = [t for t in open(heldout, encoding="utf-8").read().split("\n") if t.strip()]
held_bytes = sum(len(t.encode("utf-8")) for t in held)
rows = {}
def run(name, kind, cap):
    t0 = time.perf_counter()
    res = train(TrainConfig(kind, vocab_size=vocab, max_bytes=None, stage2_max_pretokens=cap), [open_stream(corpus)])
    wall = time.perf_counter() - t0
    n_tok = sum(len(e.ids) for e in res.tokenizer.encode_batch(held, add_special_tokens=False))
    keep = ("stage2_pretokens", "stage2_pretokens_bound", "stage2_pretokens_peak", "stage2_pruned", "stage2_dropped_share")
    rows[name] = {"kind": kind, "bound": cap, "train_s": round(wall, 2), "heldout_bytes": held_bytes,
                  "heldout_tokens": n_tok, "bytes_per_token": held_bytes / n_tok,
                  **{k: res.info[k] for k in keep if k in res.info}}
    print(name, rows[name], flush=True)
    with open(out, "w") as f:
        json.dump(rows, f, indent=1)
run("bpe", "bpe", None)
run("superbpe-unbounded", "superbpe", None)
distinct = rows["superbpe-unbounded"]["stage2_pretokens"]
for d in (4, 10):
    run(f"superbpe-1/{d}", "superbpe", distinct // d)
"""


STOCK_ENCODE_LIB = r"""
import sys
from tokbench.tokenizer import load_tokenizer
path, spec, mode = sys.argv[1], sys.argv[2], sys.argv[3]
tok = load_tokenizer(spec)  # tokbench only finds the file; the encoding below is the library's own
raw = getattr(tok, "_enc", None) or tok._tok
tiktoken = hasattr(raw, "encode_ordinary_batch")
n_tokens = n_bytes = 0
batch = []
def flush():
    global n_tokens
    if tiktoken and mode == "batch":
        n_tokens += sum(map(len, raw.encode_ordinary_batch(batch)))
    elif tiktoken:
        n_tokens += sum(len(raw.encode_ordinary(t)) for t in batch)
    elif mode == "batch":
        n_tokens += sum(len(e.ids) for e in raw.encode_batch(batch, add_special_tokens=False))
    else:
        n_tokens += sum(len(e.ids) for e in raw.encode_batch_fast(batch, add_special_tokens=False))
with open(path, encoding="utf-8") as f:
    for line in f:
        # the segments tokbench's .txt reader yields: lines end where str.splitlines ends them (a few
        # lines of the corpus hold U+2028 or U+0085), lines of only whitespace are skipped
        for part in line.splitlines():
            if not part.strip():
                continue
            batch.append(part)
            n_bytes += len(part.encode("utf-8"))
            if len(batch) >= 1024:
                flush(); batch = []
flush()
print("TOKENS", n_bytes, n_tokens)
"""


def json_in(text: str) -> dict:
    """The JSON object a job printed (its log also holds the progress lines, which go to stderr)."""
    dec = json.JSONDecoder()
    for i in [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]:
        if text.startswith("{", i):
            try:
                return dec.raw_decode(text, i)[0]
            except ValueError:
                continue
    raise ValueError("no JSON object in the log")


def parse_size(text: str) -> int:
    units = {"KB": 10**3, "MB": 10**6, "GB": 10**9}
    t = text.strip().upper()
    for u, m in units.items():
        if t.endswith(u):
            return int(float(t[: -len(u)]) * m)
    return int(t)


def run(cmd: list[str], env: dict, log: Path) -> dict:
    """Run ``cmd`` niced, return wall seconds, peak RSS (MB) and exit code."""
    t0 = time.perf_counter()
    err = log.with_suffix(".err")
    with open(log, "w") as lf, open(err, "w") as ef:  # apart: evaluate's --json document is stdout alone
        p = subprocess.Popen(["nice", "-n", "5", *cmd], stdout=lf, stderr=ef, env=env, cwd=ROOT)
        _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    out = {"wall_s": round(wall, 2), "peak_rss_mb": round(ru.ru_maxrss / 1024, 1), "exit": p.returncode,
           "tail": (log.read_text(errors="replace")[-200:] + err.read_text(errors="replace")[-400:]) if p.returncode else "",
           "load_avg_1min_after": round(os.getloadavg()[0], 2)}
    tokens, timings = _tokens_of(log)
    if tokens is not None:
        out["tokens"] = tokens
    if timings:  # evaluate's own split: encoding vs the rest (e.g. %TR oracles judging tokens)
        out["note"] = f"encode {timings.get('encode_s')} s, metrics {timings.get('metrics_s')} s"
    return out


def _tokens_of(log: Path) -> tuple[int | None, dict | None]:
    """Tokens the job counted (a stock job's TOKENS line, or evaluate's JSON: the file's compression row)
    and evaluate's timings."""
    text = log.read_text(errors="replace")
    for line in text.splitlines():
        if line.startswith("TOKENS "):
            return int(line.split()[2]), None
    start = text.find("{")
    if start < 0:
        return None, None
    try:
        doc = json.JSONDecoder().raw_decode(text[start:])[0]
        rows = [r for r in doc["tables"]["compression"] if r.get("corpus") == "file"]
        timings = next(iter(doc.get("timings", {}).values()), None)
        return (sum(r["tokens"] for r in rows) if rows else None), timings
    except (ValueError, KeyError, TypeError):
        return None, None


def eval_jobs(corpus: Path, work: Path, tokenizers: list[str]) -> dict[str, list[str]]:
    """The evaluate jobs of one size (see the module docstring), per tokenizer."""
    py = sys.executable
    tb = [py, "-c", "import sys; from tokbench.cli.main import main; sys.argv[0] = 'tokbench'; main()"]
    jobs = {}
    for name in tokenizers:
        ev = [*tb, "evaluate", name, "-c", str(corpus), "--no-cache", "--force", "--json"]
        jobs[f"encode-batch:{name}"] = [py, "-c", STOCK_ENCODE_LIB, str(corpus), name, "batch"]
        jobs[f"encode-fast:{name}"] = [py, "-c", STOCK_ENCODE_LIB, str(corpus), name, "fast"]
        jobs[f"evaluate-compression:{name}"] = [*ev, "--metrics", "compression", "-o", str(work / f"ev-c-{name}")]
        jobs[f"evaluate-default:{name}"] = [*ev, "-o", str(work / f"ev-d-{name}")]
        for n in (1, 2):
            jobs[f"evaluate-ray-{n}:{name}"] = [*ev, "--metrics", "compression", "--engine", "ray", "--workers", str(n),
                                               "-o", str(work / f"ev-r{n}-{name}")]
    return jobs


def jobs_for(size: int, corpus: Path, work: Path, vocab: int) -> dict[str, list[str]]:
    py = sys.executable
    tb = [py, "-c", "import sys; from tokbench.cli.main import main; sys.argv[0] = 'tokbench'; main()"]
    return {
        "stock-bpe": [py, "-c", STOCK_BPE, str(corpus), str(vocab), str(work / "stock-bpe.json")],
        "tokbench-bpe": [*tb, "train", "bpe", "-c", str(corpus), "--train-bytes", "all", "-v", str(vocab),
                         "-o", str(work / "tokbench-bpe"), "--force", "--json"],
        "tokbench-superbpe": [*tb, "train", "superbpe", "-c", str(corpus), "--train-bytes", "all", "-v", str(vocab),
                              "-o", str(work / "tokbench-superbpe"), "--force", "--json"],
        "stock-encode": [py, "-c", STOCK_ENCODE, str(corpus), str(work / "stock-bpe.json")],
        "tokbench-evaluate": [*tb, "evaluate", str(work / "stock-bpe.json"), "-c", str(corpus), "--metrics", "compression",
                              "--no-cache", "-o", str(work / "evaluate"), "--force", "--json"],
        # The corpus is one category beside two bundled ones; the tokenizer is tokbench-bpe's (run that job first).
        **{f"tokbench-infer-mixture{sfx}": [*tb, "infer-mixture", str(work / "tokbench-bpe" / "tokenizer.json"),
                                            "-c", f"big={corpus}", "-c", "de=libreoffice:de@train", "-c", "py=code:python@train",
                                            "--merges", "3000", "--time-limit", "120", "--bootstrap", "2", "--bootstrap-over", "both",
                                            "--no-report", "--json", *extra]
           for sfx, extra in (("", []), ("-ray-2", ["--engine", "ray", "--workers", "2"]))},
        "superbpe-bound": [py, "-c", SUPERBPE_BOUND, str(work / "corpus-train.txt"), str(work / "heldout.txt"), str(vocab),
                           str(work / "superbpe-bound.json")],
        **{f"tokbench-bpe-ray-{n}": [*tb, "train", "bpe", "-c", str(corpus), "--train-bytes", "all", "-v", str(vocab),
                                     "--engine", "ray", "--workers", str(n), "-o", str(work / f"tokbench-bpe-ray-{n}"),
                                     "--force", "--json"] for n in (1, 2)},
    }


def load_results() -> dict:
    if REPORT_JSON.exists():
        return json.loads(REPORT_JSON.read_text())
    return {"runs": {}}


def save(results: dict) -> None:
    REPORT_JSON.parent.mkdir(parents=True, exist_ok=True)
    REPORT_JSON.write_text(json.dumps(results, indent=1, sort_keys=True))
    REPORT_MD.write_text(render(results))


def eval_ratios(jobs: dict) -> list[str]:
    """Throughput ratios of the evaluate jobs against the stock encoders of the same tokenizer (same run)."""
    out = []
    names = sorted({k.split(":", 1)[1] for k in jobs if ":" in k})
    ok = lambda k: k in jobs and jobs[k]["exit"] == 0  # noqa: E731
    for name in names:
        for ev in ("evaluate-compression", "evaluate-default", "evaluate-ray-2"):
            for stock in ("encode-batch", "encode-fast"):
                a, b = f"{stock}:{name}", f"{ev}:{name}"
                if ok(a) and ok(b):
                    same = jobs[a].get("tokens") == jobs[b].get("tokens")
                    out.append(f"- {name}: {ev} vs {stock}: throughput {jobs[a]['wall_s'] / jobs[b]['wall_s']:.2f}x "
                               f"(target >= 0.9x), peak RSS {jobs[b]['peak_rss_mb'] / jobs[a]['peak_rss_mb']:.2f}x; "
                               f"same token count: {'yes' if same else 'NO'}")
        r1, r2 = f"evaluate-ray-1:{name}", f"evaluate-ray-2:{name}"
        if ok(r1) and ok(r2):
            out.append(f"- {name}: evaluate on Ray, 2 workers vs 1: {jobs[r1]['wall_s'] / jobs[r2]['wall_s']:.2f}x faster "
                       "(target >= 1.6x; wall time includes starting the local cluster; peak RSS is the driver's only)")
    return out + ([""] if out else [])


def render(results: dict) -> str:
    lines = ["# Scale benchmark", "",
             "Written by `python scripts/bench_scale.py` (see its docstring for what each job runs). Peak RSS is",
             "the child process's `ru_maxrss`; times are single runs on a shared 2-core machine (other jobs",
             "were running), so ratios within one size are the meaningful figures.", ""]
    if results.get("notes_md"):  # what the runs were, written by hand beside the numbers
        lines += [results["notes_md"], ""]
    for size_key in sorted(results["runs"], key=lambda k: results["runs"][k]["bytes"]):
        r = results["runs"][size_key]
        jobs = r["jobs"]
        lines += [f"## {size_key} ({r['bytes']:,} bytes, built in {r.get('build_s', '?')} s)", "",
                  f"command: `{r.get('command', '')}`", "",
                  "| job | wall s | peak RSS MB | tokens | load avg (1 min, at its end) | note |",
                  "|---|---:|---:|---:|---:|---|"]
        for name, j in jobs.items():
            note = j.get("note", "") if j["exit"] == 0 else f"FAILED (exit {j['exit']})"
            tokens = f"{j['tokens']:,}" if j.get("tokens") is not None else ""
            lines.append(f"| {name} | {j['wall_s']} | {j['peak_rss_mb']} | {tokens} | {j.get('load_avg_1min_after', '')} | {note} |")
        lines.append("")
        lines += eval_ratios(jobs)
        sb, tb = jobs.get("stock-bpe"), jobs.get("tokbench-bpe")
        if sb and tb and sb["exit"] == tb["exit"] == 0:
            lines.append(f"- train bpe vs stock: time {tb['wall_s'] / sb['wall_s']:.2f}x, peak RSS "
                         f"{tb['peak_rss_mb'] / sb['peak_rss_mb']:.2f}x (targets <= 1.1x and <= 1.3x)")
        se, te = jobs.get("stock-encode"), jobs.get("tokbench-evaluate")
        if se and te and se["exit"] == te["exit"] == 0:
            lines.append(f"- evaluate (compression) vs stock batch encoding: throughput {se['wall_s'] / te['wall_s']:.2f}x "
                         f"(target >= 0.9x), peak RSS {te['peak_rss_mb'] / se['peak_rss_mb']:.2f}x")
        sp = jobs.get("tokbench-superbpe")
        if sp and tb and sp["exit"] == tb["exit"] == 0:
            lines.append(f"- train superbpe vs tokbench bpe: time {sp['wall_s'] / tb['wall_s']:.2f}x (target <= 2x), "
                         f"peak RSS {sp['peak_rss_mb'] / tb['peak_rss_mb']:.2f}x")
        r1, r2 = jobs.get("tokbench-bpe-ray-1"), jobs.get("tokbench-bpe-ray-2")
        if r1 and r2 and r1["exit"] == r2["exit"] == 0:
            lines.append(f"- train bpe on Ray (driver + local cluster started by the command): 2 workers vs 1: "
                         f"{r1['wall_s'] / r2['wall_s']:.2f}x faster; peak RSS is the driver's only (Ray's workers "
                         f"are not its children)")
        sbb = r.get("superbpe_bound")
        if sbb:
            lines += ["", "SuperBPE's bounded stage 2 (job superbpe-bound: corpus without every 10th bundled segment, "
                      "those segments held out; bytes per token on the held-out text, higher is better):", "",
                      "| run | stage-2 bound | distinct stage-2 pre-tokens kept | pruned | dropped share | train s | "
                      "held-out bytes/token | vs unbounded |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
            base = sbb.get("superbpe-unbounded", {}).get("bytes_per_token")
            for name, row in sbb.items():
                rel = f"{(row['bytes_per_token'] / base - 1) * 100:+.2f}%" if base and row["kind"] == "superbpe" else ""
                lines.append(f"| {name} | {row['bound'] if row['bound'] is not None else 'none'} | "
                             f"{row.get('stage2_pretokens', '')} | {row.get('stage2_pruned', '')} | "
                             f"{row.get('stage2_dropped_share', '')} | {row['train_s']} | {row['bytes_per_token']:.4f} | {rel} |")
            if "bpe" in sbb and "superbpe-unbounded" in sbb:
                lines.append(f"- superbpe (unbounded) vs bpe in this job: time "
                             f"{sbb['superbpe-unbounded']['train_s'] / sbb['bpe']['train_s']:.2f}x (target <= 2x)")
            lines.append("")
        im, im2 = jobs.get("tokbench-infer-mixture"), jobs.get("tokbench-infer-mixture-ray-2")
        if im and im["exit"] == 0:
            lines.append(f"- infer-mixture with the {size_key} corpus as one category: {im['wall_s']} s, "
                         f"{im['peak_rss_mb']} MB peak" + (f"; Ray 2 workers {im2['wall_s']} s (driver "
                         f"{im2['peak_rss_mb']} MB), same shares as local: {r.get('same_shares_ray', '?')}"
                         if im2 and im2["exit"] == 0 else ""))
        if "same_merges_ray" in r:
            lines.append(f"- merges of the Ray runs equal the local run's: {r['same_merges_ray']}")
        if "same_merges" in r:
            lines.append(f"- tokbench bpe's merges equal stock's (same file, same settings): {r['same_merges']}")
        lines.append("")
    lines += ["Machine: " + results.get("machine", ""), ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100MB")
    ap.add_argument("--jobs", default="stock-bpe,tokbench-bpe,tokbench-bpe-ray-1,tokbench-bpe-ray-2,tokbench-superbpe,"
                                       "stock-encode,tokbench-evaluate")
    ap.add_argument("--vocab-size", type=int, default=32000)
    ap.add_argument("--eval-tokenizers", default="cl100k,deepseek-v3",
                    help="tokenizers of the evaluate jobs ('evaluate' in --jobs expands to all of them)")
    ap.add_argument("--tag", default="", help="label appended to the size's entry (keeps earlier runs of that size apart)")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "tokbench-bench-scale")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    results = load_results()
    results["machine"] = f"{platform.platform(terse=True)}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    for size_text in args.sizes.split(","):
        size = parse_size(size_text)
        corpus = args.work / f"corpus-{size_text}.txt"
        entry = results["runs"].setdefault(size_text + (f" {args.tag}" if args.tag else ""), {"bytes": size, "jobs": {}})
        entry["command"] = " ".join(["python scripts/bench_scale.py", "--sizes", size_text, "--jobs", args.jobs,
                                     "--vocab-size", str(args.vocab_size)] + (["--tag", repr(args.tag)] if args.tag else []))
        if not corpus.exists() or corpus.stat().st_size != size and corpus.stat().st_size < size * 0.99:
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", BUILD, str(corpus), str(size)], check=True, env=env, cwd=ROOT)
            entry["build_s"] = round(time.perf_counter() - t0, 1)
        entry["bytes"] = corpus.stat().st_size
        work = args.work / size_text
        work.mkdir(exist_ok=True)
        toks = [t for t in args.eval_tokenizers.split(",") if t]
        cmds = {**jobs_for(size, corpus, work, args.vocab_size), **eval_jobs(corpus, work, toks)}
        names = [n for j in args.jobs.split(",") for n in (list(eval_jobs(corpus, work, toks)) if j == "evaluate" else [j])]
        if any(":" in n for n in names):
            entry["command"] += f" --eval-tokenizers {args.eval_tokenizers}"
        if "superbpe-bound" in args.jobs.split(",") and not (work / "heldout.txt").exists():
            subprocess.run([sys.executable, "-c", BUILD, str(work / "corpus-train.txt"), str(size), str(work / "heldout.txt")],
                           check=True, env=env, cwd=ROOT)
        for name in names:
            print(f"[{time.strftime('%H:%M:%S')}] {size_text} {name} ...", flush=True)
            res = run(cmds[name], env, work / f"{name.replace(':', '-')}.log")
            entry["jobs"][name] = res
            print(f"    {res['wall_s']} s, {res['peak_rss_mb']} MB peak, exit {res['exit']}", flush=True)
            if name == "superbpe-bound" and (work / "superbpe-bound.json").exists():
                entry["superbpe_bound"] = json.loads((work / "superbpe-bound.json").read_text())
            save(results)
        logs = [work / f"tokbench-infer-mixture{sfx}.log" for sfx in ("", "-ray-2")]
        if all(p.exists() for p in logs) and all(entry["jobs"].get(p.stem, {}).get("exit") == 0 for p in logs):
            try:
                shares = [{c["category"]: c["proportion"] for c in json_in(p.read_text())["categories"]} for p in logs]
                entry["same_shares_ray"] = "yes" if shares[0] == shares[1] else f"no ({shares})"
            except (ValueError, KeyError):
                entry["same_shares_ray"] = "could not read the JSON outputs"
        stock, ours = work / "stock-bpe.json", work / "tokbench-bpe" / "tokenizer.json"
        if stock.exists() and ours.exists():
            a = json.loads(stock.read_text())["model"]["merges"]
            b = json.loads(ours.read_text())["model"]["merges"]
            if a == b:
                entry["same_merges"] = "yes"
            else:  # stock's file reader keeps each line's newline; tokbench's .txt segments do not
                i = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
                shared = len({tuple(m) for m in a} & {tuple(m) for m in b})
                entry["same_merges"] = (f"no: first difference at merge {i} (stock {a[i] if i < len(a) else None}, "
                                        f"tokbench {b[i] if i < len(b) else None}); {shared:,} of {len(a):,} merges shared")
            ray_runs = [work / f"tokbench-bpe-ray-{n}" / "tokenizer.json" for n in (1, 2)]
            ray_runs = [p for p in ray_runs if p.exists()]
            if ray_runs:
                same = all(json.loads(p.read_text())["model"]["merges"] == b for p in ray_runs)
                entry["same_merges_ray"] = f"{'yes' if same else 'no'} ({len(ray_runs)} runs)"
        save(results)


if __name__ == "__main__":
    main()
