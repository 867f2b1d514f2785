"""`tokbench transplant`: move a model onto a new tokenizer without training, and measure it in bits per byte."""

from __future__ import annotations

from rich.markup import escape

from pathlib import Path
from typing import Optional

import typer

from tokbench.cli.common import console, new_app, print_json, rich_table
from tokbench.transplant.config import AUX_SPACES, METHODS, BitsPerByteConfig, TransplantConfig

_D = TransplantConfig()
_E = BitsPerByteConfig()
_EVAL_BYTES = f"{_E.max_bytes / 1000:g}KB"

app = new_app(
    "Move a model onto a new tokenizer (OMP, TokenAdapt heuristic, baselines) and measure it in bits per byte.",
    default_command="run",
)


def _texts(spec: str, max_bytes: Optional[int]):
    from tokbench.corpora import load_source

    src = load_source(spec, max_bytes=max_bytes)
    return src


@app.command("run")
def run(
    model: str = typer.Argument(..., metavar="MODEL", help="HF model folder with safetensors (sharded or not) or a .gguf file."),
    tokenizer: str = typer.Option(..., "--tokenizer", "-t", help="The new tokenizer: tokenizer.json, a folder holding one, or a reference name (llama3, qwen3, ...)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output HF model folder (written atomically)."),
    method: str = typer.Option(_D.method, "--method", help=f"Estimator for new tokens: {', '.join(METHODS)}."),
    k: int = typer.Option(_D.k, "--k", help="OMP sparsity: anchors per new token."),
    donor: Optional[str] = typer.Option(None, "--donor", help="A model that already uses the NEW tokenizer: OMP finds coefficients in its embedding space (tokensurgeon)."),
    aux: str = typer.Option(_D.aux, "--aux", help=f"String-embedding space without a donor: {', '.join(AUX_SPACES)} (minilm needs torch)."),
    ridge: Optional[float] = typer.Option(None, "--ridge", help="OMP: Tikhonov weight of the final coefficient fit (0 = plain least squares as in tokensurgeon; default 0, or 0.01 with --aux minilm)."),
    calibrate: str = typer.Option(_D.calibrate, "--calibrate", help="Output calibration of estimated rows: none, or prior (move each row along the mean final hidden state so its prior logit = its rarest piece's - delta x (pieces-1); needs torch; not in the papers)."),
    delta: float = typer.Option(_D.delta, "--delta", help="--calibrate prior: logit penalty per extra piece."),
    scale: Optional[float] = typer.Option(None, "--scale", help="Multiply every estimated new row by this (default 1.0; combined with --rank-decay)."),
    rank_decay: Optional[float] = typer.Option(None, "--rank-decay", help="Shrink estimated rows more the later their id (a frequency rank): id r keeps min(1, 1 - d*ln(r/100)). Default 0.02 for omp without --donor (chosen on dev splits), 0 otherwise; 0 with --scale 1 is plain OMP."),
    max_candidates: int = typer.Option(_D.max_candidates, "--max-candidates", help="OMP pre-screens each new token to this many most-correlated anchors on large vocabularies (0 = exact search)."),
    old_tokenizer: Optional[str] = typer.Option(None, "--old-tokenizer", help="The model's own tokenizer when MODEL does not carry one."),
    corpus: Optional[str] = typer.Option(None, "--corpus", "-c", help="Corpus spec (or text file) to measure original and transplanted bits per byte on, e.g. libreoffice:en-us@test."),
    max_bytes: str = typer.Option(_EVAL_BYTES, "--max-bytes", help="With --corpus: read at most SIZE of text from each source (one language of a corpus spec, one file), e.g. 200KB or 5MB."),
    eval_spec: Optional[str] = typer.Option(None, "--eval", hidden=True, help="Deprecated name of --corpus."),
    eval_bytes: Optional[str] = typer.Option(None, "--eval-bytes", hidden=True, help="Deprecated name of --max-bytes."),
    seed: int = typer.Option(_D.seed, "--seed", help="Seed for --method random."),
    force: bool = typer.Option(False, "--force", "-f", help="Replace --out if it exists."),
    as_json: bool = typer.Option(False, "--json", help="Print the manifest (and evaluation) as JSON."),
):
    """Transplant MODEL onto a new tokenizer: shared tokens keep their rows, new ones are estimated.

    Example: tokbench transplant SmolLM2-135M-Instruct.Q4_1.gguf --tokenizer llama3 --out runs/smol-llama3 --corpus libreoffice:en-us@test
    """
    from tokbench.cli.common import parse_size
    from tokbench.files import check_output_dir
    from tokbench.transplant.run import compare_bits_per_byte, transplant, validate

    cfg = TransplantConfig(method=method, k=k, aux=aux, ridge=ridge, scale=scale, rank_decay=rank_decay, calibrate=calibrate, delta=delta, max_candidates=max_candidates, seed=seed)
    validate(cfg)
    check_output_dir(out, force)
    eval_spec = corpus or eval_spec
    src = _texts(eval_spec, parse_size(eval_bytes or max_bytes)) if eval_spec else None
    from tokbench.cli.progress import cli_progress

    with cli_progress() as progress:
        man = transplant(model, tokenizer, out, cfg, donor=donor, old_tokenizer=old_tokenizer, force=force,
                         progress=progress)
    counts = man["counts"]
    result = {"manifest": man}
    if not as_json:
        console.print(f"[bold]{escape(str(out))}[/]: {counts['shared']:,} shared, {counts['new']:,} new ({method}), "
                      f"{counts['special_matched']} specials matched by role/string, {counts['special_unmatched']} unmatched specials; "
                      f"{'tied' if man['tied'] else 'untied'} head; {man['wall_time_s']:.1f} s")
    if src is not None:
        with cli_progress() as progress:
            measured = compare_bits_per_byte(model, {"transplanted": out}, src.texts, progress=progress)
        rows = [{"model": label, **r.as_dict()} for label, r in measured.items()]
        result["eval"] = {"text": src.label, "rows": rows}
        if not as_json:
            console.print(rich_table(rows, title=f"bits per byte on {src.label} ({rows[0]['bytes']:,} bytes)",
                                     columns=["model", "bits_per_byte", "bits_per_token", "tokens", "bytes"]))
    if as_json:
        print_json(result)


