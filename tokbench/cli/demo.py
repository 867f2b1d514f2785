"""`tokbench demo`: the main job on the bundled corpora, in one command and one report."""

from __future__ import annotations

from rich.markup import escape

import json
import time
from pathlib import Path
from typing import Optional

import typer

from tokbench.cli.common import console


def _is_demo_output(path: Path) -> bool:
    try:
        return json.loads((path / "manifest.json").read_text("utf-8")).get("command") == "demo"
    except (OSError, ValueError):
        return False


def demo_cmd(
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Report folder (default: reports/demo, or reports/demo-quick with --quick)."),
    quick: bool = typer.Option(False, "--quick", help="Smaller vocabularies and samples: the same steps in about a minute."),
    force: bool = typer.Option(False, "--force", "-f", help="Replace --out even if it is not an earlier demo report."),
):
    """Run the whole workbench on the bundled corpora, offline: train bpe, superbpe, char-bpe and unigram
    on a known multilingual mixture; evaluate them beside the reference tokenizers in the cache; infer the
    BPE's training mixture (the truth is shown beside it); write a regression baseline and check it; and,
    with the model extra and SmolLM2 present, transplant SmolLM2 onto the BPE. One markdown report with
    tables and PNG plots.

    Examples:
      [bold]tokbench demo --quick[/]
      [bold]tokbench demo --out /tmp/demo[/]
    """
    from tokbench.cli.progress import cli_progress
    from tokbench.demo import DemoConfig, run_demo
    from tokbench.files import atomic_dir

    out = out or Path("reports/demo-quick" if quick else "reports/demo")
    # Re-running the demo refreshes its own earlier report; anything else needs --force.
    replace = force or (out.exists() and _is_demo_output(out))
    started = time.perf_counter()
    with atomic_dir(out, force=replace) as tmp, cli_progress() as progress:
        run_demo(DemoConfig(quick=quick), tmp, log=lambda s: console.print(f"[dim]·[/] {escape(str(s))}"), progress=progress)
    console.print(f"[bold green]demo finished[/] in {time.perf_counter() - started:.0f} s: report at [bold]{escape(str(out / 'report.md'))}[/]")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_cmd)
