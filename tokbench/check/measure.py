"""The few corpus metrics a baseline records, computed with :mod:`tokbench.metrics` (the same definitions
and kernels as `tokbench evaluate`, so a baseline's numbers match an evaluation report).

bytes/token, fertility (Rust et al. 2021; not applicable to scripts written without spaces), token
premium against a reference language on aligned segments (Petrov et al. 2023, a ratio of corpus totals,
identical/untranslated pairs dropped), UNK rate and byte-fallback rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from tokbench.metrics import kernels
from tokbench.metrics.compression import compression_row
from tokbench.metrics.coverage import coverage_row, flag_mask
from tokbench.metrics.fertility import fertility_row
from tokbench.metrics.premium import align, premium_row
from tokbench.metrics.text import text_arrays
from tokbench.tokenizer.base import Encoded, Tokenizer


@dataclass(frozen=True)
class Masks:
    """(V,) bool masks of a tokenizer: its unknown token, and its byte / partial-character tokens."""

    unk: np.ndarray
    byte: np.ndarray

    @staticmethod
    def of(tok: Tokenizer) -> "Masks":
        V = tok.vocab_size
        byte_mask = np.asarray(tok.byte_token_mask, dtype=np.bool_)
        unk, _ = flag_mask(V, tok.unk_id, byte_mask)
        byte = np.zeros(V, dtype=np.bool_)
        byte[: min(V, len(byte_mask))] = byte_mask[:V]
        return Masks(unk, byte)


def corpus_metrics(enc: Encoded, texts: Sequence[str], lang: str | None, kind: str, masks: Masks) -> dict[str, float | None]:
    """bytes_per_token, fertility, unk_rate, byte_fallback_rate of one encoded source (premium separately).

    Code is measured with letter/digit-run words whatever its 'language' label.
    """
    ta = text_arrays(texts)
    counts = kernels.count_ids(enc.ids, len(masks.unk))
    comp = compression_row(ta.n_bytes, ta.n_chars, enc.n_tokens, counts, len(masks.unk))
    fert = fertility_row(enc, ta, lang if kind != "code" else None)
    cov = coverage_row(enc, ta, counts, masks.unk, masks.byte)
    return {
        "bytes_per_token": comp["bytes_per_token"],
        "fertility": fert["fertility"],
        "unk_rate": cov["unk_rate"],
        "byte_fallback_rate": cov["byte_token_rate"],
    }


def premium(enc: Encoded, ids: Sequence[str], texts: Sequence[str], ref_tokens_per_doc: np.ndarray,
            ref_ids: Sequence[str], ref_texts: Sequence[str], masks: Masks) -> tuple[float, int]:
    """(premium vs the reference, aligned segments used); identical (untranslated) pairs are dropped."""
    r_pos, t_pos, _ = align(ref_ids, ref_texts, ids, texts, drop_identical=True)
    unk_pd = kernels.count_masked_per_doc(enc.ids, enc.doc_offsets, masks.unk)
    row = premium_row(ref_tokens_per_doc, enc.tokens_per_doc(), unk_pd, r_pos, t_pos)
    return row["premium"], row["segments"]


def roundtrip_failures(decode, enc: Encoded, texts: Sequence[str]) -> list[int]:
    """Indexes of documents with decode(encode(text)) != text."""
    return [d for d, text in enumerate(texts) if decode(enc.doc(d).tolist()) != text]
