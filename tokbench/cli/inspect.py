"""`tokbench inspect`: what a tokenizer is, and how it (or several, lined up) splits a text."""

from __future__ import annotations

import os
import stat
import sys
from typing import List, Optional

import typer

from tokbench.cli.common import console, print_json, rich_table

DEFAULT_TEXT = "Tokenizers split text: Merhaba dünya! Привет, мир. 日本語 123456 🤖"
#: Backgrounds from the 256-colour palette that stay distinct on every terminal: 256-colour terminals show
#: them as they are, 16-colour ones as blue, red, green, yellow, cyan, magenta (rich downgrades them), and
#: truecolor ones as the same 256 entries. (Hex shades all fell onto one 256-colour grey.)
PALETTE = ("on color(17)", "on color(52)", "on color(22)", "on color(94)", "on color(30)", "on color(53)")
#: The separator when colours are off (output piped, NO_COLOR, TERM=dumb).
PLAIN_SEP = "|"
#: Lined-up rows: where another tokenizer has a boundary and this one does not (keeps columns aligned).
FILLER = "·"


def _is_tokenizer_spec(arg: str) -> bool:
    from pathlib import Path

    from tokbench.tokenizer.hub import parse_hub_id
    from tokbench.tokenizer.references import REFERENCES

    if arg in REFERENCES or parse_hub_id(arg) is not None:
        return True
    try:
        return Path(arg.partition("?")[0]).expanduser().exists()
    except (OSError, ValueError):  # a long text is no file name (ENAMETOOLONG), nor one with a NUL
        return False


def _stdin_has_data() -> bool:
    """A pipe or a redirected file on stdin (not a terminal, not /dev/null): `echo x | tokbench inspect gpt2`."""
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (OSError, ValueError, AttributeError):  # replaced stdin (a test runner): read it
        return sys.stdin is not None and not sys.stdin.isatty()
    return stat.S_ISFIFO(mode) or stat.S_ISREG(mode)


def _read_stdin() -> str:
    text = sys.stdin.read()
    return text[:-1] if text.endswith("\n") else text  # the newline echo adds


def _resolve_text(specs: list[str], text: str | None) -> tuple[list[str], str]:
    from tokbench.errors import ConfigError

    if text is None and len(specs) >= 2 and (specs[-1] == "-" or not _is_tokenizer_spec(specs[-1])):
        text = specs.pop()
    if "-" in specs:
        raise ConfigError("'-' (read the text from stdin) goes last, after the tokenizers: tokbench inspect gpt2 llama3 -")
    if text == "-":
        text = _read_stdin()
        if not text:
            raise ConfigError("stdin is empty; pipe some text in, or give it as an argument: tokbench inspect gpt2 \"some text\"")
    elif text is None and _stdin_has_data():
        text = _read_stdin() or None  # nothing piped after all: the sample
    return specs, DEFAULT_TEXT if text is None else text


def inspect_cmd(
    args: List[str] = typer.Argument(..., metavar="TOKENIZER... [TEXT]",
                                     help="One or more tokenizer specs (tokenizer.json, folder, .model, .tiktoken, reference name, hub id), then "
                                          "the text; '-' or no text reads stdin when something is piped in (else a multilingual sample)."),
    text: Optional[str] = typer.Option(None, "--text", help="The text, when it could be mistaken for a tokenizer spec; '-' reads stdin."),
    ids: bool = typer.Option(False, "--ids", help="Show each token's id beside it."),
    sep: Optional[str] = typer.Option(None, "--sep", help=f"Separator between tokens (default: '{PLAIN_SEP}' when colours are off, none on a colour terminal; "
                                                          "always on when several tokenizers are lined up)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (summary, ids, token strings, spans, cells)."),
):
    """Show how tokenizers split a text: each token on its own background (alternating colours that stay
    distinct on 16-, 256- and truecolor terminals), or between '|' separators when colours are off
    (piped output, NO_COLOR). A character that byte-level tokens split is shown once, marked with how
    many tokens it took (llama3: 'a🤖b' -> a 🤖×3 b). With one tokenizer, also its kind, vocabulary,
    pre-tokenizer and special tokens; with several, one aligned row each.

    Examples:
      [bold]tokbench inspect cl100k "Merhaba dünya!"[/]
      [bold]tokbench inspect gpt2 llama3 qwen3 "a🤖b Merhaba dünya" --ids[/]
      [bold]echo "Kitaplarımızdan" | tokbench inspect gpt2 o200k[/]
      [bold]tokbench inspect runs/bpe32k --text - < notes.txt[/]
    """
    from tokbench.tokenizer import load_tokenizer
    from tokbench.tokenizer.cells import token_cells

    specs, text = _resolve_text(list(args), text)
    rows = []
    for spec in specs:
        tok = load_tokenizer(spec)
        enc = tok.encode_batch([text])
        ids_, starts, ends = enc.ids.tolist(), enc.starts.tolist(), enc.ends.tolist()
        rows.append((tok, ids_, starts, ends, token_cells(text, ids_, starts, ends)))
    if as_json:
        docs = [_json_doc(tok, i, s, e, c) for tok, i, s, e, c in rows]
        print_json(docs[0] if len(docs) == 1 else {"text": text, "tokenizers": docs})
        return
    plain = console.no_color or console.color_system is None
    data_len = len(text.encode("utf-8"))
    if len(rows) == 1:
        tok, ids_, _, _, cells = rows[0]
        _summary(tok)
        console.print(f"{len(ids_)} tokens for {data_len} bytes ({data_len / max(len(ids_), 1):.2f} bytes/token):")
        console.print(_one_row(cells, plain, sep, ids), soft_wrap=False)
        return
    _lined_up(rows, text, plain, sep if sep is not None else PLAIN_SEP, ids, data_len)


