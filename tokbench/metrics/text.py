"""What the metrics need to know about a text once, whatever the tokenizer: characters, bytes and words.

:func:`text_arrays` turns a list of documents into flat arrays (built with numpy and one Numba pass) that
every tokenizer's encoding of the same documents is measured against.

Word definition (used by fertility): a word is a maximal run of Unicode letters, marks and digits
(categories L*, M*, N*), so punctuation and whitespace separate words and 'don't' is two words. For
languages written without spaces between words this is meaningless (a 'word' would be a whole clause),
so fertility is reported as not applicable there (see :data:`NO_SPACE_LANGUAGES`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from tokbench.metrics import kernels
from tokbench.metrics.unicode import code_points, utf8_widths, word_char_table

#: Languages (ISO 639-1/639-3 base codes, as corpora name them) written without spaces between words.
NO_SPACE_LANGUAGES = frozenset(
    "ja jpn zh zho cmn yue wuu hak nan th tha km khm my mya lo lao dz dzo bo bod".split()
)

WORD_DEFINITION = (
    "a word is a maximal run of Unicode letters, marks and digits (categories L, M, N); a token counts "
    "toward every word its UTF-8 byte span overlaps (a superword token counts once for each word it covers)"
)


def is_spaced_language(lang: str | None) -> bool:
    """False for languages written without spaces ('ja', 'zh-cn', 'cmn_hans', 'th', ...).

    >>> is_spaced_language("zh-cn"), is_spaced_language("de"), is_spaced_language("cmn_hant")
    (False, True, False)
    """
    if not lang:
        return True
    base = lang.lower().replace("_", "-").split("-")[0]
    return base not in NO_SPACE_LANGUAGES


@dataclass(frozen=True)
class TextArrays:
    """Flat arrays of one list of documents.

    doc_bytes:        (D,) int64 UTF-8 length of each document.
    doc_byte_offsets: (D+1,) int64 cumulative doc_bytes (documents concatenated).
    lead:             (B,) bool, first byte of each UTF-8 character of the concatenated documents.
    n_chars:          number of characters (code points).
    word_doc_offsets: (D+1,) int64; word_starts/word_ends (W,) int64 byte spans within their document.
    """

    doc_bytes: np.ndarray
    doc_byte_offsets: np.ndarray
    lead: np.ndarray
    n_chars: int
    word_doc_offsets: np.ndarray
    word_starts: np.ndarray
    word_ends: np.ndarray

    @property
    def n_bytes(self) -> int:
        return int(self.doc_byte_offsets[-1])

    @property
    def n_words(self) -> int:
        return int(self.word_starts.shape[0])


def text_arrays(texts: Sequence[str]) -> TextArrays:
    """Characters, bytes and words of ``texts`` as flat arrays.

    >>> t = text_arrays(["Hi, wörld", "ok"])
    >>> t.n_chars, t.n_bytes, t.n_words, t.word_starts.tolist(), t.word_ends.tolist()
    (11, 12, 3, [0, 4, 0], [2, 10, 2])
    """
    cps, char_offsets = code_points(texts)
    widths = utf8_widths(cps)
    is_word = word_char_table()[np.minimum(cps, 0x10FFFF)]
    word_doc_offsets, starts, ends = kernels.find_words(is_word, widths, char_offsets)
    # Per-document byte sizes from the widths (one cumsum), the lead-byte mask from the char widths.
    byte_cum = np.zeros(len(cps) + 1, dtype=np.int64)
    np.cumsum(widths, out=byte_cum[1:])
    doc_byte_offsets = byte_cum[char_offsets]
    lead = np.zeros(int(byte_cum[-1]), dtype=np.bool_)
    lead[byte_cum[:-1]] = True
    return TextArrays(
        doc_bytes=np.diff(doc_byte_offsets),
        doc_byte_offsets=doc_byte_offsets,
        lead=lead,
        n_chars=int(len(cps)),
        word_doc_offsets=word_doc_offsets,
        word_starts=starts,
        word_ends=ends,
    )
