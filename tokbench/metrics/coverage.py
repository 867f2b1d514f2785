"""Coverage: how much of a text a vocabulary covers without UNK or byte tokens, and what it is made of.

* UNK rate: share of tokens that are the tokenizer's unknown token (0 when it has none).
* byte-fallback rate: share of tokens in ``Tokenizer.byte_token_mask`` (``<0xNN>`` pieces and byte-level
  tokens that are not a whole UTF-8 character).
* chars needing UNK/bytes: share of characters whose bytes are (partly) covered by such a token.
* vocabulary utilisation: distinct token ids used / vocabulary size.
* script share of the vocabulary (Qtok-style): a token's script is that of its letters (Common and
  Inherited characters such as spaces, digits and punctuation only decide when nothing else is there);
  two scripts in one token make it 'mixed'; byte tokens and special tokens are their own classes.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from tokbench.metrics import kernels
from tokbench.metrics.text import TextArrays
from tokbench.metrics.unicode import EMPTY, MIXED, N_NEUTRAL, SCRIPT_LABELS, code_points, script_table
from tokbench.tokenizer.base import Encoded


def flag_mask(vocab_size: int, unk_id: int | None, byte_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(V,) bool masks: (unk, unk or byte)."""
    unk = np.zeros(vocab_size, dtype=np.bool_)
    if unk_id is not None and 0 <= unk_id < vocab_size:
        unk[unk_id] = True
    byte = np.zeros(vocab_size, dtype=np.bool_)
    byte[: min(vocab_size, len(byte_mask))] = byte_mask[:vocab_size]
    return unk, unk | byte


def coverage_row(enc: Encoded, text: TextArrays, counts: np.ndarray, unk_mask: np.ndarray, byte_mask: np.ndarray) -> dict:
    """Coverage figures of one encoded text; ``counts`` (V,) are its token counts."""
    flagged_chars = None
    if enc.starts is not None:
        either = unk_mask | byte_mask
        tok_flag = either[np.clip(enc.ids, 0, len(either) - 1)]
        flagged_chars, _ = kernels.flagged_chars(enc.starts, enc.ends, enc.doc_offsets, tok_flag, text.lead,
                                                 text.doc_byte_offsets)
    return coverage_totals_row(enc.n_tokens, counts, unk_mask, byte_mask, flagged_chars, text.n_chars)


def coverage_totals_row(n_tokens: int, counts: np.ndarray, unk_mask: np.ndarray, byte_mask: np.ndarray,
                        flagged_chars: int | None, n_chars: int) -> dict:
    """The same row from token counts and the number of flagged characters (what the streamed evaluation
    keeps); ``flagged_chars`` None when the encoding had no byte spans."""
    n = n_tokens
    n_unk = int(counts[unk_mask[: len(counts)]].sum())
    n_byte = int(counts[byte_mask[: len(counts)]].sum())
    return {
        "tokens": n,
        "unk_rate": n_unk / n if n else float("nan"),
        "byte_token_rate": n_byte / n if n else float("nan"),
        "chars_needing_unk_or_bytes": (flagged_chars / n_chars) if (flagged_chars is not None and n_chars) else None,
        "distinct_tokens": int((counts > 0).sum()),
        "vocab_utilisation": float((counts > 0).sum()) / len(counts) if len(counts) else float("nan"),
    }


def token_scripts(token_bytes: list[bytes | None], byte_mask: np.ndarray) -> list[str]:
    """Script label of every vocabulary entry ('Latin', 'Han', 'mixed', 'bytes', 'special', ...)."""
    texts = [b.decode("utf-8", "replace") if b is not None else "" for b in token_bytes]
    cps, offsets = code_points(texts)
    classes = kernels.classify_tokens(script_table()[np.minimum(cps, 0x10FFFF)].astype(np.int64), offsets,
                                      N_NEUTRAL, MIXED, EMPTY)
    labels = np.array(SCRIPT_LABELS, dtype=object)[classes]
    out = labels.tolist()
    for i, b in enumerate(token_bytes):
        if b is None:
            out[i] = "special"
        elif i < len(byte_mask) and byte_mask[i]:
            out[i] = "bytes"
    return out


def script_shares(labels: list[str]) -> dict[str, tuple[float, int]]:
    """(share, count) of the vocabulary per script label, largest first.

    >>> script_shares(["Latin", "Han", "Latin", "bytes"])["Latin"]
    (0.5, 2)
    """
    c = Counter(labels)
    n = sum(c.values())
    return {k: (v / n, v) for k, v in c.most_common()}
