"""What changed between two tokenizers: tokens, merges, pipeline components, special tokens and the
encodings of the probes. Pure comparison over lists and dicts; the CLI renders it.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Sequence

from tokbench.check.pipeline import pipeline_summary
from tokbench.check.probes import ADVERSARIAL, GOLDEN
from tokbench.tokenizer.base import Tokenizer


def longest_increasing_subsequence(values: Sequence[int]) -> list[int]:
    """Indexes of one longest strictly increasing subsequence (patience sorting, O(n log n)).

    >>> longest_increasing_subsequence([3, 1, 2, 5, 4])
    [1, 2, 4]
    """
    tails: list[int] = []  # tails[k] = smallest tail value of an increasing run of length k+1
    tail_idx: list[int] = []
    prev = [-1] * len(values)
    for i, v in enumerate(values):
        k = bisect_left(tails, v)
        if k == len(tails):
            tails.append(v)
            tail_idx.append(i)
        else:
            tails[k] = v
            tail_idx[k] = i
        prev[i] = tail_idx[k - 1] if k else -1
    out = []
    i = tail_idx[-1] if tail_idx else -1
    while i != -1:
        out.append(i)
        i = prev[i]
    return out[::-1]


def diff_merges(old: list[tuple[str, str]], new: list[tuple[str, str]], sample: int = 10) -> dict:
    """Added, removed and reordered merges (by rank).

    Reordered merges are the fewest common merges that must move for the common ones to keep their
    relative order: those outside a longest increasing run of new ranks taken in old order.

    >>> d = diff_merges([("a", "b"), ("b", "c"), ("c", "d")], [("b", "c"), ("a", "b"), ("d", "e")])
    >>> d["added"], d["removed"], d["reordered"]
    (1, 1, 1)
    """
    old_rank = {m: r for r, m in enumerate(old)}
    new_rank = {m: r for r, m in enumerate(new)}
    added = [m for m in new if m not in old_rank]
    removed = [m for m in old if m not in new_rank]
    common = [m for m in old if m in new_rank]
    keep = set(longest_increasing_subsequence([new_rank[m] for m in common]))
    moved = [m for i, m in enumerate(common) if i not in keep]
    return {
        "old": len(old), "new": len(new),
        "added": len(added), "removed": len(removed), "reordered": len(moved),
        "first_difference": next((r for r, (a, b) in enumerate(zip(old, new)) if a != b), None if len(old) == len(new) else min(len(old), len(new))),
        "added_sample": [{"rank": new_rank[m], "merge": f"{m[0]} {m[1]}"} for m in added[:sample]],
        "removed_sample": [{"rank": old_rank[m], "merge": f"{m[0]} {m[1]}"} for m in removed[:sample]],
        "reordered_sample": [{"merge": f"{m[0]} {m[1]}", "old_rank": old_rank[m], "new_rank": new_rank[m]} for m in moved[:sample]],
    }


def diff_vocab(old: Tokenizer, new: Tokenizer, sample: int = 20) -> dict:
    """Tokens (as the formats spell them) added, removed, or kept under another id."""
    a = {s: i for i, s in enumerate(old.token_strings()) if s is not None}
    b = {s: i for i, s in enumerate(new.token_strings()) if s is not None}
    added = sorted((i, s) for s, i in b.items() if s not in a)
    removed = sorted((i, s) for s, i in a.items() if s not in b)
    renumbered = sorted((a[s], b[s], s) for s in a.keys() & b.keys() if a[s] != b[s])
    return {
        "old_size": old.vocab_size, "new_size": new.vocab_size,
        "added": len(added), "removed": len(removed), "renumbered": len(renumbered), "shared": len(a.keys() & b.keys()),
        "added_sample": [{"id": i, "token": s} for i, s in added[:sample]],
        "removed_sample": [{"id": i, "token": s} for i, s in removed[:sample]],
        "renumbered_sample": [{"token": s, "old_id": i, "new_id": j} for i, j, s in renumbered[:sample]],
    }


def diff_special(old: Tokenizer, new: Tokenizer) -> dict:
    a, b = old.special_tokens, new.special_tokens
    return {
        "added": {k: b[k] for k in sorted(b.keys() - a.keys())},
        "removed": {k: a[k] for k in sorted(a.keys() - b.keys())},
        "renumbered": {k: [a[k], b[k]] for k in sorted(a.keys() & b.keys()) if a[k] != b[k]},
    }


def diff_pipeline(old: Tokenizer, new: Tokenizer) -> list[dict]:
    """Components whose canonical summary differs: [{component, old, new}]."""
    a, b = pipeline_summary(old), pipeline_summary(new)
    return [{"component": c, "old": a.get(c, "none"), "new": b.get(c, "none")}
            for c in sorted(a.keys() | b.keys()) if a.get(c) != b.get(c)]


def _pieces(tok: Tokenizer, ids: list[int], strings: list[str | None]) -> list[str]:
    return [strings[i] if 0 <= i < len(strings) and strings[i] is not None else f"<id {i}>" for i in ids]


_VISIBLE = str.maketrans({" ": "␣", "\n": "⏎", "\t": "⇥", "\r": "␍"})


def readable(ids: list[int], token_bytes: list[bytes | None], strings: list[str | None]) -> list[str]:
    """Tokens as the text they stand for, whitespace made visible; bytes that are part of a character as
    <0xNN>, special tokens as their string.

    >>> readable([0, 1, 2], [b" the", b"\\xe4", None], ["Ġthe", "ä", "<s>"])
    ['␣the', '<0xE4>', '<s>']
    """
    out = []
    for i in ids:
        b = token_bytes[i] if 0 <= i < len(token_bytes) else None
        if b is None:
            s = strings[i] if 0 <= i < len(strings) else None
            out.append(s if s is not None else f"<id {i}>")
            continue
        try:
            out.append(b.decode("utf-8").translate(_VISIBLE))
        except UnicodeDecodeError:
            out.append("".join(f"<0x{x:02X}>" for x in b))
    return out


def diff_probes(old: Tokenizer, new: Tokenizer, probes: dict[str, str] | None = None) -> list[dict]:
    """Probes encoded differently: [{probe, text, old/new_ids, old/new_tokens (as the format spells them),
    old/new_pieces (readable)}]."""
    probes = probes if probes is not None else {**GOLDEN, **ADVERSARIAL}
    so, sn = old.token_strings(), new.token_strings()
    bo, bn = old.token_bytes(), new.token_bytes()
    out = []
    for name, text in probes.items():
        a, b = old.encode(text), new.encode(text)
        ta, tb = _pieces(old, a, so), _pieces(new, b, sn)
        if a != b or ta != tb:
            out.append({"probe": name, "text": text, "old_ids": a, "new_ids": b, "old_tokens": ta, "new_tokens": tb,
                        "old_pieces": readable(a, bo, so), "new_pieces": readable(b, bn, sn)})
    return out


def diff_tokenizers(old: Tokenizer, new: Tokenizer, sample: int = 20) -> dict:
    """Everything `tokbench check --diff OLD NEW` reports, as a JSON-able dict."""
    mo, mn = old.model_merges(), new.model_merges()
    return {
        "old": old.describe(), "new": new.describe(),
        "vocab": diff_vocab(old, new, sample),
        "special_tokens": diff_special(old, new),
        "merges": diff_merges(mo, mn, sample) if mo is not None and mn is not None else None,
        "pipeline": diff_pipeline(old, new),
        "probes": diff_probes(old, new),
    }
