"""A tokenizer's structure as short canonical strings: normaliser, pre-tokenizer, model options, decoder,
plus hashes of the vocabulary and the merge list. Baselines record them; `check --diff` compares them.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tokbench.tokenizer.base import Tokenizer

COMPONENTS = ("normalizer", "pre_tokenizer", "model", "decoder")
_LONG = 64  # strings longer than this (e.g. a precompiled charsmap) are shown as a short hash


def _short_hash(data: bytes | str, n: int = 12) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()[:n]


def _squeeze(node: Any) -> Any:
    """Replace long strings in a JSON node by 'sha256:<12 hex>' so summaries stay one readable line."""
    if isinstance(node, dict):
        return {k: _squeeze(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_squeeze(v) for v in node]
    if isinstance(node, str) and len(node) > _LONG:
        return f"sha256:{_short_hash(node)}"
    return node


def canonical(node: Any) -> str:
    """Compact, key-sorted JSON of a node ('none' for a missing component).

    >>> canonical({"type": "NFC"})
    '{"type":"NFC"}'
    """
    if node is None:
        return "none"
    return json.dumps(_squeeze(node), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def pipeline_summary(tok: Tokenizer) -> dict[str, str]:
    """component -> canonical string, for every format tokbench loads."""
    spec = getattr(tok, "spec_json", None)
    if spec is not None:  # Hugging Face tokenizer.json
        model = {k: v for k, v in spec["model"].items() if k not in ("vocab", "merges")}
        return {
            "normalizer": canonical(spec.get("normalizer")),
            "pre_tokenizer": canonical(spec.get("pre_tokenizer")),
            "model": canonical(model),
            "decoder": canonical(spec.get("decoder")),
        }
    proto = getattr(tok, "proto", None)
    if proto is not None:  # SentencePiece
        ns, ts = proto.normalizer_spec, proto.trainer_spec
        return {
            "normalizer": canonical({
                "name": ns.name, "add_dummy_prefix": ns.add_dummy_prefix,
                "remove_extra_whitespaces": ns.remove_extra_whitespaces, "escape_whitespaces": ns.escape_whitespaces,
                "charsmap": f"sha256:{_short_hash(bytes(ns.precompiled_charsmap))}" if ns.precompiled_charsmap else None,
            }),
            "pre_tokenizer": canonical({
                "split_by_unicode_script": ts.split_by_unicode_script, "split_by_number": ts.split_by_number,
                "split_by_whitespace": ts.split_by_whitespace, "split_digits": ts.split_digits,
                "treat_whitespace_as_suffix": ts.treat_whitespace_as_suffix,
            }),
            "model": canonical({"type": tok.model_kind, "byte_fallback": ts.byte_fallback, "unk_id": tok.unk_id}),
            "decoder": canonical({"type": "sentencepiece"}),
        }
    pattern = getattr(tok, "pattern", None)
    if pattern is not None:  # tiktoken / Tekken
        return {
            "normalizer": "none",
            # The regex is the whole pre-tokenizer: kept in full (not hashed) so a diff shows it.
            "pre_tokenizer": json.dumps({"type": "regex", "pattern": pattern}, ensure_ascii=False, separators=(",", ":")),
            "model": canonical({"type": "bpe_ranks", "id_offset": getattr(tok, "id_offset", 0)}),
            "decoder": canonical({"type": "bytes"}),
        }
    return {c: "unknown" for c in COMPONENTS}


def vocab_hash(tok: Tokenizer) -> str:
    """sha256 over the token strings in id order (holes as empty lines)."""
    h = hashlib.sha256()
    for s in tok.token_strings():
        h.update((s if s is not None else "").encode("utf-8", "surrogatepass"))
        h.update(b"\n")
    return h.hexdigest()


def stored_merges(tok: Tokenizer) -> list[tuple[str, str]] | None:
    """The merge list when the file stores one (Hugging Face BPE); None otherwise.

    tiktoken/Tekken ranks and SentencePiece scores imply their merges, and the vocabulary hash already
    covers them; recovering merges from ranks takes seconds on a large vocabulary, too slow for a check.
    """
    if getattr(tok, "spec_json", None) is None or tok.model_kind != "bpe":
        return None
    return tok.model_merges()


def merges_hash(merges: list[tuple[str, str]]) -> str:
    h = hashlib.sha256()
    for a, b in merges:
        h.update(f"{a} {b}\n".encode("utf-8", "surrogatepass"))
    return h.hexdigest()
