"""`tokbench demo`: the whole workbench on the bundled corpora, offline, in one report.

Steps (each reuses the library behind its command):

1. train ``bpe``, ``superbpe``, ``char-bpe`` and ``unigram`` on a known multilingual mixture of the
   LibreOffice and code training splits;
2. evaluate them beside every reference tokenizer already in the cache;
3. infer the training mixture of the tokbench BPE from its merge list and show it beside the truth;
4. write a regression baseline for the BPE and check it (and, to show a failing gate, check the
   SuperBPE against the BPE's baseline);
5. when the ``model`` extra and the SmolLM2 model are present, transplant SmolLM2 onto the BPE and
   report bits per byte.

Everything that varies between runs (wall times) goes to ``manifest.json``, never into ``report.md``,
so the committed example report can be compared with a fresh run.
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence

from tokbench.progress import Progress, no_progress
from tokbench.report import markdown_table

Log = Callable[[str], None]


@dataclass(frozen=True)
class DemoConfig:
    """The demo's settings: the single source of its defaults (``quick`` shrinks the budgets)."""

    quick: bool = False
    #: training mixture: (corpus spec of a training split, weight by bytes)
    mixture: tuple[tuple[str, float], ...] = (
        ("libreoffice:en@train", 0.30), ("libreoffice:de@train", 0.15), ("libreoffice:fr@train", 0.12),
        ("libreoffice:tr@train", 0.10), ("libreoffice:ru@train", 0.10), ("libreoffice:ja@train", 0.08),
        ("code:python@train", 0.15),
    )
    train_bytes: int = 4_000_000
    vocab_size: int = 16_000
    char_bpe_vocab: int = 8_000
    char_bpe_max_chars: int = 4
    kinds: tuple[str, ...] = ("bpe", "superbpe", "char-bpe", "unigram")
    #: evaluation: the training languages, three it never saw, and code
    eval_corpora: tuple[str, ...] = ("libreoffice:en,de,fr,tr,ru,ja,hi,ko,el@test", "code:python,rust@test")
    eval_bytes: int = 120_000
    #: mixture inference: the same categories, sampled from the dev splits
    mixture_sample_bytes: int = 250_000
    mixture_merges: int = 15_000
    mixture_max_rounds: int = 40
    mixture_gap: float = 0.01
    #: transplant (with the model extra and SmolLM2 present): methods, and the English text measured on
    transplant_methods: tuple[str, ...] = ("omp",)
    transplant_text: str = "libreoffice:en@test"
    transplant_bytes: int = 24_000
    seed: int = 0

    def effective(self) -> "DemoConfig":
        """The quick variant: smaller budgets, same steps."""
        if not self.quick:
            return self
        return replace(self, train_bytes=1_000_000, vocab_size=4_000, char_bpe_vocab=2_000, eval_bytes=40_000,
                       mixture_sample_bytes=120_000, mixture_merges=3_500, transplant_bytes=8_000)


@dataclass
class DemoResult:
    out: Path
    sections: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    facts: dict = field(default_factory=dict)


def _category(spec: str) -> str:
    """'libreoffice:de@train' -> 'de'; 'code:python@train' -> 'python'."""
    return spec.split(":", 1)[1].split("@", 1)[0]


