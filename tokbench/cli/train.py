"""`tokbench train`: train a tokenizer of any kind on any corpus mixture."""

from __future__ import annotations

from rich.markup import escape

import time
from pathlib import Path
from typing import List, Optional

import typer

from tokbench.errors import ConfigError
from tokbench.train.config import DEFAULT_CORPUS, KINDS, PRETOKENIZERS, SUPERBPE_RECIPES, TrainConfig

D = TrainConfig()


def _transition(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise ConfigError(f"cannot read --transition '{text}'; give a fraction of the vocabulary (0.8) or a vocabulary size (25600)") from None
    if not 0 < v < 1e9:  # nan, inf and negatives fail here
        raise ConfigError(f"--transition must be a fraction of the vocabulary (0.8) or a vocabulary size (25600), got '{text}'")
    return v


def _specials(values: list[str] | None) -> tuple[str, ...] | None:
    if not values:
        return None
    out: list[str] = []
    for v in values:
        out.extend(s for s in v.split(",") if s)
    return tuple(out)


def _load(specs: list[str]):
    """Corpus specs -> (streams, weights); a spec naming several languages shares its weight equally.

    Nothing is read here: training mixes the streams by bytes (``--train-bytes`` caps the mixture exactly).
    """
    from tokbench.corpora import open_streams, parse_weighted

    sources, weights = [], []
    for raw in specs:
        spec, w = parse_weighted(raw)
        srcs = open_streams(spec)
        sources.extend(srcs)
        weights.extend([w / len(srcs)] * len(srcs))
    return sources, weights


def train_cmd(
    kind: str = typer.Argument(..., help=f"What to train: {', '.join(KINDS)}."),
    out: Path = typer.Option(..., "--out", "-o", help="Output directory (tokenizer.json, tokbench.json, ...)."),
    corpus: Optional[List[str]] = typer.Option(None, "--corpus", "-c", help=f"Corpus spec, optionally SPEC=WEIGHT; repeat to mix by bytes. Default: {DEFAULT_CORPUS} (every language, equal bytes)."),
    vocab_size: int = typer.Option(D.vocab_size, "--vocab-size", "-v", help="Final vocabulary size, special tokens included."),
    train_bytes: Optional[str] = typer.Option(None, "--train-bytes", help=f"Training text budget for the whole mixture, exact (the last segment is cut at a character boundary); 'all' for everything. [default: {D.max_bytes / 1e6:g}MB]"),
    old_max_bytes: Optional[str] = typer.Option(None, "--max-bytes", hidden=True, help="Deprecated name of --train-bytes."),
    seed: int = typer.Option(D.seed, "--seed", help="Seed of the byte sampling."),
    exact_mixture: bool = typer.Option(False, "--exact-mixture", help="Keep the weights' byte proportions exactly, shrinking the budget when a source is short (default: each source gives up to its share)."),
    pretokenizer: str = typer.Option(D.pretokenizer, "--pretokenizer", help=f"bpe / superbpe stage 1 regex: {', '.join(PRETOKENIZERS)}."),
    transition: str = typer.Option(str(D.transition), "--transition", help="superbpe: stage-1 vocabulary, a fraction of --vocab-size (0.8) or a size."),
    superbpe_recipe: str = typer.Option(D.superbpe_recipe, "--superbpe-recipe", help=f"superbpe stage-2 pre-tokenizer: {', '.join(SUPERBPE_RECIPES)}."),
    no_caps: bool = typer.Option(False, "--no-caps", help="superbpe: allow tokens of more than 4 words and tokens containing ': '."),
    max_token_chars: Optional[int] = typer.Option(None, "--max-token-chars", help="char-bpe (or bpe): at most N characters per token (char-bpe default 4)."),
    min_frequency: int = typer.Option(D.min_frequency, "--min-frequency", help="Minimum pair (or character) count to make a token."),
    special_tokens: Optional[List[str]] = typer.Option(None, "--special-tokens", help="Special tokens (repeat or comma-separate); default depends on the kind."),
    unk: bool = typer.Option(False, "--unk", help="char: map unseen characters to <unk> instead of byte fallback."),
    engine: str = typer.Option(D.engine, "--engine", help="Where pre-tokens are counted: local, or ray (bpe/superbpe: actors on a Ray cluster count, the driver trains BPE from the summed counts; same tokenizer)."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="--engine ray: the cluster to join (e.g. ray://head:10001 or auto); default: start a local one."),
    workers: Optional[int] = typer.Option(None, "--workers", help="--engine ray: counting actors (default: one per CPU of the cluster)."),
    force: bool = typer.Option(False, "--force", "-f", help="Replace --out if it exists."),
    as_json: bool = typer.Option(False, "--json", help="Print the run manifest as JSON instead of a table."),
):
    """Train a tokenizer and write a tokenizer.json that stock tokenizers/transformers load unchanged.

    Kinds: bpe (byte-level, GPT-2/GPT-4o pre-tokenization), superbpe (two-stage superword BPE),
    char, char-bpe (BPE with a maximum token length), unigram, wordpiece, sp-bpe, sp-unigram (SentencePiece).

    Example: [bold]tokbench train superbpe --vocab-size 32000 --out runs/superbpe-32k[/]

    Example: [bold]tokbench train bpe --corpus libreoffice:en@train=0.6 --corpus code:python@train=0.4 -v 16000 -o runs/mix[/]

    Example: [bold]tokbench train bpe -c data/shards/ --train-bytes all --engine ray --ray-address auto -o runs/big[/]
    """
    from tokbench.cli.common import console, parse_size, print_json, rich_table
    from tokbench.cli.progress import cli_progress
    from tokbench.files import check_output_dir
    from tokbench.train import train

    started = time.perf_counter()
    if kind not in KINDS:
        raise ConfigError(f"unknown kind '{kind}'; choose one of: {', '.join(KINDS)}")
    max_bytes = train_bytes or old_max_bytes or f"{D.max_bytes}"
    budget = None if max_bytes.strip().lower() == "all" else parse_size(max_bytes)
    cfg = TrainConfig(
        kind=kind, vocab_size=vocab_size, max_bytes=budget, seed=seed, exact_mixture=exact_mixture, pretokenizer=pretokenizer,
        transition=_transition(transition), superbpe_recipe=superbpe_recipe, caps=not no_caps,
        max_token_chars=max_token_chars, min_frequency=min_frequency, special_tokens=_specials(special_tokens),
        char_fallback="unk" if unk else "byte", engine=engine, ray_address=ray_address, workers=workers,
    )
    check_output_dir(out, force)
    sources, weights = _load(list(corpus or [DEFAULT_CORPUS]))
    with cli_progress() as progress:
        result = train(cfg, sources, weights, progress=progress)
    result.save(out, force, started)
    if old_max_bytes is not None:  # after the run: an error stays the one line it must be
        from tokbench.cli.common import err_console

        err_console.print("warning: train's --max-bytes is now --train-bytes (the budget for the whole mixture); "
                          "elsewhere --max-bytes caps the text read from each source", soft_wrap=True, markup=False)
    man = result.manifest(started)
    if as_json:
        print_json({"out": str(out), **man})
        return
    row = {"kind": kind, "vocab": result.vocab_size, "sources": len(result.usage),
           "text": f"{man['training_bytes'] / 1e6:,.1f} MB", **{f"{k} s": v for k, v in result.stages.items()},
           "total s": man.get("wall_time_s")}
    console.print(rich_table([row], title=f"trained {kind} -> {out}"))
    if kind == "superbpe":
        i = result.info
        console.print(f"stage 1: {i['stage1_merges']:,} merges (transition vocabulary {i['transition_vocab']:,}); "
                      f"stage 2: {i['stage2_merges']:,} superword merges over {i['stage2_pretokens']:,} distinct pre-tokens")
    console.print(escape(f"load it with: tokenizers.Tokenizer.from_file('{out}/tokenizer.json') or AutoTokenizer.from_pretrained('{out}')"))


def register(app: typer.Typer) -> None:
    app.command("train")(train_cmd)
