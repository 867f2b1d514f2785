"""Auxiliary spaces in which any string can be embedded, for ``omp``/``heuristic`` without a donor model.

* ``self``: a string's vector is the mean of the base model's rows of its old-tokenizer pieces (so an old
  token's vector is its own row) — no extra model, and the space is the base model's own.
* ``minilm``: the all-MiniLM-L6-v2 sentence embedding (mean pooling, L2-normalised) of the string with
  surrounding whitespace stripped; needs torch + transformers (the ``model`` extra).

Also here: re-tokenizing the new vocabulary with the old tokenizer (the ragged "pieces" every estimator uses).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from tokbench.tokenizer.base import Tokenizer


@dataclass(frozen=True)
class Pieces:
    """The old tokenizer's pieces of B strings: flat (P,) int64 old ids, offsets (B+1,) int64,
    piece_chars (P,) characters per piece, token_chars (B,) characters per string."""

    flat: np.ndarray
    offsets: np.ndarray
    piece_chars: np.ndarray
    token_chars: np.ndarray


def _text(b: bytes | None) -> str:
    return "" if b is None else b.decode("utf-8", errors="replace")


def old_pieces(old: Tokenizer, strings: list[bytes], old_rows: int) -> Pieces:
    """Split each new token's bytes with the OLD tokenizer.

    Bytes that are not valid UTF-8 on their own (a byte-level token standing for part of a character) are
    split into single bytes and mapped to the old vocabulary's single-byte tokens when it has them.
    """
    old_bytes = old.token_bytes()
    specials = set(old.special_tokens.values())
    single: dict[bytes, int] = {}
    for i, b in enumerate(old_bytes[:old_rows]):
        if b is not None and len(b) == 1 and i not in specials and b not in single:
            single[b] = i
    texts: list[str] = []
    valid = np.ones(len(strings), dtype=bool)
    for i, b in enumerate(strings):
        try:
            texts.append(b.decode("utf-8"))
        except UnicodeDecodeError:
            valid[i] = False
    enc = old.encode_batch(texts, spans=False)
    lengths = np.zeros(len(strings), dtype=np.int64)
    lengths[valid] = enc.tokens_per_doc()
    invalid_idx = np.flatnonzero(~valid)
    invalid_ids = [[single[bytes([x])] for x in strings[i] if bytes([x]) in single] for i in invalid_idx]
    lengths[invalid_idx] = [len(x) for x in invalid_ids]
    offsets = np.zeros(len(strings) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.zeros(int(offsets[-1]), dtype=np.int64)
    enc_len = enc.tokens_per_doc()
    within = np.arange(enc.n_tokens) - np.repeat(enc.doc_offsets[:-1], enc_len)
    flat[np.repeat(offsets[:-1][valid], enc_len) + within] = enc.ids
    for i, ids in zip(invalid_idx, invalid_ids):
        flat[offsets[i] : offsets[i] + len(ids)] = ids
    keep = flat < old_rows  # ids beyond the model's rows (should not happen) are dropped by giving them row 0
    flat = np.where(keep, flat, 0)
    old_chars = np.array([len(_text(b)) for b in old_bytes], dtype=np.float64)
    token_chars = np.array([len(_text(b)) for b in strings], dtype=np.float64)
    return Pieces(flat, offsets, old_chars[flat], token_chars)


def self_space(E: np.ndarray, pieces: Pieces) -> tuple[np.ndarray, np.ndarray]:
    """('self' space) phi_new (B, D) = mean of pieces' rows, phi_old (V, D) = E."""
    from tokbench.transplant.estimators import fvt

    return fvt(E, pieces.flat, pieces.offsets), E


class MiniLM:
    """all-MiniLM-L6-v2 string embeddings (384-dim), cached on disk by the strings' hash."""

    dim = 384

    def __init__(self, model_dir=None):
        from tokbench.errors import require

        torch = require("torch", extra="model")
        transformers = require("transformers", extra="model")
        from tokenizers import Tokenizer as _Tok

        from tokbench.transplant.fetch import minilm_dir

        self.dir = model_dir or minilm_dir()
        self.torch = torch
        self.model = transformers.AutoModel.from_pretrained(str(self.dir), use_safetensors=True, trust_remote_code=False).eval()
        self.tok = _Tok.from_file(str(self.dir / "tokenizer.json"))
        self.tok.no_padding()
        self.tok.enable_truncation(64)

    def embed(self, strings: list[str], batch: int = 512, advance: Callable[[int], None] | None = None) -> np.ndarray:
        """(B, 384) float32 unit vectors for ``strings`` (whitespace-stripped)."""
        from tokbench.verified_cache import ArrayCache

        key = "minilm " + hashlib.sha256("\0".join(strings).encode("utf-8", "surrogatepass")).hexdigest()
        cache = ArrayCache("transplant")
        hit = cache.get(key, lambda z, meta: z["vectors"].shape == (len(strings), self.dim) and z["vectors"].dtype == np.float32
                        and bool(np.isfinite(z["vectors"]).all()))
        if hit is not None:
            if advance:
                advance(len(strings))
            return hit[0]["vectors"]
        torch = self.torch
        encs = self.tok.encode_batch([s.strip() for s in strings])
        lengths = np.array([len(e.ids) for e in encs])
        order = np.argsort(lengths, kind="stable")
        out = np.zeros((len(strings), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for lo in range(0, len(order), batch):
                sel = order[lo : lo + batch]
                L = int(lengths[sel].max())
                ids = np.zeros((len(sel), L), dtype=np.int64)
                mask = np.zeros((len(sel), L), dtype=np.int64)
                for r, i in enumerate(sel):
                    n = lengths[i]
                    ids[r, :n] = encs[i].ids
                    mask[r, :n] = 1
                ti, tm = torch.from_numpy(ids), torch.from_numpy(mask)
                h = self.model(input_ids=ti, attention_mask=tm, token_type_ids=torch.zeros_like(ti)).last_hidden_state
                m = tm.unsqueeze(-1).to(h.dtype)
                v = (h * m).sum(1) / m.sum(1).clamp(min=1)
                v = torch.nn.functional.normalize(v, dim=-1)
                out[sel] = v.numpy()
                if advance:
                    advance(len(sel))
        cache.put(key, {"vectors": out})
        return out
