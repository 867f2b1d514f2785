"""Align two vocabularies: which new ids the base model already has a row for.

A token is shared when it stands for the same bytes in both tokenizers (``Tokenizer.token_bytes``), so
word-start markers compare equal across formats ('Ġthe' == '▁the' == b' the'). Special tokens are matched
by role (bos/eos/pad/unk), then by identical string; everything else is new and needs an estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tokbench.tokenizer.base import Tokenizer

ROLES = ("bos", "eos", "pad", "unk")
# Well-known strings per role, used when a tokenizer carries no config saying which token plays it.
_ROLE_GUESSES = {
    "bos": ("<|begin_of_text|>", "<s>", "<bos>", "<|startoftext|>", "[CLS]", "<|endoftext|>"),
    "eos": ("<|end_of_text|>", "</s>", "<eos>", "<|endoftext|>", "<|im_end|>", "[SEP]"),
    "pad": ("<pad>", "<|pad|>", "[PAD]", "<|finetune_right_pad_id|>", "<|endoftext|>"),
    "unk": ("<unk>", "[UNK]", "<|unk|>"),
}


@dataclass(frozen=True)
class Alignment:
    """How the new vocabulary maps onto the old one.

    copy_new, copy_old: (S,) int64 — new id ``copy_new[i]`` takes the base row of old id ``copy_old[i]``
                        (shared tokens and role-matched specials).
    anchor_new, anchor_old: (A,) int64 — the shared *content* tokens (a subset of the copies): the anchors
                        estimators combine.
    new_ids:            (B,) int64 — content tokens of the new vocabulary with no old row (to estimate).
    special_new:        (P,) int64 — new special/control tokens with no match (filled with the mean row).
    roles:              role -> (new id, old id or None).
    """

    copy_new: np.ndarray
    copy_old: np.ndarray
    anchor_new: np.ndarray
    anchor_old: np.ndarray
    new_ids: np.ndarray
    special_new: np.ndarray
    roles: dict
    new_vocab_size: int

    def counts(self) -> dict[str, int]:
        return {
            "new_vocab_size": self.new_vocab_size,
            "shared": int(len(self.anchor_new)),
            "special_matched": int(len(self.copy_new) - len(self.anchor_new)),
            "new": int(len(self.new_ids)),
            "special_unmatched": int(len(self.special_new)),
        }


def special_roles(tok: Tokenizer, config: dict | None = None) -> dict[str, int]:
    """role -> id for bos/eos/pad/unk, from the tokenizer's config when it has one, else by well-known strings."""
    strings = tok.token_strings()
    lookup = {s: i for i, s in enumerate(strings) if s is not None}
    cfg = dict(getattr(tok, "config", None) or {})
    cfg.update(config or {})
    out: dict[str, int] = {}
    for role in ROLES:
        val = cfg.get(f"{role}_token")
        if isinstance(val, dict):
            val = val.get("content")
        if isinstance(val, str) and val in lookup:
            out[role] = lookup[val]
            continue
        if role == "unk" and tok.unk_id is not None:
            out[role] = int(tok.unk_id)
            continue
        specials = tok.special_tokens
        for guess in _ROLE_GUESSES[role]:
            if guess in specials:
                out[role] = specials[guess]
                break
    return out


def align_vocabularies(old: Tokenizer, new: Tokenizer, old_roles: dict[str, int] | None = None,
                       new_roles: dict[str, int] | None = None, old_rows: int | None = None) -> Alignment:
    """Match ``new``'s ids to ``old``'s rows (see :class:`Alignment`).

    ``old_rows`` bounds usable old ids (a model may have fewer rows than its tokenizer has ids).
    """
    old_rows = old.vocab_size if old_rows is None else old_rows
    old_bytes = old.token_bytes()
    old_specials = set(old.special_tokens.values())
    by_bytes: dict[bytes, int] = {}
    for i, b in enumerate(old_bytes[:old_rows]):
        if b is not None and i not in old_specials and b not in by_bytes:
            by_bytes[b] = i
    old_roles = special_roles(old) if old_roles is None else old_roles
    new_roles = special_roles(new) if new_roles is None else new_roles
    new_specials = new.special_tokens
    new_special_ids = set(new_specials.values())
    old_special_by_str = {s: i for s, i in old.special_tokens.items() if i < old_rows}

    copy_new: list[int] = []
    copy_old: list[int] = []
    roles: dict[str, tuple[int, int | None]] = {}
    matched_special: set[int] = set()
    for role, nid in new_roles.items():
        oid = old_roles.get(role)
        roles[role] = (nid, oid if oid is not None and oid < old_rows else None)
        if oid is not None and oid < old_rows and nid not in matched_special:
            copy_new.append(nid)
            copy_old.append(oid)
            matched_special.add(nid)
    for s, nid in new_specials.items():
        if nid in matched_special:
            continue
        if s in old_special_by_str:
            copy_new.append(nid)
            copy_old.append(old_special_by_str[s])
            matched_special.add(nid)

    new_bytes = new.token_bytes()
    anchors_new: list[int] = []
    anchors_old: list[int] = []
    missing: list[int] = []
    special_new: list[int] = []
    for nid, b in enumerate(new_bytes):
        if nid in matched_special:
            continue
        if nid in new_special_ids or b is None:
            special_new.append(nid)
            continue
        oid = by_bytes.get(b)
        if oid is None:
            missing.append(nid)
        else:
            anchors_new.append(nid)
            anchors_old.append(oid)
    copy_new += anchors_new
    copy_old += anchors_old
    as_i64 = lambda x: np.asarray(x, dtype=np.int64)
    return Alignment(as_i64(copy_new), as_i64(copy_old), as_i64(anchors_new), as_i64(anchors_old),
                     as_i64(missing), as_i64(special_new), roles, new.vocab_size)
