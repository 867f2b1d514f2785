"""Token boundaries as a reader sees them: cells of whole characters, each character in exactly one cell.

Formats report token spans differently: tiktoken gives exact byte spans (a byte token covers part of a
character), Hugging Face byte-level gives each byte token its whole character's span (overlapping), and
SentencePiece byte fallback gives empty spans followed by one covering the character. A *cell* is a
maximal run of consecutive tokens that no clean boundary separates; a clean boundary is a byte offset
on a character boundary that no earlier token reaches past and no later token starts before. So a cell
is one token (the usual case) or the tokens that split characters between them (llama3's ``🤖`` is
three tokens and one cell), and the text of a cell is shown once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Cell:
    """Characters ``text[start:end]`` and the ids of the tokens that make them (``()``: text no token
    covers, e.g. whitespace a normalizer dropped)."""

    start: int
    end: int
    text: str
    ids: tuple[int, ...]


def token_cells(text: str, ids: Sequence[int], starts: Sequence[int], ends: Sequence[int]) -> list[Cell]:
    """Group one document's tokens (byte spans into ``text``'s UTF-8) into :class:`Cell` objects.

    >>> [(c.text, c.ids) for c in token_cells("a🤖b", [64, 9468, 97, 244, 65], [0, 1, 1, 1, 5], [1, 5, 5, 5, 6])]
    [('a', (64,)), ('🤖', (9468, 97, 244)), ('b', (65,))]
    >>> [(c.text, c.ids) for c in token_cells("a🤖b", [64, 8582, 97, 244, 65], [0, 1, 3, 4, 5], [1, 3, 4, 5, 6])]
    [('a', (64,)), ('🤖', (8582, 97, 244)), ('b', (65,))]
    >>> [(c.text, c.ids) for c in token_cells("a b", [1, 2], [0, 2], [1, 3])]
    [('a', (1,)), (' ', ()), ('b', (2,))]
    """
    data = text.encode("utf-8")
    n = len(data)
    char_at: dict[int, int] = {}  # byte offset of a character boundary -> character index
    pos = 0
    for i, ch in enumerate(text):
        char_at[pos] = i
        pos += len(ch.encode("utf-8"))
    char_at[pos] = len(text)
    spans = [(min(max(int(s), 0), n), min(max(int(e), 0), n)) for s, e in zip(starts, ends)]
    # An empty span (SentencePiece byte fallback) belongs with the next token that covers text.
    for k in range(len(spans) - 2, -1, -1):
        s, e = spans[k]
        if s == e and spans[k + 1][0] <= s < spans[k + 1][1]:
            spans[k] = spans[k + 1]

    def snap_down(b: int) -> int:
        while b > 0 and b not in char_at:
            b -= 1
        return b

    def snap_up(b: int) -> int:
        while b < n and b not in char_at:
            b += 1
        return b

    cells: list[Cell] = []
    covered = 0  # bytes before this offset are shown already

    def emit(lo: int, hi: int, group: tuple[int, ...]) -> None:
        nonlocal covered
        lo, hi = snap_down(max(lo, covered)), snap_up(max(hi, covered))
        if lo > covered:  # text between tokens that no token covers
            a = snap_up(covered)
            if lo > a:
                cells.append(Cell(char_at[a], char_at[lo], text[char_at[a]:char_at[lo]], ()))
        lo = max(lo, snap_up(covered))
        if hi > lo or group:
            a, b = char_at[lo], char_at[max(hi, lo)]
            cells.append(Cell(a, b, text[a:b], group))
        covered = max(covered, hi)

    group: list[int] = []
    lo = hi = 0
    for tid, (s, e) in zip(ids, spans):
        if group and s >= hi and hi in char_at:
            emit(lo, hi, tuple(group))
            group = []
        if not group:
            lo, hi = s, e
        group.append(int(tid))
        hi = max(hi, e)
    if group:
        emit(lo, hi, tuple(group))
    if covered < n:
        a = snap_up(covered)
        if a < n:
            cells.append(Cell(char_at[a], len(text), text[char_at[a]:], ()))
    return cells


#: How invisible characters are drawn (one column each, so rows of several tokenizers stay aligned).
VISIBLE = {"\n": "⏎", "\t": "→", "\r": "␍", "\x00": "␀",
           # zero-width characters would take no column (and join emoji across a separator)
           "\u200d": "⊕", "\u200b": "∅", "\u200c": "∅", "\ufeff": "∅"}


def visible(text: str) -> str:
    """Text with line breaks, tabs and other control characters made visible."""
    return "".join(VISIBLE.get(ch, "␦" if ord(ch) < 32 or ord(ch) == 127 else ch) for ch in text)
