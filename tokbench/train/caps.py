"""SuperBPE's stage-2 caps, defined on a token's bytes.

* words: the number of maximal runs of non-whitespace bytes (whitespace = ASCII space, tab, LF, VT, FF,
  CR). ``b" of the"`` has 2 words, ``b"ofthe "`` 1, ``b"  "`` 0. A merge whose token would have more than
  ``max_words`` (4) words is skipped.
* colon-space: a merge whose token contains ``b": "`` is skipped (it would glue a label to its value).

Both are decidable from the parts of a merge, which the Numba kernel uses (see :func:`concat_meta`).
"""

from __future__ import annotations

import numpy as np

WHITESPACE = frozenset(b" \t\n\x0b\x0c\r")


def count_words(data: bytes) -> int:
    """Maximal runs of non-whitespace bytes.

    >>> count_words(b" of the"), count_words(b"ofthe "), count_words(b"  "), count_words(b"a b\\nc d e")
    (2, 1, 0, 5)
    """
    n = 0
    prev_space = True
    for b in data:
        sp = b in WHITESPACE
        if not sp and prev_space:
            n += 1
        prev_space = sp
    return n


def has_colon_space(data: bytes) -> bool:
    """Whether ``data`` contains a colon followed by a space.

    >>> has_colon_space(b"Note: x"), has_colon_space(b"a:b")
    (True, False)
    """
    return b": " in data


def allowed(data: bytes, max_words: int = 4) -> bool:
    """Whether a stage-2 merge producing ``data`` passes the caps."""
    return count_words(data) <= max_words and not has_colon_space(data)


def space_table() -> np.ndarray:
    """(256,) bool: whitespace bytes (for the Numba kernel)."""
    t = np.zeros(256, dtype=np.bool_)
    for b in WHITESPACE:
        t[b] = True
    return t
