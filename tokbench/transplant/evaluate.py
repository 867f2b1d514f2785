"""Bits per byte of a causal LM on text: the tokenizer-independent way to compare transplanted models.

bits per byte = (sum over predicted tokens of -log2 p(token | context)) / (UTF-8 bytes of the text).

Convention: the documents of a text are joined with newlines into one stream (the newlines count as
bytes; ``join=None`` keeps them apart). Every document is encoded with the model's own tokenizer (no special tokens added) and cut
into windows of at most ``context - 1`` tokens; each window is fed as [BOS] + window, so every content
token — the first included — is predicted, and the BOS itself is never scored. Windows do not overlap (a
window's first tokens see less context than a sliding window would give: a slight overestimate, equal for
every model compared). The BOS is the model config's ``bos_token_id``, else its ``eos_token_id``.
Needs torch + transformers (the ``model`` extra).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from tokbench.errors import ConfigError, require
from tokbench.transplant.config import BitsPerByteConfig


@dataclass(frozen=True)
class BitsPerByte:
    bits_per_byte: float
    bits_per_token: float
    tokens: int
    bytes: int
    documents: int
    seconds: float

    def as_dict(self) -> dict:
        return {"bits_per_byte": self.bits_per_byte, "bits_per_token": self.bits_per_token, "tokens": self.tokens,
                "bytes": self.bytes, "documents": self.documents, "seconds": self.seconds}


def load_model(model_dir: str | Path):
    """(transformers model in float32 eval mode, tokbench Tokenizer) for an HF folder."""
    require("torch", extra="model")
    transformers = require("transformers", extra="model")
    import torch

    from tokbench.tokenizer import load_tokenizer

    from tokbench.errors import InputNotFoundError

    folder = Path(model_dir)
    if not folder.is_dir() or not any(folder.glob("*.safetensors")):
        raise InputNotFoundError(f"{model_dir} is not a model folder with .safetensors weights (pickled .bin weights are never loaded)")
    transformers.utils.logging.disable_progress_bar()
    # safetensors only: a pytorch_model.bin would go through torch.load (pickle), i.e. run a stranger's code.
    try:
        model = transformers.AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32, use_safetensors=True,
                                                                  trust_remote_code=False).eval()
    except (ValueError, KeyError, TypeError, OSError) as exc:  # transformers' own words on a config it cannot use
        from tokbench.errors import CorruptFileError

        raise CorruptFileError(f"transformers cannot load {model_dir} ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})") from None
    return model, load_tokenizer(model_dir)


def windows(ids_per_doc: Sequence[Sequence[int]], bos: int, context: int) -> list[list[int]]:
    """[BOS] + up to ``context - 1`` tokens per window, documents never mixed.

    >>> windows([[5, 6, 7], [8]], bos=1, context=3)
    [[1, 5, 6], [1, 7], [1, 8]]
    """
    step = context - 1
    out = []
    for ids in ids_per_doc:
        for lo in range(0, len(ids), step):
            out.append([bos] + list(ids[lo : lo + step]))
    return out


def window_setup(cfg, context: int) -> tuple[int, int]:
    """(BOS id, window length) for scoring with ``cfg`` (a transformers config): BOS is ``bos_token_id``,
    else ``eos_token_id`` (first of a list); the window is capped by ``max_position_embeddings``."""
    bos = getattr(cfg, "bos_token_id", None)
    if bos is None:
        bos = getattr(cfg, "eos_token_id", None)
    if isinstance(bos, list):
        bos = bos[0]
    if bos is None:
        raise ConfigError("the model config has neither bos_token_id nor eos_token_id; cannot score the first token")
    max_ctx = int(getattr(cfg, "max_position_embeddings", context) or context)
    return int(bos), max(2, min(context, max_ctx))


def bits_per_byte(model, tokenizer, texts: Sequence[str], *, context: int = BitsPerByteConfig.context, batch_tokens: int = 2048,
                  join: str | None = "\n", advance: Callable[[int], None] | None = None) -> BitsPerByte:
    """Sum of per-token negative log-likelihoods (bits) over ``texts`` / their UTF-8 bytes.

    ``join``: documents are joined with this separator into one stream (its bytes count too), so short
    paragraphs are scored with the preceding text as context, as in wikitext-style evaluation; None scores
    every document on its own (each then starts from BOS alone, which costs far more bits on short lines).
    """
    import torch

    if join is not None:
        texts = [join.join(t for t in texts if t)]

    t0 = time.perf_counter()
    bos, context = window_setup(model.config, context)
    texts = [t for t in texts if t]
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    if n_bytes == 0:
        raise ConfigError("the evaluation text is empty")
    enc = tokenizer.encode_batch(texts, spans=False)
    docs = [enc.doc(d).tolist() for d in range(enc.n_docs)]
    wins = windows(docs, int(bos), context)
    order = np.argsort([-len(w) for w in wins], kind="stable")
    total_nats = 0.0
    n_tok = 0
    with torch.inference_mode():
        i = 0
        while i < len(order):
            L = len(wins[order[i]])
            bsz = max(1, batch_tokens // L)
            sel = order[i : i + bsz]
            ids = torch.zeros((len(sel), L), dtype=torch.long)
            mask = torch.zeros((len(sel), L), dtype=torch.long)
            for r, j in enumerate(sel):
                w = wins[j]
                ids[r, : len(w)] = torch.tensor(w)
                mask[r, : len(w)] = 1
            logits = model(input_ids=ids, attention_mask=mask).logits.float()
            logp = torch.log_softmax(logits[:, :-1], dim=-1)
            tgt = ids[:, 1:]
            nll = -logp.gather(-1, tgt.unsqueeze(-1)).squeeze(-1) * mask[:, 1:]
            total_nats += float(nll.sum())
            n_tok += int(mask[:, 1:].sum())
            i += len(sel)
            if advance:
                advance(len(sel))
    bits = total_nats / math.log(2)
    return BitsPerByte(bits / n_bytes, bits / max(n_tok, 1), n_tok, n_bytes, len(texts), round(time.perf_counter() - t0, 2))


def evaluate_dir(model_dir: str | Path, texts: Sequence[str], *, context: int = BitsPerByteConfig.context, join: str | None = "\n",
                 advance: Callable[[int], None] | None = None) -> BitsPerByte:
    model, tok = load_model(model_dir)
    return bits_per_byte(model, tok, texts, context=context, join=join, advance=advance)
