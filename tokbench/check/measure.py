"""The few corpus metrics a baseline records, computed from :class:`Encoded` arrays with numpy.

Definitions follow METRICS.md (bytes per token, fertility of Rust et al. 2021, token premium of Petrov
et al. 2023 as a ratio of corpus totals, UNK and byte-fallback rates). They are kept here, small and
self-contained, so that a baseline's numbers do not move when other report code changes.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from tokbench.tokenizer.base import Encoded, utf8_prefix

# Languages written without spaces between words: a whitespace "word" means nothing there, so
# fertility is reported as not applicable (METRICS.md). Base codes, ISO 639-1 and 639-3.
NO_SPACE_LANGS = frozenset({"ja", "jpn", "zh", "cmn", "zho", "yue", "th", "tha", "my", "mya", "km", "khm",
                            "lo", "lao", "bo", "bod", "dz", "dzo"})

_WORD = re.compile(r"\S+")


def writes_without_spaces(lang: str | None) -> bool:
    """'zh-cn' -> True, 'cmn_hans' -> True, 'de' -> False, None -> False."""
    if not lang:
        return False
    return re.split(r"[-_]", lang.lower())[0] in NO_SPACE_LANGS


def bytes_per_token(enc: Encoded) -> float | None:
    """UTF-8 bytes / tokens over the whole batch; None for no tokens.

    >>> bytes_per_token(Encoded.from_lists([[1, 2], [3, 4]], doc_bytes=[5, 3]))
    2.0
    """
    return float(enc.doc_bytes.sum()) / enc.n_tokens if enc.n_tokens else None


def id_rate(enc: Encoded, mask: np.ndarray | None) -> float | None:
    """Share of tokens whose id is flagged in ``mask`` ((V,) bool); 0.0 when ``mask`` is None.

    >>> id_rate(Encoded.from_lists([[0, 1, 1, 2]], doc_bytes=[4]), np.array([False, True, False]))
    0.5
    """
    if not enc.n_tokens:
        return None
    if mask is None:
        return 0.0
    ids = enc.ids
    inside = ids < len(mask)
    return float(mask[ids[inside]].sum()) / enc.n_tokens


def word_spans(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whitespace-separated words of all texts in one global byte space.

    Texts are laid end to end with one separator byte between them, so document ``d`` starts at
    ``base[d] = sum(doc_bytes[:d]) + d``. Returns (base (D,), word_starts (W,), word_ends (W,)), int64.

    >>> base, ws, we = word_spans(["ab c", "dé"])
    >>> base.tolist(), ws.tolist(), we.tolist()
    ([0, 5], [0, 3, 5], [2, 4, 8])
    """
    joined = "\n".join(texts)
    prefix = utf8_prefix(joined)
    spans = np.array([m.span() for m in _WORD.finditer(joined)], dtype=np.int64).reshape(-1, 2)
    lengths = np.fromiter((len(t.encode("utf-8")) for t in texts), dtype=np.int64, count=len(texts))
    base = np.zeros(len(texts), dtype=np.int64)
    if len(texts) > 1:
        base[1:] = np.cumsum(lengths[:-1] + 1)
    return base, prefix[spans[:, 0]], prefix[spans[:, 1]]


def fertility(enc: Encoded, texts: Sequence[str]) -> float | None:
    """Tokens per whitespace word: a word overlapped by n tokens counts n (at least 1); None when the
    texts have no words or ``enc`` has no spans.

    A token that covers the space before a word ('Ġfox') belongs to that word; a token spanning two
    words counts for both. Exact without sorting tokens: a token overlaps [ws, we) iff start < we and
    end > ws, and every token with end <= ws also has start < we.

    >>> e = Encoded.from_lists([[1, 2, 3]], doc_bytes=[6], spans_per_doc=[[(0, 2), (2, 3), (3, 6)]])
    >>> fertility(e, ["ab cde"])   # 'ab' -> 1 token, 'cde' -> 2 tokens (' ' + 'cde')
    1.5
    """
    if enc.starts is None:
        return None
    base, ws, we = word_spans(texts)
    if len(ws) == 0:
        return None
    doc_of_token = np.repeat(np.arange(enc.n_docs, dtype=np.int64), enc.tokens_per_doc())
    ts = enc.starts + base[doc_of_token]
    te = enc.ends + base[doc_of_token]
    keep = te > ts  # empty spans (e.g. a bare prefix marker) stand for no text
    ts, te = np.sort(ts[keep]), np.sort(te[keep])
    per_word = np.searchsorted(ts, we, side="left") - np.searchsorted(te, ws, side="right")
    return float(np.maximum(per_word, 1).sum()) / len(ws)


def premium_ratio(tokens: dict[str, int], texts: dict[str, str], ref_tokens: dict[str, int],
                  ref_texts: dict[str, str]) -> tuple[float | None, int]:
    """Token premium: sum of tokens(L) / sum of tokens(ref) over segments present in both, leaving out
    segments identical to the reference (left untranslated). Returns (premium, segments used).

    >>> premium_ratio({"a": 6, "b": 3, "c": 9}, {"a": "x", "b": "y", "c": "Z"},
    ...               {"a": 3, "b": 3, "c": 9}, {"a": "X", "b": "Y", "c": "Z"})
    (1.5, 2)
    """
    shared = [k for k in tokens if k in ref_tokens and texts[k] != ref_texts[k]]
    den = sum(ref_tokens[k] for k in shared)
    if not shared or den == 0:
        return None, len(shared)
    return sum(tokens[k] for k in shared) / den, len(shared)


def roundtrip_failures(decode, enc: Encoded, texts: Sequence[str]) -> list[int]:
    """Indexes of documents with decode(encode(text)) != text."""
    return [d for d, text in enumerate(texts) if decode(enc.doc(d).tolist()) != text]