def run_demo(config: DemoConfig, out: Path, *, log: Log = lambda s: None, progress: Progress = no_progress) -> DemoResult:
    """Run every step into the (existing, empty) folder ``out`` and write ``report.md``."""
    from tokbench.corpora import load_source
    from tokbench.files import write_json_atomic, write_text_atomic
    from tokbench.provenance import run_manifest

    cfg = config.effective()
    res = DemoResult(out)
    started = time.perf_counter()
    sources = [load_source(spec) for spec, _ in cfg.mixture]
    weights = [w for _, w in cfg.mixture]

    trained = _train(cfg, sources, weights, out / "tokenizers", res, log, progress)
    evaluated = _evaluate(cfg, trained, out / "evaluate", res, log, progress)
    _mixture(cfg, trained["bpe"], out / "mixture", res, log, progress)
    _check(cfg, trained, out / "check", res, log, progress)
    _transplant(cfg, trained["bpe"], out / "transplant", res, log, progress)

    header = [
        "# tokbench demo",
        "",
        f"`tokbench demo{' --quick' if cfg.quick else ''}`: everything below was computed offline from the bundled "
        "corpora (and the reference tokenizers found in the cache). Inputs, parameters, versions and wall times are "
        "in `manifest.json`; each step's full output is in its folder.",
        "",
        f"Reference tokenizers in this run: {', '.join(evaluated['references']) or 'none (fetch them with `tokbench fetch`)'}.",
        "",
    ]
    write_text_atomic(out / "report.md", "\n".join(header + res.sections) + "\n")
    manifest = run_manifest("demo", asdict(cfg), sources, seed=cfg.seed, started=started,
                            extra={"step_wall_time_s": res.timings, "facts": res.facts})
    write_json_atomic(out / "manifest.json", manifest)
    return res


# --- 1. train ---------------------------------------------------------------------------------------

def _train(cfg: DemoConfig, sources, weights, out: Path, res: DemoResult, log: Log, progress: Progress) -> dict[str, Path]:
    from tokbench.tokenizer import load_tokenizer
    from tokbench.train import TrainConfig, train

    trained: dict[str, Path] = {}
    rows = []
    for kind in cfg.kinds:
        t0 = time.perf_counter()
        vocab = cfg.char_bpe_vocab if kind == "char-bpe" else cfg.vocab_size
        tc = TrainConfig(kind, vocab_size=vocab, max_bytes=cfg.train_bytes, seed=cfg.seed, exact_mixture=True,
                         max_token_chars=cfg.char_bpe_max_chars if kind == "char-bpe" else None)
        log(f"training {kind} ({vocab:,} tokens) on {cfg.train_bytes / 1e6:.1f} MB")
        result = train(tc, sources, weights, progress)
        path = out / f"tokbench-{kind}"
        result.save(path, force=True)
        trained[kind] = path
        res.timings[f"train_{kind}"] = round(time.perf_counter() - t0, 2)
        tok = load_tokenizer(path)
        info = result.info or {}
        rows.append({"tokenizer": f"tokbench-{kind}", "kind": kind, "vocab_size": tok.vocab_size,
                     "training bytes": sum(u["bytes_used"] for u in result.usage),
                     "notes": _train_note(kind, info, cfg)})
        if kind == "bpe":
            res.facts["true_mixture"] = {_category(u["spec"] if "spec" in u else u.get("label", "")): u["bytes_used"]
                                         for u in result.usage}
    res.sections += [
        "## 1. Train",
        "",
        "Four kinds trained on one mixture of real text, mixed by bytes in exact proportions: "
        + ", ".join(f"{_category(s)} {w:.0%}" for s, w in cfg.mixture) + ". Each folder holds a `tokenizer.json` that "
        "stock `tokenizers`/`transformers` load, and a `tokbench.json` manifest.",
        "",
        markdown_table(rows),
        "",
    ]
    return trained


def _train_note(kind: str, info: dict, cfg: DemoConfig) -> str:
    if kind == "superbpe":
        t = info.get("transition_vocab") or info.get("stage1_vocab")
        return f"stage 1 BPE to {t:,} tokens, then superwords" if t else "two-stage superword BPE"
    if kind == "char-bpe":
        return f"at most {cfg.char_bpe_max_chars} characters per token"
    if kind == "bpe":
        return "byte-level, GPT-2 pre-tokenization"
    return ""


# --- 2. evaluate ------------------------------------------------------------------------------------

