"""SuperBPE stage 2: the Numba kernel against the slow reference, plus hand-checkable goldens."""

from __future__ import annotations

import random

import numpy as np
import pytest

from tokbench.train.caps import allowed, count_words, has_colon_space, space_table
from tokbench.train.stage2_kernel import continue_bpe, flatten_words, token_meta
from tokbench.train.stage2_reference import continue_bpe_reference, count_pairs, merge_word


def run_kernel(words, vocab, forced, target, **kw):
    sym, wcnt = flatten_words(words)
    merges, new = continue_bpe(sym, wcnt, vocab, np.array(forced, dtype=np.int64).reshape(-1, 3), target, **kw)
    return [tuple(m) for m in merges.tolist()], new


def test_merge_word_and_count_pairs_golden():
    assert merge_word([1, 1, 1, 1], 1, 1, 9) == [9, 9]
    assert merge_word([1, 2, 1, 2, 1], 1, 2, 7) == [7, 7, 1]
    assert dict(count_pairs([([1, 1, 1], 2), ([1, 2], 5)])) == {(1, 1): 4, (1, 2): 5}


def test_golden_by_hand():
    # words: "abab" x3, "abc" x1. Pair counts: ab=3*2+1=7, ba=3, bc=1 -> merge (a,b)=3 first.
    # Then: "ab ab" x3 -> (3,3)=3, "ab c" -> (3,2)=1 -> merge (3,3)=4. Then only (3,2)=1 -> 5.
    vocab = [b"a", b"b", b"c"]
    words = [([0, 1, 0, 1], 3), ([0, 1, 2], 1)]
    expected = [(0, 1, 3), (3, 3, 4), (3, 2, 5)]
    assert continue_bpe_reference(words, vocab, [], 6)[0] == expected
    merges, new = run_kernel(words, vocab, [], 6)
    assert merges == expected
    assert new == [b"ab", b"abab", b"abc"]


def test_ties_break_on_smallest_left_then_right_id():
    # "xy" and "yz" both count 2: (x=0,y=1) wins over (y=1,z=2); then "yz" is gone from "xyz".
    vocab = [b"x", b"y", b"z"]
    words = [([0, 1, 2], 2)]
    assert run_kernel(words, vocab, [], 4)[0] == [(0, 1, 3)]


def test_forced_merges_are_replayed_first_even_when_not_the_most_frequent():
    vocab = [b"a", b"b", b"c", b"bc"]
    words = [([0, 1, 0, 1, 0, 1], 5), ([1, 2], 1)]
    merges, _ = run_kernel(words, vocab, [(1, 2, 3)], 5)
    assert merges == continue_bpe_reference(words, vocab, [(1, 2, 3)], 5)[0]
    assert merges == [(0, 1, 4)]


def test_existing_token_is_not_made_twice():
    # "ab" exists already (id 2) but no forced merge makes it: pair (a, b) may not create it again.
    vocab = [b"a", b"b", b"ab"]
    words = [([0, 1], 10), ([1, 1], 1)]
    merges, _ = run_kernel(words, vocab, [], 4)
    assert merges == [(1, 1, 3)]


def test_caps_words_and_colon_space():
    assert count_words(b" of the") == 2 and count_words(b"a b c d e") == 5 and count_words(b" \n") == 0
    assert has_colon_space(b"Note: x") and not has_colon_space(b"http://x")
    assert allowed(b" a b c d") and not allowed(b" a b c d e") and not allowed(b"x: y")


def test_caps_block_long_and_colon_tokens_in_the_kernel():
    text = b"a b c d e f: g"
    vocab = [bytes([c]) for c in sorted(set(text))]
    ids = [vocab.index(bytes([c])) for c in text]
    for caps in (True, False):
        merges, new = run_kernel([(ids, 10)], vocab, [], 64, caps=caps)
        ref = continue_bpe_reference([(ids, 10)], vocab, [], 64, caps=caps)
        assert merges == ref[0]
        if caps:
            assert all(count_words(t) <= 4 and b": " not in t for t in new)
        else:
            assert text in new  # without caps the whole line becomes one token


def test_token_meta_matches_python_definitions():
    rng = random.Random(1)
    toks = [bytes(rng.choice(b"ab :\n\t") for _ in range(rng.randint(1, 12))) for _ in range(200)]
    pool = np.frombuffer(b"".join(toks), dtype=np.uint8).copy()
    lengths = np.array([len(t) for t in toks], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    T = token_meta(pool, offsets, lengths, space_table())
    assert T[:, 3].tolist() == [count_words(t) for t in toks]
    assert T[:, 4].tolist() == [int(has_colon_space(t)) for t in toks]


def _random_case(rng: random.Random):
    alphabet = [bytes([c]) for c in rng.sample(b"ab :xy\nz", rng.randint(2, 8))]
    vocab = list(alphabet)
    words = [([rng.randrange(len(alphabet)) for _ in range(rng.randint(1, 20))], rng.randint(1, 6))
             for _ in range(rng.randint(1, 15))]
    forced = []
    for _ in range(rng.randint(0, 4)):
        a, b = rng.randrange(len(vocab)), rng.randrange(len(vocab))
        if vocab[a] + vocab[b] not in vocab:
            vocab.append(vocab[a] + vocab[b])
            forced.append((a, b, len(vocab) - 1))
    if rng.random() < 0.3:
        vocab.insert(0, None)  # a special token: no bytes, never merged
        forced = [(a + 1, b + 1, n + 1) for a, b, n in forced]
        words = [([s + 1 for s in w], n) for w, n in words]
    kw = {"min_frequency": rng.randint(0, 3), "caps": rng.random() < 0.5, "max_words": rng.randint(1, 3)}
    return words, vocab, forced, len(vocab) + rng.randint(1, 40), kw


@pytest.mark.parametrize("seed", range(25))
def test_kernel_equals_reference_on_random_corpora(seed):
    rng = random.Random(seed)
    for _ in range(12):
        words, vocab, forced, target, kw = _random_case(rng)
        ref_merges, ref_bytes = continue_bpe_reference(words, vocab, forced, target, **kw)
        merges, new = run_kernel(words, vocab, forced, target, **kw)
        assert merges == ref_merges
        assert new == ref_bytes


def test_kernel_equals_reference_on_a_larger_text():
    rng = random.Random(7)
    lex = ["the", "cat", "sat", "on", "mat", "a", "dog", "note:", "of", "and", "in"]
    lines = [" ".join(rng.choice(lex) for _ in range(rng.randint(3, 9))) for _ in range(150)]
    vocab = [bytes([b]) for b in range(256)]
    from collections import Counter

    counts = Counter(lines)
    words = [(list(line.encode()), n) for line, n in counts.items()]
    ref = continue_bpe_reference(words, vocab, [], 256 + 120, min_frequency=2)
    got = run_kernel(words, vocab, [], 256 + 120, min_frequency=2)
    assert got[0] == ref[0] and got[1] == ref[1]
    assert len(ref[0]) == 120


def test_progress_reports_every_merge():
    seen = []
    words = [([0, 1, 0, 1, 2], 3)]
    merges, _ = run_kernel(words, [b"a", b"b", b"c", b"ab"], [(0, 1, 3)], 6, advance=seen.append)
    assert sum(seen) == 1 + len(merges)
