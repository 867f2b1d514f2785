"""Token premium (Petrov et al. 2023): tokens(text_L) / tokens(text_ref) on parallel text.

A ratio of corpus totals over the segments present in both languages (matched by alignment id), never a
mean of per-segment ratios. Segments whose text is identical to the reference's (left untranslated, as
in LibreOffice's help) are dropped, as are segments missing on either side. The UNK share of the target
language is reported; pairs with more than 10% UNK tokens are flagged, as Petrov et al. blank them.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from tokbench.metrics.config import UNK_FLAG_THRESHOLD


def align(ref_ids: Sequence[str], ref_texts: Sequence[str], ids: Sequence[str], texts: Sequence[str],
          drop_identical: bool = True) -> tuple[np.ndarray, np.ndarray, int]:
    """Positions of the segments present in both sides, in reference order.

    With ``drop_identical`` (any language but the reference itself), pairs with identical text are dropped.

    Returns (ref_positions (K,), target_positions (K,), identical pairs dropped).

    >>> r, t, n = align(["a", "b", "c"], ["x", "y", "z"], ["c", "a", "d"], ["Z", "x", "w"])
    >>> r.tolist(), t.tolist(), n
    ([2], [0], 1)
    """
    where = {k: i for i, k in enumerate(ids)}
    ref_pos, tgt_pos, identical = [], [], 0
    for i, k in enumerate(ref_ids):
        j = where.get(k)
        if j is None:
            continue
        if drop_identical and texts[j] == ref_texts[i]:
            identical += 1
            continue
        ref_pos.append(i)
        tgt_pos.append(j)
    return np.array(ref_pos, dtype=np.int64), np.array(tgt_pos, dtype=np.int64), identical


def premium_row(ref_tokens_per_doc: np.ndarray, tgt_tokens_per_doc: np.ndarray, tgt_unk_per_doc: np.ndarray,
                ref_pos: np.ndarray, tgt_pos: np.ndarray) -> dict:
    """Premium of one target language over the aligned segments.

    ref_tokens_per_doc (Dr,), tgt_tokens_per_doc (Dt,), tgt_unk_per_doc (Dt,) int64; positions (K,).

    >>> premium_row(np.array([2, 4, 9]), np.array([3, 6]), np.array([0, 1]), np.array([0, 1]), np.array([0, 1]))["premium"]
    1.5
    """
    return premium_totals_row(len(ref_pos), int(ref_tokens_per_doc[ref_pos].sum()), int(tgt_tokens_per_doc[tgt_pos].sum()),
                              int(tgt_unk_per_doc[tgt_pos].sum()))


def premium_totals_row(segments: int, ref: int, tgt: int, unk: int) -> dict:
    """Premium of one target language from its totals over the aligned segments (the streamed path's input).

    >>> premium_totals_row(2, 6, 9, 1)["premium"]
    1.5
    """
    unk_share = unk / tgt if tgt else 0.0
    return {
        "segments": int(segments),
        "ref_tokens": int(ref),
        "tokens": int(tgt),
        "premium": tgt / ref if ref else float("nan"),
        "unk_share": unk_share,
        "flagged_unk": bool(unk_share > UNK_FLAG_THRESHOLD),
    }
