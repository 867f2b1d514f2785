"""`tokbench check`: regression gates on tokenizer files (baselines, re-measurement, --diff)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import List, Optional, Tuple

import typer

from tokbench.check.config import DEFAULT_CORPORA, METRICS, CheckConfig, parse_tolerances
from tokbench.cli.common import console, err_console, parse_size, print_json, rich_table
from tokbench.errors import CorruptFileError, CheckFailed, ConfigError

_DEFAULTS = CheckConfig()
_TOL_HELP = ", ".join(f"{m.name}={m.tolerance}" for m in METRICS.values())


def check_cmd(
    tokenizer: Optional[str] = typer.Argument(None, help="Tokenizer spec: tokenizer.json, folder, .model, .tiktoken or a reference name."),
    baseline: Optional[Path] = typer.Option(None, "--baseline", "-b", help="Check TOKENIZER against this baseline file."),
    write_baseline: Optional[Path] = typer.Option(None, "--write-baseline", "-w", help="Measure TOKENIZER and write (or replace) this baseline file."),
    diff: Optional[Tuple[str, str]] = typer.Option(None, "--diff", metavar="OLD NEW", help="Show what changed between two tokenizers."),
    tolerance: Optional[List[str]] = typer.Option(None, "--tolerance", metavar="METRIC=VALUE",
                                                  help=f"How much worse a metric may get: '1%' relative or '0.002' absolute (repeatable). Defaults: {_TOL_HELP}."),
    corpus: Optional[List[str]] = typer.Option(None, "--corpus", "-c", help="With --write-baseline: corpus spec to measure (repeatable). Default: "
                                               + "; ".join(DEFAULT_CORPORA) + "."),
    no_corpora: bool = typer.Option(False, "--no-corpora", help="With --write-baseline: probes and structure only, no corpus metrics."),
    max_bytes: str = typer.Option(f"{_DEFAULTS.max_bytes // 1000}KB", "--max-bytes", help="With --write-baseline: read at most SIZE of text from each source (one language of a corpus spec, one file), e.g. 200KB or 5MB."),
    premium_ref: str = typer.Option(_DEFAULTS.premium_ref, "--premium-ref", help="With --write-baseline: reference language of token premium."),
    junit: Optional[Path] = typer.Option(None, "--junit", help="Write the results as JUnit XML (one testcase per check)."),
    json_out: Optional[str] = typer.Option(None, "--json", metavar="FILE", help="Write the results (or the diff) as JSON; '-' prints to stdout."),
    verbose: bool = typer.Option(False, "--verbose", help="List every check, not only failures and changes."),
):
    """Gate tokenizer changes in CI: check a tokenizer against a committed
    baseline (exit 1 on a regression), write a baseline, or show what changed
    between two tokenizers.

    A baseline records a behaviour fingerprint (encodings of adversarial
    probes), golden encodings of short probes, the vocabulary, special tokens
    and pipeline, and per-language metrics on the bundled corpora. The check
    fails on a changed fingerprint, golden encoding, vocabulary, special
    tokens or pipeline, a lost round trip, or a metric worse than its
    tolerance. Exit codes: 0 passed, 1 failed, 2 bad input.

    Examples:
      [bold]tokbench check tok/tokenizer.json --write-baseline tok/baseline.json[/]
      [bold]tokbench check tok/tokenizer.json -b tok/baseline.json --junit check.xml[/]
      [bold]tokbench check tok/tokenizer.json -b tok/baseline.json --tolerance bytes_per_token=2%[/]
      [bold]tokbench check --diff old/tokenizer.json new/tokenizer.json[/]
    """
    modes = [m for m, v in (("--baseline", baseline), ("--write-baseline", write_baseline), ("--diff", diff)) if v]
    if len(modes) != 1:
        raise ConfigError(
            "give exactly one of --baseline FILE, --write-baseline FILE or --diff OLD NEW"
            + (f" (got {' and '.join(modes)})" if modes else "; e.g. tokbench check tokenizer.json --baseline baseline.json")
        )
    if diff:
        if tokenizer:
            raise ConfigError("--diff takes both tokenizers itself: tokbench check --diff OLD NEW (no TOKENIZER argument)")
        return _diff(diff[0], diff[1], json_out)
    if not tokenizer:
        raise ConfigError(f"name the tokenizer to check: tokbench check TOKENIZER {modes[0]} FILE")
    tolerances = parse_tolerances(tolerance)
    from tokbench.files import check_output_file

    for target in (write_baseline, junit, json_out if json_out not in (None, "-") else None):
        if target is not None:
            check_output_file(target)  # before any work: a folder or an impossible path is one line
    if write_baseline:
        if junit:
            raise ConfigError("--junit goes with --baseline (a check); --write-baseline only writes the baseline")
        corpora = () if no_corpora else tuple(corpus) if corpus else DEFAULT_CORPORA
        size = parse_size(max_bytes)
        if size is None or size <= 0:
            raise ConfigError(f"--max-bytes must be positive, got '{max_bytes}'")
        config = CheckConfig(corpora=corpora, max_bytes=size, premium_ref=premium_ref, tolerances=tolerances)
        return _write(tokenizer, write_baseline, config, json_out)
    if corpus or no_corpora:
        raise ConfigError("--corpus/--no-corpora choose what a new baseline measures; a check re-measures what its baseline recorded")
    return _check(tokenizer, baseline, CheckConfig(tolerances=tolerances), junit, json_out, verbose)


def _load(spec: str):
    from tokbench.tokenizer import load_tokenizer

    return load_tokenizer(spec)


# --- write ----------------------------------------------------------------------------------------
def _write(spec: str, path: Path, config: CheckConfig, json_out: str | None) -> None:
    from rich.markup import escape

    from tokbench.check.baseline import build_baseline, expand_corpora, roundtrip_warnings, write_baseline
    from tokbench.cli.progress import cli_progress

    if path.exists() and path.is_dir():
        raise ConfigError(f"--write-baseline '{path}' is a folder; give a file name such as {path}/baseline.json")
    tok = _load(spec)
    started = time.perf_counter()
    sources = expand_corpora(config.corpora, config.max_bytes)
    with cli_progress() as progress, progress(f"measuring {tok.name}", len(sources)) as advance:
        data = build_baseline(tok, config, advance, sources=sources)
    before = path.read_bytes() if path.exists() else None
    write_baseline(path, data)
    verb = "wrote" if before is None else "kept (unchanged)" if before == path.read_bytes() else "replaced"
    elapsed = time.perf_counter() - started
    rows = _metric_rows(data)
    human = err_console if json_out == "-" else console  # stdout carries the JSON document only
    if rows:
        human.print(rich_table(rows, title=f"{tok.name}: corpus metrics"))
    for w in roundtrip_warnings(data):
        err_console.print(f"[yellow]warning:[/] {escape(str(w))}", soft_wrap=True)
    human.print(
        f"{verb} baseline [bold]{path}[/]: vocabulary {data['vocab']['size']:,}, "
        f"{len(data['behaviour']['probes'])} probes (fingerprint {data['behaviour']['sha256'][:12]}), "
        f"{len(data['golden'])} golden encodings, {len(data['corpora'])} corpus sources ({elapsed:.1f} s)",
        soft_wrap=True,
    )
    if json_out:
        _emit_json(json_out, data)


_SHORT = {"bytes_per_token": "bytes/tok", "fertility": "fertility", "premium": "premium", "unk_rate": "unk",
          "byte_fallback_rate": "byte fb"}


def _metric_rows(data: dict) -> list[dict]:
    # Short headers: the table has to fit an 80-column CI log.
    return [{"source": key, **{_SHORT.get(m, m): e["metrics"].get(m) for m in METRICS}, "rt fail": e.get("roundtrip_failures", 0)}
            for key, e in data["corpora"].items()]


# --- check ----------------------------------------------------------------------------------------
_STYLE = {"fail": "bold red", "improved": "green", "changed": "yellow", "skipped": "dim", "pass": ""}
_MARK = {"fail": "✗", "improved": "↑", "changed": "~", "skipped": "-", "pass": "✓"}


def _check(spec: str, path: Path, config: CheckConfig, junit: Path | None, json_out: str | None, verbose: bool) -> None:
    from rich.markup import escape

    from tokbench.check import run_check, write_junit
    from tokbench.check.baseline import read_baseline
    from tokbench.cli.progress import cli_progress

    n_sources = len(read_baseline(path)["corpora"])  # validates the file before the tokenizer is loaded
    tok = _load(spec)
    started = time.perf_counter()
    with cli_progress() as progress, progress(f"checking {tok.name}", n_sources) as advance:
        try:
            report = run_check(tok, path, config, advance)
        except (TypeError, KeyError, ValueError, AttributeError, IndexError) as exc:
            # read_baseline checks the top level; a field deeper down of the wrong type surfaces here.
            raise CorruptFileError(f"baseline '{path}' is malformed ({type(exc).__name__}: {' '.join(str(exc).split())[:120]}); "
                                   "rewrite it with --write-baseline") from None
    elapsed = time.perf_counter() - started
    quiet = json_out == "-"  # stdout carries the JSON report only
    shown = [] if quiet else [r for r in report.results if verbose or r.status in ("fail", "improved", "changed")]
    for r in shown:
        text = r.message or f"{r.category} {r.name}"
        console.print(f"[{_STYLE[r.status]}]{_MARK[r.status]} {escape(text)}[/]" if _STYLE[r.status] else f"{_MARK[r.status]} {escape(text)}",
                      soft_wrap=True)
    if not quiet:
        console.print(rich_table(report.by_category(), title=f"tokbench check {tok.name} against {path}"))
    if os.environ.get("GITHUB_ACTIONS") == "true" and not quiet:
        _github_annotations(spec, report)
    if junit:
        write_junit(junit, report, elapsed)
    if json_out:
        _emit_json(json_out, None, report=report, extra={"elapsed_s": round(elapsed, 3)})
    counts = report.counts()
    total = len(report.results)
    if not report.passed:
        raise CheckFailed(
            f"{counts['fail']} of {total} checks failed against {path}; if the change is intended, accept it with: "
            f"tokbench check {spec} --write-baseline {path}"
        )
    extra = f", {counts['improved']} improved" if counts["improved"] else ""
    (err_console if quiet else console).print(f"[bold green]passed[/]: {total - counts['skipped']} checks{extra} ({counts['skipped']} not applicable, {elapsed:.1f} s)")


def _github_annotations(spec: str, report) -> None:
    """Workflow commands that GitHub Actions shows as error annotations on the tokenizer file."""
    esc = lambda t: str(t).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    target = spec if Path(spec).exists() else ""
    for r in report.failures:
        sys.stdout.write(f"::error file={esc(target)},title=tokbench check::{esc(r.message)}\n" if target
                         else f"::error title=tokbench check::{esc(r.message)}\n")
    sys.stdout.flush()


def _emit_json(target: str, data, report=None, extra=None) -> None:
    from tokbench.check import write_report_json
    from tokbench.files import write_json_atomic

    if report is not None:
        data = {**report.to_dict(), **(extra or {})}
    if target == "-":
        print_json(data)
    elif report is not None:
        write_report_json(target, report, extra)
    else:
        write_json_atomic(target, data)


# --- diff -----------------------------------------------------------------------------------------
def _diff(old_spec: str, new_spec: str, json_out: str | None) -> None:
    from rich.markup import escape

    from tokbench.check.diff import diff_tokenizers

    old, new = _load(old_spec), _load(new_spec)
    d = diff_tokenizers(old, new)
    if json_out:
        _emit_json(json_out, d)
        if json_out == "-":
            return
    o, n = d["old"], d["new"]
    console.print(rich_table([{"": k, "old": str(o.get(k)), "new": str(n.get(k))} for k in ("name", "format", "model", "vocab_size", "special_tokens", "lossless", "fingerprint")],
                             title="tokbench check --diff"))
    v = d["vocab"]
    console.print(f"[bold]tokens[/]: {v['old_size']:,} -> {v['new_size']:,}; {v['added']:,} added, {v['removed']:,} removed, "
                  f"{v['renumbered']:,} kept under another id, {v['shared']:,} shared")
    for key, title in (("added_sample", "added"), ("removed_sample", "removed"), ("renumbered_sample", "renumbered")):
        if v[key]:
            console.print(f"  {title}: " + ", ".join(escape(_tok_repr(x)) for x in v[key]), soft_wrap=True)
    sp = d["special_tokens"]
    if any(sp.values()):
        console.print("[bold]special tokens[/]: " + escape(f"added {sp['added'] or '-'}; removed {sp['removed'] or '-'}; renumbered {sp['renumbered'] or '-'}"),
                      soft_wrap=True)
    m = d["merges"]
    if m is None:
        console.print("[bold]merges[/]: not compared (one of the tokenizers is not BPE)")
    else:
        first = "identical" if m["first_difference"] is None else f"first difference at rank {m['first_difference']}"
        console.print(f"[bold]merges[/]: {m['old']:,} -> {m['new']:,}; {m['added']:,} added, {m['removed']:,} removed, "
                      f"{m['reordered']:,} reordered; {first}")
        for key, title in (("added_sample", "added"), ("removed_sample", "removed")):
            if m[key]:
                console.print(f"  {title}: " + ", ".join(escape(f"#{x['rank']} '{x['merge']}'") for x in m[key]), soft_wrap=True)
        if m["reordered_sample"]:
            console.print("  reordered: " + ", ".join(escape(f"'{x['merge']}' #{x['old_rank']}->#{x['new_rank']}") for x in m["reordered_sample"]), soft_wrap=True)
    if d["pipeline"]:
        console.print(f"[bold]pipeline[/]: {len(d['pipeline'])} components changed")
        for c in d["pipeline"]:
            console.print(f"  [bold]{c['component']}[/]\n    old: {escape(c['old'])}\n    new: {escape(c['new'])}", soft_wrap=True)
    else:
        console.print("[bold]pipeline[/]: normaliser, pre-tokenizer, model options and decoder unchanged")
    if d["probes"]:
        console.print(f"[bold]probes encoded differently[/]: {len(d['probes'])}")
        for p in d["probes"]:
            console.print(f"  [bold]{escape(p['probe'])}[/] ({len(p['old_ids'])} -> {len(p['new_ids'])} tokens)")
            console.print("    old: " + escape(_join(p["old_pieces"])), soft_wrap=True)
            console.print("    new: " + escape(_join(p["new_pieces"])), soft_wrap=True)
    else:
        console.print("[bold]probes[/]: every probe encodes to the same ids and tokens")


def _tok_repr(x: dict) -> str:
    if "old_id" in x:
        return f"{x['token']!r} {x['old_id']}->{x['new_id']}"
    return f"{x['token']!r}={x['id']}"


def _join(tokens: list[str], limit: int = 40) -> str:
    shown = " │ ".join(tokens[:limit])
    return shown + (f" … (+{len(tokens) - limit})" if len(tokens) > limit else "")


def register(app: typer.Typer) -> None:
    app.command("check")(check_cmd)