@app.command("eval")
def eval_cmd(
    model_dir: Path = typer.Argument(..., metavar="MODEL_DIR", help="An HF model folder with its tokenizer (e.g. a transplant output)."),
    corpus: Optional[str] = typer.Option(None, "--corpus", "-c", help="Corpus spec or text file to measure on, e.g. turkish:tr@test."),
    max_bytes: str = typer.Option(_EVAL_BYTES, "--max-bytes", help="Read at most SIZE of text from each source (one language of a corpus spec, one file), e.g. 200KB or 5MB."),
    text: Optional[str] = typer.Option(None, "--text", hidden=True, help="Deprecated name of --corpus."),
    context: int = typer.Option(_E.context, "--context", help="Window length in tokens (BOS included)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
):
    """Bits per byte of MODEL_DIR on a text (per-token loss summed over the text / its UTF-8 bytes).

    Example: tokbench transplant eval runs/smol-llama3 --corpus libreoffice:en-us@test
    """
    from tokbench.cli.common import parse_size
    from tokbench.errors import InputNotFoundError
    from tokbench.transplant.evaluate import evaluate_dir

    if not (model_dir / "config.json").exists():
        raise InputNotFoundError(f"{model_dir} is not an HF model folder (no config.json); give a transplant output or model folder")
    text = corpus or text
    if not text:
        from tokbench.errors import ConfigError

        raise ConfigError("name the text to measure on: tokbench transplant eval MODEL_DIR --corpus SPEC (e.g. libreoffice:en-us@test)")
    src = _texts(text, parse_size(max_bytes))
    r = evaluate_dir(model_dir, src.texts, context=context)
    row = {"model": str(model_dir), "text": src.label, **r.as_dict()}
    if as_json:
        print_json(row)
    else:
        console.print(rich_table([row], columns=["model", "text", "bits_per_byte", "bits_per_token", "tokens", "bytes", "seconds"]))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="transplant")
