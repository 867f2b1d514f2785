"""The Tokenizer contract, checked on a small tokenizer of every supported format."""

from __future__ import annotations

import numpy as np
import pytest

from tests.tokenizer_builders import BUILDERS
from tokbench.tokenizer import load_tokenizer

CONTRACT_TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Merhaba dünya! Kitaplarımızdan birini okudun mu?",
    "Быстрая коричневая лиса, 日本語のテキスト。",
    "def add(a, b):\n    return a + b  # 123 4567",
    "Emoji 🤖👩‍👩‍👧 and   spaces\tand tabs",
    "",
    "x",
]


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def built(request, tmp_path_factory, ):
    from tests.conftest import TINY_TEXTS

    folder = tmp_path_factory.mktemp(request.param)
    spec = BUILDERS[request.param](list(TINY_TEXTS), folder)
    return request.param, spec


def test_loads_and_describes(built):
    kind, spec = built
    tok = load_tokenizer(spec)
    d = tok.describe()
    assert d["vocab_size"] == tok.vocab_size > 0
    expected_format = {"tiktoken": "tiktoken", "tekken": "tekken", "tokbench-dir": "tokbench"}.get(
        kind, "sentencepiece" if kind.startswith("sentencepiece") else "hf"
    )
    assert tok.format == expected_format
    assert len(tok.token_strings()) == len(tok.token_bytes()) == tok.vocab_size


def test_token_byte_arrays_hold_the_token_bytes(built):
    _, spec = built
    tok = load_tokenizer(spec)
    flat, offsets, none = tok.token_byte_arrays()
    assert flat.dtype == np.uint8 and offsets.dtype == np.int64 and none.dtype == np.bool_
    assert len(offsets) == len(none) + 1 == tok.vocab_size + 1
    data = flat.tobytes()
    rebuilt = [None if none[i] else data[offsets[i] : offsets[i + 1]] for i in range(tok.vocab_size)]
    assert rebuilt == tok.token_bytes()


def test_batch_equals_single_and_offsets_consistent(built):
    _, spec = built
    tok = load_tokenizer(spec)
    enc = tok.encode_batch(CONTRACT_TEXTS)
    assert enc.n_docs == len(CONTRACT_TEXTS)
    assert enc.ids.dtype == np.int64 and enc.doc_offsets[0] == 0 and enc.doc_offsets[-1] == enc.n_tokens
    for d, text in enumerate(CONTRACT_TEXTS):
        assert enc.doc(d).tolist() == tok.encode(text)
        assert enc.doc_bytes[d] == len(text.encode("utf-8"))
        lo, hi = enc.doc_offsets[d], enc.doc_offsets[d + 1]
        s, e = enc.starts[lo:hi], enc.ends[lo:hi]
        assert (s <= e).all() and (s >= 0).all() and (e <= enc.doc_bytes[d]).all()
        assert (np.diff(s) >= 0).all(), "token spans must not go backwards"
    # Spans-free encoding gives the same ids.
    assert np.array_equal(tok.encode_batch(CONTRACT_TEXTS, spans=False).ids, enc.ids)


LOSSY = {"hf-unigram", "hf-wordpiece-dir"}  # UNK for unseen characters; WordPiece also lowercases


def test_round_trip_when_lossless(built):
    kind, spec = built
    tok = load_tokenizer(spec)
    assert tok.lossless == (kind not in LOSSY)
    for text in CONTRACT_TEXTS:
        if tok.lossless:
            assert tok.decode(tok.encode(text)) == text
        elif text.strip():
            # Lossy ones still decode to text; unseen characters become UNK.
            assert isinstance(tok.decode(tok.encode(text)), str)


def test_token_bytes_cover_text_for_byte_level(built):
    """For byte-level BPE the token bytes concatenate to the text, and spans match token lengths."""
    _, spec = built
    tok = load_tokenizer(spec)
    if tok.format not in ("tiktoken", "tekken") and not getattr(tok, "byte_level", False):
        return  # only byte-level tokenizers have exact per-token bytes
    tb = tok.token_bytes()
    for text in CONTRACT_TEXTS:
        ids = tok.encode(text)
        assert b"".join(tb[i] for i in ids) == text.encode("utf-8")
    enc = tok.encode_batch(CONTRACT_TEXTS)
    if tok.format in ("tiktoken", "tekken"):
        lengths = np.array([len(tb[i]) for i in enc.ids.tolist()], dtype=np.int64)
        assert np.array_equal(enc.ends - enc.starts, lengths)


def test_fingerprint_is_stable_and_discriminating(built, tmp_path):
    kind, spec = built
    a, b = load_tokenizer(spec), load_tokenizer(spec)
    assert a.fingerprint() == b.fingerprint() and len(a.fingerprint()) == 64
    # A tokenizer of another format never shares the fingerprint.
    other_kind = "hf-bpe" if kind != "hf-bpe" else "tiktoken"
    from tests.conftest import TINY_TEXTS

    other = load_tokenizer(BUILDERS[other_kind](list(TINY_TEXTS), tmp_path))
    assert other.fingerprint() != a.fingerprint()


def _apply_merges(symbols: list[str], ranks: dict[tuple[str, str], int]) -> list[str]:
    """Plain BPE: repeatedly merge the adjacent pair of lowest rank (the obviously-correct version)."""
    while len(symbols) > 1:
        best = min(range(len(symbols) - 1), key=lambda i: ranks.get((symbols[i], symbols[i + 1]), 1 << 60))
        if (symbols[best], symbols[best + 1]) not in ranks:
            break
        symbols = symbols[:best] + [symbols[best] + symbols[best + 1]] + symbols[best + 2 :]
    return symbols


def test_merges_and_pretokenizer_reproduce_encoding(built):
    """Replaying model_merges() on model_pretokenize() reproduces encode(): the contract infer-mixture needs."""
    _, spec = built
    tok = load_tokenizer(spec)
    merges = tok.model_merges()
    if tok.model_kind != "bpe":
        assert merges is None
        return
    assert merges, "a BPE tokenizer exposes its merges"
    ranks = {m: r for r, m in enumerate(merges)}
    vocab = {s: i for i, s in enumerate(tok.token_strings()) if s is not None}
    for text in CONTRACT_TEXTS[:5]:
        pieces = []
        for pre in tok.model_pretokenize(text):
            pieces += _apply_merges(tok.model_initial_symbols(pre), ranks)
        ids = [vocab[p] for p in pieces]
        assert ids == tok.encode(text), text
