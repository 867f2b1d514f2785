"""%TR (share of tokens that are valid words) and %Pure (share that are a root or a morpheme),
after Bayram et al. 2025, generalised to any language with a lexicon oracle.

Each used token id is decoded on its own (its bytes; a partial UTF-8 character becomes U+FFFD and is never
a word), word-start markers are already spaces in ``token_bytes`` and surrounding whitespace is stripped.
Tokens that are only whitespace, punctuation or symbols are skipped (counted in ``skipped_types``).

* type level (as published): over the SET of distinct stripped token strings used on the text;
* occurrence-weighted: every token occurrence counts, so frequent tokens weigh more.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import regex

from tokbench.metrics.lexicon import MORPHEME, WORD, Oracle

# Only whitespace/punctuation/symbols; U+FFFD (a partial UTF-8 character) is NOT skipped: it is judged, and fails.
_SKIP = regex.compile(r"^(?:(?!\uFFFD)[\s\p{P}\p{S}])*$")


def token_forms(token_bytes: list[bytes | None], used: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """For the used ids (U,), the stripped string of each, and which of them to judge.

    Returns (keep (U,) bool, forms (U,) str).
    """
    forms, keep = [], np.zeros(len(used), dtype=np.bool_)
    for k, i in enumerate(used.tolist()):
        b = token_bytes[i] if i < len(token_bytes) else None
        s = b.decode("utf-8", "replace").strip() if b is not None else ""
        forms.append(s)
        keep[k] = b is not None and not _SKIP.match(s)
    return keep, forms


def purity_row(counts: np.ndarray, token_bytes: list[bytes | None], oracle: Oracle,
               advance: Callable[[int], None] | None = None) -> dict:
    """%TR / %Pure of one encoded text from its token ``counts`` (V,), judged by ``oracle``."""
    used = np.flatnonzero(counts)
    keep, forms = token_forms(token_bytes, used)
    kept = [f for f, k in zip(forms, keep) if k]
    flags = oracle.judge(kept, advance)
    occ = counts[used[keep]]
    # Type level: distinct strings (two ids may decode to the same string, e.g. 'the' and ' the').
    by_form = dict(zip(kept, flags.tolist()))
    type_flags = np.fromiter(by_form.values(), dtype=np.int64, count=len(by_form))
    n_types = len(type_flags)
    n_occ = int(occ.sum())
    pure = oracle.has_morphemes

    def share(x, n):
        return 100.0 * float(x) / n if n else float("nan")

    return {
        "oracle": oracle.name,
        "types": n_types,
        "skipped_types": int((~keep).sum()),
        "tr_pct_types": share((type_flags & WORD).astype(bool).sum(), n_types),
        "pure_pct_types": share((type_flags & MORPHEME).astype(bool).sum(), n_types) if pure else None,
        "occurrences": n_occ,
        "tr_pct_occurrences": share(occ[(flags & WORD).astype(bool)].sum(), n_occ),
        "pure_pct_occurrences": share(occ[(flags & MORPHEME).astype(bool)].sum(), n_occ) if pure else None,
    }