def _json_doc(tok, ids: list[int], starts: list[int], ends: list[int], cells) -> dict:
    specials = sorted(tok.special_tokens.items(), key=lambda kv: kv[1])
    strings = tok.token_strings()
    return {"summary": tok.describe(), "special_tokens": dict(specials), "ids": ids,
            "tokens": [strings[i] if 0 <= i < len(strings) else None for i in ids],
            "spans": [list(p) for p in zip(starts, ends)],
            "cells": [{"text": c.text, "ids": list(c.ids), "chars": [c.start, c.end]} for c in cells]}


def _summary(tok) -> None:
    console.print(rich_table([{"property": k, "value": str(v)} for k, v in tok.describe().items()], title=f"tokenizer {tok.name}"))
    specials = sorted(tok.special_tokens.items(), key=lambda kv: kv[1])
    shown = ", ".join(f"{s}={i}" for s, i in specials[:12]) + (f" … (+{len(specials) - 12})" if len(specials) > 12 else "")
    console.print(f"special tokens ({len(specials)}): {shown or 'none'}", soft_wrap=True, markup=False)


def _one_row(cells, plain: bool, sep: str | None, ids: bool):
    from rich.text import Text

    from tokbench.tokenizer.cells import visible

    sep = sep if sep is not None else (PLAIN_SEP if plain else "")
    out = Text()
    k = 0
    for cell in cells:
        if not cell.ids:  # text no token covers
            out.append(visible(cell.text), style="dim strike")
            continue
        if sep:
            out.append(sep, style="dim")
        out.append(visible(cell.text), style=None if plain else PALETTE[k % len(PALETTE)])
        if len(cell.ids) > 1:
            out.append(f"×{len(cell.ids)}", style="dim")
        if ids:
            out.append(f"[{' '.join(map(str, cell.ids))}]", style="dim cyan")
        k += 1
    if sep and cells:
        out.append(sep, style="dim")
    return out


def _lined_up(rows, text: str, plain: bool, sep: str, ids: bool, data_len: int) -> None:
    """One row per tokenizer, every character in the same column in every row: at each cell boundary any
    tokenizer has, a row prints its separator if it has that boundary too, else a dim filler."""
    from rich.cells import cell_len
    from rich.text import Text

    from tokbench.tokenizer.cells import visible

    names = [f"{tok.name} ({len(i)})" for tok, i, *_ in rows]
    width = max(cell_len(n) for n in names) + 1
    bounds = sorted({c.start for *_, cells in rows for c in cells} | {len(text)})
    shown = [visible(ch) for ch in text]
    avail = max(20, console.width - width - 1)
    # Lines break at a shared boundary when the next piece would not fit: every row wraps at the same place.
    lines, start, used = [], 0, 0
    for a, b in zip(bounds, bounds[1:]):
        w = 1 + sum(cell_len(s) for s in shown[a:b])
        if used and used + w > avail:
            lines.append((start, a))
            start, used = a, 0
        used += w
    lines.append((start, len(text)))
    console.print(f"{len(text)} characters, {data_len} bytes; (N) = tokens; '{FILLER}' = no boundary where another tokenizer has one"
                  + ("" if plain else "; underlined = a character split over several tokens (--ids shows them)"))
    for lo, hi in lines:
        for name, (tok, _, _, _, cells) in zip(names, rows):
            starts = {c.start: (k, c) for k, c in enumerate(cells)}
            out = Text()
            out.append(name + " " * (width - cell_len(name)), style="bold")
            style = None
            for a, b in zip(bounds, bounds[1:]):
                if b <= lo or a >= hi:
                    continue
                if a in starts:
                    k, cell = starts[a]
                    out.append(sep, style="dim")
                    style = "dim strike" if not cell.ids else (None if plain else PALETTE[k % len(PALETTE)])
                    if style and len(cell.ids) > 1 and cell.ids:  # a character split over several tokens
                        style += " underline"
                else:  # another tokenizer has a boundary here; this one does not
                    out.append(FILLER, style=f"dim {style}" if style else "dim")
                out.append("".join(shown[a:b]), style=style)
            if hi == len(text):
                out.append(sep, style="dim")
            console.print(out, soft_wrap=True, no_wrap=True, overflow="ignore")
        if ids:
            for name, (tok, _, _, _, cells) in zip(names, rows):
                inside = [c for c in cells if c.ids and lo <= c.start < hi]
                console.print(Text(name + " " * (width - cell_len(name)), style="bold")
                              + Text(" ".join("[" + " ".join(map(str, c.ids)) + "]" for c in inside), style="dim cyan"),
                              soft_wrap=True)
        if len(lines) > 1:
            console.print()
