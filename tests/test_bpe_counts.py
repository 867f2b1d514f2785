"""BPE from counted pre-tokens equals stock `tokenizers` BPE trained on the text, merge for merge."""

from __future__ import annotations

import json
import random

import pytest

from tokbench.corpora import load_source
from tokbench.train.bpe import train_bytelevel_bpe
from tokbench.train.bpe_counts import count_pretokens, merge_counts, train_bpe_from_counts

ALPHABETS = ["ab ", "abc d", "aab  ", "xyz é日", "ab\n1 2", "aaaa b"]


def _model(tok) -> dict:
    return json.loads(tok.to_str())["model"]


def _random_corpus(seed: int) -> tuple[list[str], int, int]:
    r = random.Random(seed)
    alpha = r.choice(ALPHABETS)  # few symbols: many ties and repeated pairs
    texts = ["".join(r.choice(alpha) for _ in range(r.randint(1, 60))) for _ in range(r.randint(5, 150))]
    return texts, r.choice([260, 270, 300, 400]), r.choice([0, 1, 2, 3])


@pytest.mark.parametrize("seed", range(60))
def test_from_counts_equals_stock_on_random_corpora(seed):
    texts, vocab, min_freq = _random_corpus(seed)
    stock = _model(train_bytelevel_bpe(texts, vocab, special_tokens=["<|endoftext|>"], min_frequency=min_freq))
    ours = _model(train_bpe_from_counts(count_pretokens(texts), vocab, special_tokens=["<|endoftext|>"],
                                        min_frequency=min_freq))
    assert ours["merges"] == stock["merges"] and ours["vocab"] == stock["vocab"]


@pytest.mark.parametrize("spec", ["libreoffice:de@test", "code:python@test", "libreoffice:ja@test"])
def test_from_counts_equals_stock_on_real_text(spec):
    texts = load_source(spec, max_bytes=150_000).texts
    stock = _model(train_bytelevel_bpe(texts, 2000, special_tokens=["<|endoftext|>"]))
    ours = _model(train_bpe_from_counts(count_pretokens(texts), 2000, special_tokens=["<|endoftext|>"]))
    assert ours["merges"] == stock["merges"] and ours["vocab"] == stock["vocab"]


def test_counts_from_several_workers_sum_to_the_same_tokenizer():
    texts = load_source("libreoffice:fr@test", max_bytes=80_000).texts
    whole = count_pretokens(texts)
    parts = [count_pretokens(texts[i::3]) for i in range(3)]
    assert merge_counts(parts) == whole
    shuffled = dict(sorted(whole.items()))  # the order counts arrive in does not matter
    assert _model(train_bpe_from_counts(shuffled, 800)) == _model(train_bpe_from_counts(whole, 800))