def _evaluate(cfg: DemoConfig, trained: dict[str, Path], out: Path, res: DemoResult, log: Log, progress: Progress) -> dict:
    from tokbench.metrics import EvalConfig, evaluate
    from tokbench.metrics.report import write_report
    from tokbench.provenance import run_manifest
    from tokbench.tokenizer import load_tokenizer
    from tokbench.tokenizer.references import DEFAULT_SET, available_references

    t0 = time.perf_counter()
    refs = [r for r in DEFAULT_SET if r in available_references()]
    toks = [load_tokenizer(p, name=f"tokbench-{k}") for k, p in trained.items()] + refs
    metrics = ("compression", "fertility", "premium", "coverage")
    ec = EvalConfig(metrics=metrics, corpora=cfg.eval_corpora, max_bytes=cfg.eval_bytes)
    log(f"evaluating {len(toks)} tokenizers ({', '.join(metrics)})")
    results = evaluate(toks, ec, progress=progress)
    out.mkdir(parents=True, exist_ok=True)
    write_report(results, out, run_manifest("evaluate", asdict(ec), results.inputs))
    res.timings["evaluate"] = round(time.perf_counter() - t0, 2)
    summary = results.tables.get("summary", [])
    keep = ("tokenizer", "vocab_size", "bytes_per_token_natural", "bytes_per_token_code", "renyi_efficiency",
            "fertility_mean", "premium_median", "premium_std", "byte_token_rate")
    rows = [{k: r.get(k) for k in keep} for r in summary]
    section = [
        "## 2. Evaluate",
        "",
        f"All tokenizers on the LibreOffice test split of nine languages (three unseen in training: hi, ko, el) and "
        f"code, at most {cfg.eval_bytes // 1000} KB per source; token premium on the UDHR against English. "
        "Full report: [evaluate/report.md](evaluate/report.md).",
        "",
        markdown_table(rows),
        "",
    ]
    if results.failures:
        section += ["Tokenizers that failed to load: " + ", ".join(f"{f.get('tokenizer')} ({f.get('error')})" for f in results.failures), ""]
    for png, caption in (("bytes_per_token.png", "Bytes per token by language"), ("premium.png", "Token premium vs English (UDHR)")):
        if (out / png).exists():
            section += [f"![{caption}](evaluate/{png})", ""]
    res.sections += section
    res.facts["bytes_per_token"] = {r["tokenizer"]: r.get("bytes_per_token_natural") for r in summary}
    return {"references": refs}


# --- 3. infer the mixture ---------------------------------------------------------------------------

