"""Every Numba kernel equals its slow reference on random inputs, and on small hand-checked cases."""

from __future__ import annotations

import numpy as np
import pytest

from tokbench.metrics import kernels, reference
from tokbench.tokenizer import spans, spans_reference

SEEDS = range(25)


def random_docs(rng, n_docs, max_len):
    lengths = rng.integers(0, max_len, size=n_docs)
    offsets = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return offsets


def random_spans(rng, offsets, doc_size):
    """Monotone token spans (non-decreasing starts), some empty, some overlapping the next."""
    n = int(offsets[-1])
    starts = np.zeros(n, dtype=np.int64)
    ends = np.zeros(n, dtype=np.int64)
    for d in range(len(offsets) - 1):
        pos = 0
        for k in range(offsets[d], offsets[d + 1]):
            s = min(pos + int(rng.integers(0, 2)), doc_size[d])
            e = min(s + int(rng.integers(0, 5)), doc_size[d])
            starts[k], ends[k] = s, e
            pos = s if rng.random() < 0.2 else e
    return starts, ends


@pytest.mark.parametrize("seed", SEEDS)
def test_count_ids_matches_reference(seed):
    rng = np.random.default_rng(seed)
    v = int(rng.integers(1, 50))
    ids = rng.integers(-2, v + 3, size=int(rng.integers(0, 300)))
    assert np.array_equal(kernels.count_ids(ids, v), reference.count_ids(ids, v))


@pytest.mark.parametrize("seed", SEEDS)
def test_count_masked_per_doc_matches_reference(seed):
    rng = np.random.default_rng(seed)
    v = int(rng.integers(1, 40))
    offsets = random_docs(rng, int(rng.integers(0, 12)), 30)
    ids = rng.integers(0, v + 2, size=int(offsets[-1]))
    mask = rng.random(v) < 0.3
    assert np.array_equal(kernels.count_masked_per_doc(ids, offsets, mask), reference.count_masked_per_doc(ids, offsets, mask))


@pytest.mark.parametrize("seed", SEEDS)
def test_find_words_matches_reference(seed):
    rng = np.random.default_rng(seed)
    offsets = random_docs(rng, int(rng.integers(0, 10)), 40)
    n = int(offsets[-1])
    is_word = rng.random(n) < 0.6
    widths = rng.integers(1, 5, size=n)
    got = kernels.find_words(is_word, widths, offsets)
    want = reference.find_words(is_word, widths, offsets)
    for g, w in zip(got, want):
        assert np.array_equal(g, w)


@pytest.mark.parametrize("seed", SEEDS)
def test_tokens_per_word_matches_reference(seed):
    rng = np.random.default_rng(seed)
    n_docs = int(rng.integers(1, 8))
    doc_size = rng.integers(0, 40, size=n_docs)
    tok_offsets = random_docs(rng, n_docs, 25)
    starts, ends = random_spans(rng, tok_offsets, doc_size)
    # Words: non-overlapping sorted spans inside each document.
    w_starts, w_ends, w_off = [], [], [0]
    for d in range(n_docs):
        pos = 0
        while pos < doc_size[d]:
            s = pos + int(rng.integers(0, 3))
            e = min(s + int(rng.integers(1, 6)), int(doc_size[d]))
            if s >= e:
                break
            w_starts.append(s)
            w_ends.append(e)
            pos = e + int(rng.integers(0, 2))
        w_off.append(len(w_starts))
    ws, we, wo = (np.array(x, dtype=np.int64) for x in (w_starts, w_ends, w_off))
    got = kernels.tokens_per_word(starts, ends, tok_offsets, ws, we, wo)
    assert np.array_equal(got, reference.tokens_per_word(starts, ends, tok_offsets, ws, we, wo))


