"""Recover ordered BPE merge lists from formats that store only ranks or scores.

* tiktoken/Tekken store ``token bytes -> rank``. A token of rank r was made by the merge that BPE over
  the ranks below r performs last on its bytes, so running BPE with ranks < r on the token's bytes ends
  with exactly two parts: that pair is merge r.
* SentencePiece BPE stores pieces with scores (higher = merged earlier). Each multi-character piece is
  the merge of two pieces that exist in the vocabulary; ordering by the piece's score and then by the
  parts' scores gives the merge order (the same rule ``transformers`` uses to convert such models).
"""

from __future__ import annotations


def merge_word(word: list[int], a: int, b: int, new: int) -> list[int]:
    """Apply one merge to a word of symbol ids: replace each adjacent ``a b`` by ``new``, left to right.

    The plain step every slow reference (SuperBPE stage 2, mixture pair counting) replays merges with.

    >>> merge_word([1, 1, 1, 2, 1, 1], 1, 1, 9), merge_word([1, 2, 1, 2, 3], 1, 2, 9)
    ([9, 1, 2, 9], [9, 9, 3])
    """
    out: list[int] = []
    i = 0
    while i < len(word):
        if i + 1 < len(word) and word[i] == a and word[i + 1] == b:
            out.append(new)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return out


def bpe_parts(token: bytes, ranks: dict[bytes, int], max_rank: int) -> list[bytes]:
    """Byte-pair encode ``token`` using only merges whose result has rank < ``max_rank``.

    >>> ranks = {b"a": 0, b"b": 1, b"c": 2, b"ab": 3, b"abc": 4}
    >>> bpe_parts(b"abc", ranks, 4)
    [b'ab', b'c']
    """
    parts = [token[i : i + 1] for i in range(len(token))]
    while len(parts) > 1:
        best_rank, best_i = None, -1
        for i in range(len(parts) - 1):
            r = ranks.get(parts[i] + parts[i + 1])
            if r is not None and r < max_rank and (best_rank is None or r < best_rank):
                best_rank, best_i = r, i
        if best_rank is None:
            break
        parts[best_i : best_i + 2] = [parts[best_i] + parts[best_i + 1]]
    return parts


def merges_from_ranks(ranks: dict[bytes, int]) -> list[tuple[bytes, bytes]]:
    """The ordered merge list (pairs of byte strings) implied by tiktoken-style ranks.

    Tokens of one byte are the base alphabet, not merges. A token whose recovery does not end in two
    parts is not reachable by BPE (it can only be produced whole) and is skipped.
    """
    merges: list[tuple[bytes, bytes]] = []
    for token, rank in sorted(ranks.items(), key=lambda kv: kv[1]):
        if len(token) < 2:
            continue
        parts = bpe_parts(token, ranks, rank)
        if len(parts) == 2:
            merges.append((parts[0], parts[1]))
    return merges


def merges_from_scores(pieces: list[tuple[str, float]], skip: set[int] | None = None) -> list[tuple[str, str]]:
    """Ordered merges of a SentencePiece BPE model from its (piece, score) list, in id order.

    ``skip`` holds ids that are not mergeable (control, unknown, byte and user-defined pieces).
    """
    skip = skip or set()
    vocab = {p: i for i, (p, _) in enumerate(pieces) if i not in skip}
    found: list[tuple[int, int, int, str, str]] = []
    for piece, pid in vocab.items():
        if len(piece) < 2:
            continue
        for cut in range(1, len(piece)):
            left, right = piece[:cut], piece[cut:]
            if left in vocab and right in vocab:
                found.append((pid, vocab[left], vocab[right], left, right))
    # In a SentencePiece BPE model piece ids follow score order (merge order).
    found.sort(key=lambda x: (x[0], x[1], x[2]))
    # One merge per resulting piece: the first candidate (lowest part ids) is the one BPE reaches.
    seen: set[int] = set()
    merges = []
    for pid, _, _, left, right in found:
        if pid in seen:
            continue
        seen.add(pid)
        merges.append((left, right))
    return merges
