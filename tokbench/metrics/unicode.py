"""Per-code-point lookup tables (word characters, Unicode scripts) and text -> flat code-point arrays.

Tables cover all 0x110000 code points and are built once per process from the ``regex`` module's
Unicode data (about 0.1 s), so classifying text is one numpy gather instead of a Python loop.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np

#: Scripts told apart in the vocabulary-by-script table (ISO 15924 names as ``regex`` spells them).
#: Anything else counts as 'Other'. Index 0/1 are the neutral scripts (Common, Inherited).
SCRIPTS = (
    "Common", "Inherited",
    "Latin", "Greek", "Cyrillic", "Armenian", "Hebrew", "Arabic", "Syriac", "Thaana", "Devanagari", "Bengali",
    "Gurmukhi", "Gujarati", "Oriya", "Tamil", "Telugu", "Kannada", "Malayalam", "Sinhala", "Thai", "Lao",
    "Tibetan", "Myanmar", "Georgian", "Hangul", "Ethiopic", "Cherokee", "Canadian_Aboriginal", "Khmer",
    "Mongolian", "Hiragana", "Katakana", "Bopomofo", "Han", "Tifinagh", "Nko", "Vai", "Yi",
)
N_NEUTRAL = 2
OTHER = len(SCRIPTS)
MIXED = OTHER + 1
EMPTY = OTHER + 2
#: Labels of every class :func:`script_table` and the token classifier produce.
SCRIPT_LABELS = SCRIPTS + ("Other", "mixed", "no text")


def _all_code_points() -> str:
    cps = np.arange(0x110000, dtype=np.uint32)
    cps[0xD800:0xE000] = 0xFFFD  # surrogates cannot live in a str; they are never in decoded text anyway
    return cps.tobytes().decode("utf-32-le")


@lru_cache(maxsize=1)
def word_char_table() -> np.ndarray:
    """(0x110000,) bool: letters, marks and digits (Unicode categories L*, M*, N*)."""
    import regex

    text = _all_code_points()
    table = np.zeros(0x110000, dtype=np.bool_)
    for m in regex.finditer(r"[\p{L}\p{M}\p{N}]+", text):
        table[m.start() : m.end()] = True
    table[0xD800:0xE000] = False
    return table


@lru_cache(maxsize=1)
def script_table() -> np.ndarray:
    """(0x110000,) uint8: index into :data:`SCRIPT_LABELS` of each code point's script."""
    import regex

    text = _all_code_points()
    table = np.full(0x110000, OTHER, dtype=np.uint8)
    for k, name in enumerate(SCRIPTS):
        for m in regex.finditer(rf"\p{{Script={name}}}+", text):
            table[m.start() : m.end()] = k
    return table


def code_points(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """All texts' code points concatenated, and (D+1,) offsets.

    >>> cps, off = code_points(["ab", "é"])
    >>> cps.tolist(), off.tolist()
    ([97, 98, 233], [0, 2, 3])
    """
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    joined = "".join(texts)
    cps = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)
    return cps, offsets


def utf8_widths(cps: np.ndarray) -> np.ndarray:
    """(C,) int64 UTF-8 length of each code point."""
    return 1 + (cps >= 0x80).astype(np.int64) + (cps >= 0x800) + (cps >= 0x10000)