def _mixture(cfg: DemoConfig, bpe_dir: Path, out: Path, res: DemoResult, log: Log, progress: Progress) -> None:
    from tokbench.files import write_json_atomic
    from tokbench.mixture.config import MixtureConfig
    from tokbench.mixture.infer import infer_mixture, load_categories
    from tokbench.report import write_table
    from tokbench.tokenizer import load_tokenizer

    t0 = time.perf_counter()
    pairs = [(_category(spec), spec.replace("@train", "@dev")) for spec, _ in cfg.mixture]
    log(f"inferring the mixture of tokbench-bpe over {len(pairs)} categories")
    with progress("reading categories", len(pairs)) as advance:
        categories = load_categories(pairs, sample_bytes=cfg.mixture_sample_bytes, advance=advance)
    tok = load_tokenizer(bpe_dir, name="tokbench-bpe")
    # Stop on a round count and a gap, never on wall time, so the committed report is reproducible.
    mc = MixtureConfig(merges=cfg.mixture_merges, sample_bytes=cfg.mixture_sample_bytes, time_limit=None,
                       max_rounds=cfg.mixture_max_rounds, gap=cfg.mixture_gap, bootstrap=0)
    found = infer_mixture(tok, categories, mc, progress=progress)
    truth_bytes = res.facts.get("true_mixture", {})
    total = sum(truth_bytes.values()) or 1
    rows = []
    for r in sorted(found.rows(), key=lambda r: -truth_bytes.get(r["category"], 0)):
        true = truth_bytes.get(r["category"], 0) / total
        rows.append({"category": r["category"], "true": true, "inferred": r["proportion"], "TC baseline": r["tc"],
                     "error": r["proportion"] - true})
    mse = sum(r["error"] ** 2 for r in rows) / len(rows)
    tc_mse = sum((r["TC baseline"] - r["true"]) ** 2 for r in rows) / len(rows)
    out.mkdir(parents=True, exist_ok=True)
    write_table(out, "mixture", rows)
    png = "mixture.png"
    _paired_bars(out / png, [r["category"] for r in rows], {"true": [r["true"] for r in rows],
                 "inferred (LP)": [r["inferred"] for r in rows], "TC baseline": [r["TC baseline"] for r in rows]})
    res.timings["infer_mixture"] = round(time.perf_counter() - t0, 2)
    import math

    res.facts["mixture_log10_mse"] = {"lp": math.log10(mse) if mse > 0 else None, "tc": math.log10(tc_mse) if tc_mse > 0 else None}
    stats = found.lp.stats()
    write_json_atomic(out / "solver.json", stats)
    res.sections += [
        "## 3. Infer the mixture",
        "",
        f"The BPE's first {found.merges:,} merges and samples of each category's dev split "
        f"(up to {cfg.mixture_sample_bytes // 1000} KB, text the tokenizer never saw) go into the linear program of "
        "Hayase et al. 2024 (lazy row/column generation in HiGHS). The true byte proportions of its training data "
        f"are known here. log10 MSE: **{math.log10(mse):.1f}** for the LP vs {math.log10(tc_mse):.1f} for the TC baseline "
        f"(the LP stops when optimal, after {cfg.mixture_max_rounds} rounds or at a {cfg.mixture_gap:.0%} gap; "
        "the solver's statistics, which follow the machine's floating-point path, are in `mixture/solver.json`).",
        "",
        # Three decimals: the LP stops within a 1% gap, and machines differ in the fourth (issue 13).
        markdown_table([{k: (round(v, 3) + 0.0 if isinstance(v, float) else v) for k, v in r.items()} for r in rows],
                       floatfmt="{:.3f}"),  # + 0.0: a rounded -0.0004 prints 0.000, not -0.000
        "",
        f"![Inferred vs true mixture](mixture/{png})",
        "",
    ]


def _paired_bars(path: Path, labels: Sequence[str], series: dict[str, Sequence[float]]) -> None:
    from tokbench.report import grouped_bar_chart

    grouped_bar_chart(path, labels, series, title="Training mixture of tokbench-bpe: true vs inferred", ylabel="share of training bytes")


# --- 4. check ---------------------------------------------------------------------------------------

def _check(cfg: DemoConfig, trained: dict[str, Path], out: Path, res: DemoResult, log: Log, progress: Progress) -> None:
    from tokbench.check import CheckConfig, build_baseline, run_check, write_baseline, write_junit
    from tokbench.tokenizer import load_tokenizer

    t0 = time.perf_counter()
    bpe = load_tokenizer(trained["bpe"], name="tokbench-bpe")
    baseline = out / "tokbench-bpe.baseline.json"
    log("writing a regression baseline for tokbench-bpe and checking it")
    with progress("measuring tokbench-bpe", None) as advance:
        write_baseline(baseline, build_baseline(bpe, CheckConfig(), advance))
    with progress("checking tokbench-bpe", None) as advance:
        same = run_check(bpe, baseline, advance=advance)
    # The report folder is written under a temporary name and moved into place: name the baseline as the
    # report does (relative to the report folder), not by a path that exists only during the run.
    same.baseline_path = "check/tokbench-bpe.baseline.json"
    write_junit(out / "tokbench-bpe.junit.xml", same)
    other = load_tokenizer(trained["superbpe"], name="tokbench-superbpe")
    with progress("checking tokbench-superbpe", None) as advance:
        changed = run_check(other, baseline, advance=advance)
    res.timings["check"] = round(time.perf_counter() - t0, 2)
    counts = same.counts()
    lines = [f"- `{r.category}` {r.name}: {r.message}" for r in changed.failures[:8]]
    res.sections += [
        "## 4. Regression check",
        "",
        f"`tokbench check tokbench-bpe --baseline check/tokbench-bpe.baseline.json`: "
        f"**{'passed' if same.passed else 'FAILED'}** ({counts['pass']} checks passed, {counts['skipped']} skipped). "
        "The same gate fed the SuperBPE instead shows what a failing build prints "
        f"({len(changed.failures)} failures; the first ones):",
        "",
        *lines,
        "",
    ]
    res.facts["check"] = {"passed": same.passed, "failures_when_swapped": len(changed.failures)}


