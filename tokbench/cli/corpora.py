"""`tokbench corpora`: the bundled corpora."""

from __future__ import annotations

import typer

from tokbench.cli.common import console, human_bytes, new_app, print_json, rich_table

app = new_app("List and inspect the bundled corpora (the default text of every command).")


@app.command("list")
def list_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")):
    """List bundled corpora: languages, splits and sizes.

    Example: [bold]tokbench corpora list[/]
    """
    from tokbench.corpora import manifest

    rows = []
    for name, info in sorted(manifest()["corpora"].items()):
        langs = info["languages"]
        total = sum(s["bytes"] for l in langs.values() for s in l["splits"].values())
        docs = sum(s["documents"] for l in langs.values() for s in l["splits"].values())
        rows.append({
            "corpus": name, "kind": info.get("kind", "natural"), "parallel": bool(info.get("parallel")),
            "languages": len(langs), "splits": ",".join(info.get("splits", [])), "segments": docs,
            "text": human_bytes(total), "licence": _short(info.get("licence", "?")), "bytes": total,
        })
    if as_json:
        print_json(rows)
        return
    console.print(rich_table([{k: v for k, v in r.items() if k != "bytes"} for r in rows], title="Bundled corpora"))
    console.print("Name text with a corpus spec, e.g. [bold]libreoffice:de@test[/], [bold]udhr:tur[/], [bold]code:python@train[/].")


def _short(text: str, width: int = 24) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@app.command("show")
def show_cmd(name: str = typer.Argument(..., help="Corpus name, e.g. libreoffice."),
             as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")):
    """Show one corpus: source, licence and every language's splits.

    Example: [bold]tokbench corpora show udhr[/]
    """
    from tokbench.corpora import corpus_info

    info = corpus_info(name)
    if as_json:
        print_json(info)
        return
    src = info.get("source", {})
    console.print(f"[bold]{name}[/]: {info.get('description', '')}")
    console.print(f"source: {src.get('registry', '?')} {src.get('package', '?')} {src.get('version', '')}  licence: {info.get('licence', '?')}  "
                  f"parallel: {bool(info.get('parallel'))} (aligned by {info.get('align') or '-'})")
    rows = []
    for code, l in sorted(info["languages"].items()):
        row = {"lang": code, "name": l.get("name"), "iso639-1": l.get("iso639_1"), "iso639-3": l.get("iso639_3"), "script": l.get("script")}
        for split in info.get("splits", []):
            s = l["splits"].get(split)
            row[split] = human_bytes(s["bytes"]) if s else None
        rows.append(row)
    console.print(rich_table(rows, title=f"{name}: {len(rows)} languages"))


@app.command("sample")
def sample_cmd(
    spec: str = typer.Argument(..., help="Corpus spec: libreoffice:de@test, udhr:tur, code:python@train, a file or folder, hf:NAME."),
    n: int = typer.Option(3, "--n", min=0, help="Segments to print per source."),
    max_bytes: str = typer.Option(None, "--max-bytes", help="Read at most SIZE of text from each source (one language of a corpus spec, one file), e.g. 200KB or 5MB; default: all of it."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (provenance and the sample)."),
):
    """Resolve a corpus spec and show what it names: sources, sizes, hashes and a few segments.

    Examples:
      [bold]tokbench corpora sample libreoffice:tr@test[/]
      [bold]tokbench corpora sample "udhr:de,fr,tr" --n 1[/]
      [bold]tokbench corpora sample notes.jsonl#body[/]
    """
    from tokbench.cli.common import parse_size
    from tokbench.corpora import load_sources, parse_weighted

    spec_only, weight = parse_weighted(spec)
    sources = load_sources(spec_only, max_bytes=parse_size(max_bytes))
    if as_json:
        print_json([{**s.provenance(), "weight": weight, "lang": s.lang, "split": s.split, "parallel": s.parallel,
                     "sample": [{"id": i, "text": t} for i, t in zip(s.ids[:n], s.texts[:n])]} for s in sources])
        return
    rows = [{"source": s.label, "segments": len(s), "text": human_bytes(s.n_bytes), "parallel": s.parallel,
             "sha256": s.sha256[:12]} for s in sources]
    console.print(rich_table(rows, title=f"{spec}: {len(sources)} source(s)" + (f", weight {weight}" if weight != 1.0 else "")))
    from rich.markup import escape

    for s in sources[:5]:
        for i, t in zip(s.ids[:n], s.texts[:n]):
            console.print(f"[dim]{escape(s.label)} {escape(i)}[/] {escape(t[:200])}{'…' if len(t) > 200 else ''}")
