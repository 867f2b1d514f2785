"""`tokbench inspect`: what a tokenizer is, and how it splits a text."""

from __future__ import annotations

import typer

from tokbench.cli.common import console, print_json, rich_table

_COLOURS = ["on #3b4252", "on #5e3a3a", "on #3a5e3f", "on #5e553a", "on #3a4a5e", "on #553a5e"]


def inspect_cmd(
    tokenizer: str = typer.Argument(..., help="Tokenizer spec: tokenizer.json, folder, .model, .tiktoken or a reference name."),
    text: str = typer.Argument(None, help="Text to segment (default: a multilingual sample)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (summary, ids, token strings)."),
):
    """Show a tokenizer's kind, vocabulary size, pre-tokenizer, special tokens and a coloured
    segmentation of TEXT.

    Examples:
      [bold]tokbench inspect cl100k "Merhaba dünya!"[/]
      [bold]tokbench inspect runs/bpe32k[/]
    """
    from rich.text import Text

    from tokbench.tokenizer import load_tokenizer

    tok = load_tokenizer(tokenizer)
    text = text if text is not None else "Tokenizers split text: Merhaba dünya! Привет, мир. 日本語 123456 🤖"
    enc = tok.encode_batch([text])
    ids = enc.ids.tolist()
    data = text.encode("utf-8")
    pieces = []
    for i, (s, e) in enumerate(zip(enc.starts.tolist(), enc.ends.tolist())):
        try:
            pieces.append(data[s:e].decode("utf-8"))
        except UnicodeDecodeError:  # a byte token standing for part of a character
            pieces.append("".join(f"\\x{b:02x}" for b in data[s:e]))
    summary = tok.describe()
    specials = sorted(tok.special_tokens.items(), key=lambda kv: kv[1])
    if as_json:
        print_json({"summary": summary, "special_tokens": dict(specials), "ids": ids,
                    "tokens": [tok.token_strings()[i] for i in ids], "spans": list(zip(enc.starts.tolist(), enc.ends.tolist()))})
        return
    console.print(rich_table([{"property": k, "value": str(v)} for k, v in summary.items()], title=f"tokenizer {tok.name}"))
    shown = ", ".join(f"{s}={i}" for s, i in specials[:12]) + (f" … (+{len(specials) - 12})" if len(specials) > 12 else "")
    console.print(f"special tokens ({len(specials)}): {shown or 'none'}", markup=False)
    seg = Text()
    prev_end = -1
    for k, (piece, s, e) in enumerate(zip(pieces, enc.starts.tolist(), enc.ends.tolist())):
        # Tokens that share a character's span (byte pieces) are shown once, marked.
        shown_piece = piece if s != prev_end or e != prev_end else "·"
        seg.append(shown_piece.replace("\n", "⏎"), style=_COLOURS[k % len(_COLOURS)])
        prev_end = e
    console.print(f"{len(ids)} tokens for {len(data)} bytes ({len(data) / max(len(ids), 1):.2f} bytes/token):")
    console.print(seg)
    console.print("ids: " + " ".join(map(str, ids[:64])) + (" …" if len(ids) > 64 else ""))