# --- 5. transplant (optional) -------------------------------------------------------------------------

def _transplant(cfg: DemoConfig, bpe_dir: Path, out: Path, res: DemoResult, log: Log, progress: Progress) -> None:
    """SmolLM2-135M onto the demo's BPE by OMP and by the mean baseline, bits per byte side by side.

    Only runs when torch/transformers (the `model` extra) and the SmolLM2 package are installed: the demo
    never downloads. Model weights go to a temporary folder, only the table reaches the report.
    """
    import shutil
    import tempfile

    title = ["## 5. Transplant", ""]
    have_torch = importlib.util.find_spec("torch") is not None and importlib.util.find_spec("transformers") is not None
    gguf = None
    if have_torch:
        from tokbench.errors import TokbenchError
        from tokbench.transplant.fetch import smollm2_gguf

        try:
            gguf = smollm2_gguf(install=False)
        except TokbenchError:
            gguf = None
    if gguf is None or not Path(gguf).exists():
        res.sections += title + [
            "_Skipped: needs the `model` extra (torch, transformers) and the SmolLM2-135M model "
            "(`tokbench fetch smollm2`)._", "",
        ]
        return
    from tokbench.corpora import load_source
    from tokbench.transplant.config import TransplantConfig
    from tokbench.transplant.run import compare_bits_per_byte, transplant

    t0 = time.perf_counter()
    text_bytes = cfg.transplant_bytes
    texts = load_source(cfg.transplant_text, max_bytes=text_bytes).texts
    log(f"transplanting SmolLM2-135M onto tokbench-bpe ({', '.join(cfg.transplant_methods)}) and measuring bits per byte")
    work = Path(tempfile.mkdtemp(prefix="tokbench-demo-transplant-"))
    try:
        counts = {m: transplant(gguf, bpe_dir, work / m, TransplantConfig(method=m), progress=progress).get("counts", {})
                  for m in cfg.transplant_methods}
        measured = compare_bits_per_byte(gguf, {m: work / m for m in cfg.transplant_methods}, texts, progress=progress)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = measured.pop("original")
    rows = [{"model": "SmolLM2-135M (original tokenizer)", "method": "-", "bits_per_byte": base.bits_per_byte, "tokens": base.tokens}]
    for method, m in measured.items():
        rows.append({"model": "SmolLM2-135M on tokbench-bpe", "method": method, "bits_per_byte": m.bits_per_byte,
                     "tokens": m.tokens, "shared tokens": counts[method].get("shared"), "new tokens": counts[method].get("new")})
    res.timings["transplant"] = round(time.perf_counter() - t0, 2)
    res.facts["transplant_bpb"] = {f"{r['model']}|{r['method']}": r["bits_per_byte"] for r in rows}
    res.sections += title + [
        f"SmolLM2-135M (Q4_1 GGUF, dequantised) moved onto the demo's BPE without training. Bits per byte on "
        f"{text_bytes // 1000} KB of the English LibreOffice test split (lower is better; comparable across tokenizers). "
        "The demo BPE is small and multilingual, so many of its tokens are new to the model: OMP estimates them from "
        "shared anchor tokens (`tokbench transplant --method mean|zero|random` give the naive baselines; "
        "reports/transplant/ compares every method).",
        "",
        markdown_table(rows),
        "",
    ]