@pytest.mark.parametrize("seed", SEEDS)
def test_flagged_chars_matches_reference(seed):
    rng = np.random.default_rng(seed)
    n_docs = int(rng.integers(1, 8))
    doc_size = rng.integers(0, 30, size=n_docs)
    byte_off = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(doc_size, out=byte_off[1:])
    lead = rng.random(int(byte_off[-1])) < 0.6
    lead[byte_off[:-1][doc_size > 0]] = True  # every document starts with a character
    tok_offsets = random_docs(rng, n_docs, 20)
    starts, ends = random_spans(rng, tok_offsets, doc_size)
    flag = rng.random(len(starts)) < 0.3
    got = kernels.flagged_chars(starts, ends, tok_offsets, flag, lead, byte_off)
    assert tuple(got) == reference.flagged_chars(starts, ends, tok_offsets, flag, lead, byte_off)


@pytest.mark.parametrize("seed", SEEDS)
def test_classify_tokens_matches_reference(seed):
    rng = np.random.default_rng(seed)
    offsets = random_docs(rng, int(rng.integers(0, 30)), 5)
    cp_class = rng.integers(0, 6, size=int(offsets[-1]))
    got = kernels.classify_tokens(cp_class, offsets, 2, 99, 98)
    assert np.array_equal(got, reference.classify_tokens(cp_class, offsets, 2, 99, 98))


def test_tokens_per_word_by_hand():
    # text "ab cd": tokens 'a' [0,1), 'b c' [1,4) bridging both words, 'd' [4,5), empty marker at 3.
    starts = np.array([0, 1, 3, 4])
    ends = np.array([1, 4, 3, 5])
    got = kernels.tokens_per_word(starts, ends, np.array([0, 4]), np.array([0, 3]), np.array([2, 5]), np.array([0, 2]))
    assert got.tolist() == [2, 3]


def test_flagged_chars_by_hand():
    # "aé" = 61 C3 A9; a byte token covers only the second byte of 'é' -> 1 of 2 characters flagged.
    lead = np.array([True, True, False])
    got = kernels.flagged_chars(np.array([0, 1, 2]), np.array([1, 2, 3]), np.array([0, 3]),
                                np.array([False, False, True]), lead, np.array([0, 3]))
    assert tuple(got) == (1, 2)


@pytest.mark.parametrize("seed", SEEDS)
def test_spans_from_token_bytes_matches_reference(seed):
    rng = np.random.default_rng(seed)
    v = int(rng.integers(1, 12))
    pieces = [bytes(rng.integers(97, 100, size=int(rng.integers(0, 4))).tolist()) for _ in range(v)]
    tb_none = rng.random(v) < 0.1
    tb_offsets = np.zeros(v + 1, dtype=np.int64)
    np.cumsum([len(p) for p in pieces], out=tb_offsets[1:])
    tb_flat = np.frombuffer(b"".join(pieces) or b"\0", dtype=np.uint8)[: tb_offsets[-1]]
    offsets = random_docs(rng, int(rng.integers(0, 8)), 10)
    ids = rng.integers(0, v + 1, size=int(offsets[-1]))  # v itself is out of range on purpose
    docs = []
    for d in range(len(offsets) - 1):
        text = b"".join(pieces[t] for t in ids[offsets[d] : offsets[d + 1]] if t < v)
        if rng.random() < 0.3:
            text = text[:-1] + b"z" if text else b"q"  # a document the tokens do not reassemble
        docs.append(text)
    doc_bytes = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum([len(t) for t in docs], out=doc_bytes[1:])
    text = np.frombuffer(b"".join(docs) or b"\0", dtype=np.uint8)[: doc_bytes[-1]]
    got = spans.spans_from_token_bytes(ids, offsets, tb_flat, tb_offsets, tb_none, text, doc_bytes)
    want = spans_reference.spans_from_token_bytes(ids, offsets, tb_flat, tb_offsets, tb_none, text, doc_bytes)
    for g, w in zip(got, want):
        assert np.array_equal(g, w)
