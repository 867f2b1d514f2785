"""`tokbench infer-mixture`: what was this BPE tokenizer trained on? (Hayase et al. 2024)"""

from __future__ import annotations

from rich.markup import escape

import time
from pathlib import Path
from typing import List, Optional

import typer

from tokbench.cli.common import console, new_app, parse_size, print_json, rich_table
from tokbench.mixture.config import MixtureConfig, SimulationConfig

_D = MixtureConfig()
_S = SimulationConfig()

app = new_app(
    "Infer the training-data mixture of a BPE tokenizer from its ordered merge list (Hayase et al. 2024), "
    "or reproduce the paper's controlled experiment with [bold]simulate[/].",
    default_command="run",
)


@app.command("run")
def run_cmd(
    tokenizer: str = typer.Argument(..., metavar="TOKENIZER", help="A BPE tokenizer: reference name (gpt2, cl100k, llama3 ...), tokenizer.json, .tiktoken, .model or a tokbench output folder."),
    category: Optional[List[str]] = typer.Option(None, "--category", "-c", help="NAME=SPEC, one per category (repeatable), e.g. en=libreoffice:en-us@train or py=code:python@train or notes=my.txt. Default: every bundled libreoffice language and code language (train split)."),
    merges: Optional[int] = typer.Option(_D.merges, "--merges", show_default=False, help="Use the first M merges of the tokenizer. Default: min(30,000, the merges it has), the paper's 30,000."),
    skip_merges: int = typer.Option(_D.skip_merges, "--skip-merges", help="Replay the first K merges without using them and infer from the next M (the merges a tokenizer added to an earlier one it extends)."),
    max_bytes: Optional[str] = typer.Option(None, "--max-bytes", help="Read at most SIZE of text from each source (one language of a corpus spec, one file), e.g. 200KB or 5MB (each category is one source); default: all of it."),
    sample_bytes: Optional[str] = typer.Option(None, "--sample-bytes", hidden=True, help="Deprecated name of --max-bytes."),
    split: str = typer.Option(_D.split, "--split", help="Split of the bundled corpora used for the default categories: train, dev, test, or all (every split pooled; fine for a tokenizer never trained on the bundled text)."),
    time_limit: float = typer.Option(_D.time_limit, "--time-limit", help="Seconds of LP constraint generation; the result then says whether the optimum was proven, with the gap."),
    lp_solver: str = typer.Option(_D.solver, "--lp-solver", help="LP method: intervals (one row per pair segment and step range, the default) or steps (the older one row per step and pair)."),
    bootstrap: int = typer.Option(_D.bootstrap, "--bootstrap", help="Bootstrap replicates behind the 90% interval beside every share (0: none). Default 10 replicates over merge windows: each re-solves the LP on half of the merges, starting from the full solve's rows (no recounting); measured 0.2-0.4x the full solve's time each at 3,000 merges, so the intervals cost about 2-4x the solve (each replicate capped by --bootstrap-time-limit, 30 s). Intervals: share +- 2.0 x 1.645 sd of the replicates, measured to hold the truth in 93% of 100 simulated cases."),
    bootstrap_over: str = typer.Option(_D.bootstrap_over, "--bootstrap-over", help="What a replicate redraws: merges (windows of consecutive merge steps; one warm LP re-solve each, no recounting), documents (each category's documents; recounts every category's pairs, then re-solves) or both."),
    bootstrap_block: int = typer.Option(_D.bootstrap_block, "--bootstrap-block", help="Merge steps per window of the merge-window draw."),
    merge_draw: str = typer.Option(_D.merge_draw, "--merge-draw", help="half (each replicate keeps a random half of the windows: half the LP, no rescaling) or replace (as many windows as there are, with replacement)."),
    interval: str = typer.Option(_D.interval_method, "--interval", help="normal (share +- scale x 1.645 sd of the replicates) or percentile (their 5th-95th percentiles, stretched by the scale)."),
    interval_scale: float = typer.Option(_D.interval_scale, "--interval-scale", help="Multiply the replicates' spread by this (default measured in simulate: the replicates see about half the actual error; see reports/mixture/README.md)."),
    seed: int = typer.Option(_D.seed, "--seed", help="Seed of the bootstrap draws (same seed, same intervals)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write a report folder (markdown, CSV/JSON, PNG, manifest); default reports/mixture-<tokenizer>."),
    force: bool = typer.Option(False, "--force", "-f", help="Replace --out if it exists."),
    no_report: bool = typer.Option(False, "--no-report", help="Print only; write no report folder."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout instead of tables."),
    engine: str = typer.Option(_D.engine, "--engine", help="Where pre-tokens are counted: local (streams each category here) or ray (actors on a Ray cluster count, this process sums; same numbers)."),
    ray_address: Optional[str] = typer.Option(_D.ray_address, "--ray-address", help="With --engine ray: the cluster to use (default: a local one of --workers CPUs, or the running session)."),
    workers: Optional[int] = typer.Option(_D.workers, "--workers", help="With --engine ray: counting actors (default: one per CPU of the cluster)."),
):
    """Infer the proportions of categories (languages, code, domains) in a BPE tokenizer's training data.

    Replays the tokenizer's merges on a sample of every category, pre-tokenized as the tokenizer does, and
    solves the paper's linear program by lazy constraint generation (HiGHS). Prints shares of training
    bytes per category beside the TC baseline, with solver statistics.

    Example: tokbench infer-mixture gpt2 -c en=libreoffice:en-us@train -c de=libreoffice:de@train -c py=code:python@train

    Example: tokbench infer-mixture o200k --skip-merges 30000 --merges 10000 --split all   (merges 30,001-40,000)

    Example: tokbench infer-mixture gpt2 -c en=big_en.jsonl -c py=code/ --max-bytes 1GB --engine ray --workers 8

    Each category is read once, a batch at a time, into its distinct pre-tokens (memory grows with those,
    not with --max-bytes); the bootstrap's replicate counts are kept beside them.
    """
    from tokbench.files import atomic_dir, check_output_dir
    from tokbench.mixture.infer import default_category_specs, infer_mixture, load_categories, parse_category
    from tokbench.mixture.report import display_rows, write_report
    from tokbench.provenance import run_manifest
    from tokbench.tokenizer import load_tokenizer

    started = time.perf_counter()
    if bootstrap < 0 or bootstrap == 1:
        from tokbench.errors import ConfigError

        raise ConfigError(f"--bootstrap must be 0 (no intervals) or at least 2 replicates (got {bootstrap})")
    if time_limit <= 0:
        from tokbench.errors import ConfigError

        raise ConfigError(f"--time-limit must be positive (got {time_limit})")
    if lp_solver not in ("intervals", "steps"):
        from tokbench.errors import ConfigError

        raise ConfigError(f"--lp-solver must be intervals or steps (got {lp_solver!r})")
    config = MixtureConfig(merges=merges, skip_merges=skip_merges, sample_bytes=parse_size(max_bytes or sample_bytes), split=split,
                           time_limit=time_limit, bootstrap=bootstrap, seed=seed, engine=engine,
                           ray_address=ray_address, workers=workers, bootstrap_over=bootstrap_over,
                           bootstrap_block=bootstrap_block, merge_draw=merge_draw, interval_method=interval, interval_scale=interval_scale,
                           solver=lp_solver)
    pairs = [parse_category(c) for c in category] if category else default_category_specs(config.split)
    tok = load_tokenizer(tokenizer)
    out_dir = None if no_report else (out or Path("reports") / f"mixture-{tok.name.replace('/', '--')}")  # hub ids hold a '/'
    if out_dir is not None:
        check_output_dir(out_dir, force)
    from tokbench.cli.progress import cli_progress

    with cli_progress() as progress:
        with progress("opening categories", len(pairs)) as advance:
            cats = load_categories(pairs, config.sample_bytes, advance=advance)
        res = infer_mixture(tok, cats, config, progress=progress)

    if out_dir is not None:
        params = {k: v for k, v in config.__dict__.items()}
        params.update(tokenizer=tokenizer, categories=[f"{n}={s}" for n, s in pairs])
        manifest = run_manifest("infer-mixture", params, [c.provenance for c in cats], started=started,
                                extra={"tokenizer": res.tokenizer})
        with atomic_dir(out_dir, force) as tmp:
            write_report(res, tmp, manifest)
    if json_out:
        print_json(res.to_json())
        return
    console.print(res.solver_line(), style="green" if res.lp.converged else "yellow", markup=False)
    console.print(rich_table(display_rows(res), title=f"{tok.name}: inferred training mixture ({res.merges_phrase()})", floatfmt="{:.2f}"))
    s = res.lp.stats()
    console.print(
        f"solver: {s['constraints_added']:,} constraints, {s['lp_resolves']} LP re-solves, "
        f"{s['solve_seconds'] + s['sweep_seconds']:.1f} s (HiGHS {s['solve_seconds']:.1f} s, certificate {s['certify_seconds']:.1f} s)"
    )
    if out_dir is not None:
        console.print(f"[green]report:[/] {escape(str(out_dir / 'report.md'))}")


@app.command("simulate")
def simulate_cmd(
    n: int = typer.Option(_S.n, "--n", help="Categories (languages) per mixture."),
    trials: int = typer.Option(_S.trials, "--trials", help="Random mixtures to try."),
    seed: int = typer.Option(_S.seed, "--seed", help="Seed of the mixtures, language choice and baselines."),
    merges: int = typer.Option(_S.merges, "--merges", help="Merges to train per tokenizer (fewer if the text runs out of pairs)."),
    train_bytes: Optional[str] = typer.Option(None, "--train-bytes", help=f"Training text budget of each tokenizer (its whole mixture), e.g. 2MB (default {_S.train_bytes:,} bytes)."),
    corpus: Optional[str] = typer.Option(None, "--corpus", "-c", help=f"Bundled corpus whose languages are the categories (default: {_S.corpus}, or code with --kind code)."),
    kind: str = typer.Option("languages", "--kind", help="languages (LibreOffice help languages, the paper's language experiment), code (the bundled programming languages, its code experiment) or mixed (both)."),
    time_limit: float = typer.Option(_S.time_limit, "--time-limit", help="Seconds of LP constraint generation per trial."),
    bootstrap: int = typer.Option(_S.bootstrap, "--bootstrap", help="Bootstrap replicates per trial (0: none); with them the report measures how often the 90% intervals hold the true share."),
    bootstrap_time_limit: float = typer.Option(_S.bootstrap_time_limit, "--bootstrap-time-limit", help="Seconds of LP constraint generation per bootstrap replicate."),
    bootstrap_over: str = typer.Option(_S.bootstrap_over, "--bootstrap-over", help="What a replicate redraws: merges, documents or both (see infer-mixture run --help)."),
    bootstrap_block: int = typer.Option(_S.bootstrap_block, "--bootstrap-block", help="Merge steps per window of the merge-window draw."),
    merge_draw: str = typer.Option(_S.merge_draw, "--merge-draw", help="half (each replicate keeps a random half of the windows: half the LP, no rescaling) or replace (as many windows as there are, with replacement)."),
    interval: str = typer.Option(_S.interval_method, "--interval", help="percentile or normal; the report gives the coverage of both, from the same replicates."),
    interval_scale: float = typer.Option(_S.interval_scale, "--interval-scale", help="Multiply the replicates' spread by this (default measured in simulate: the replicates see about half the actual error; see reports/mixture/README.md)."),
    distractors: int = typer.Option(_S.distractors, "--distractors", help="Extra categories per trial absent from the training mixture (truth 0); the report gives their mean inferred share."),
    max_bytes: Optional[str] = typer.Option(None, "--max-bytes", help="Read at most SIZE of text from each source (here each category's inference sample), e.g. 100KB (default: the rest of its pool, 0.6-1.7 MB), to measure error against sample size."),
    train_corpus: Optional[str] = typer.Option(None, "--train-corpus", help="Domain shift: train on this bundled corpus (e.g. gnome-help) and infer from --corpus (e.g. libreoffice)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the trials and summary (JSON/CSV/markdown) to this folder."),
    force: bool = typer.Option(False, "--force", "-f", help="Replace --out if it exists."),
    json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
):
    """Reproduce the paper's controlled experiment: train BPE tokenizers on random known mixtures of n
    languages, infer the mixtures, and report log10 MSE (mean ± std) of the method, TC and random guessing.

    Each language's documents (all splits) are pooled and shuffled; a tokenizer trains on a prefix and the
    mixture is inferred from the rest (disjoint text). With --bootstrap the report measures how often the
    90% intervals hold the true share (calibration), with the binomial uncertainty of that figure.

    Example: tokbench infer-mixture simulate --n 5 --trials 10 --seed 0 --out reports/mixture-sim-n5

    Example: tokbench infer-mixture simulate --kind code --n 5 --trials 4 --bootstrap 10 --out reports/mixture/sim-code-n5

    Example: tokbench infer-mixture simulate --n 5 --trials 12 --merges 3000 --bootstrap 30 --out sim-calibration
    """
    from tokbench.files import atomic_dir, check_output_dir
    from tokbench.mixture.simulate import run_simulation, write_simulation
    from tokbench.provenance import run_manifest

    started = time.perf_counter()
    if kind not in ("languages", "code", "mixed"):
        from tokbench.errors import ConfigError

        raise ConfigError(f"--kind must be 'languages', 'code' or 'mixed' (got '{kind}')")
    if distractors < 0:
        from tokbench.errors import ConfigError

        raise ConfigError(f"--distractors must be 0 or more (got {distractors})")
    if bootstrap < 0 or bootstrap == 1:
        from tokbench.errors import ConfigError

        raise ConfigError(f"--bootstrap must be 0 (no intervals) or at least 2 replicates (got {bootstrap})")
    corpus = corpus or {"code": "code", "mixed": "libreoffice+code"}.get(kind, _S.corpus)
    config = SimulationConfig(n=n, trials=trials, seed=seed, merges=merges, corpus=corpus, time_limit=time_limit,
                              train_bytes=parse_size(train_bytes) or _S.train_bytes, bootstrap=bootstrap,
                              bootstrap_time_limit=bootstrap_time_limit, bootstrap_over=bootstrap_over,
                              bootstrap_block=bootstrap_block, merge_draw=merge_draw, interval_method=interval, interval_scale=interval_scale,
                              distractors=distractors, train_corpus=train_corpus, sample_bytes=parse_size(max_bytes))
    if out is not None:
        check_output_dir(out, force)
    from tokbench.cli.progress import cli_progress

    with cli_progress() as progress:
        with progress(f"trials (n={n})", trials) as advance:
            sim = run_simulation(config, advance=advance)
    if out is not None:
        manifest = run_manifest("infer-mixture simulate", dict(config.__dict__), [], seed=seed, started=started)
        with atomic_dir(out, force) as tmp:
            write_simulation(sim, tmp, manifest)
    if json_out:
        print_json(sim.to_json())
        return
    console.print(rich_table(sim.trial_rows(), title=f"Trials (n={n}, log10 MSE)", floatfmt="{:.2f}"))
    console.print(rich_table(sim.summary_rows(), title="log10 MSE, mean ± std over trials (paper, 100 trials: see README)", floatfmt="{:.2f}"))
    if out is not None:
        console.print(f"[green]report:[/] {escape(str(out / 'report.md'))}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="infer-mixture")
