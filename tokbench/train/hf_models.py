"""``unigram`` and ``wordpiece`` with the stock `tokenizers` trainers.

* unigram: Metaspace pre-tokenization ('▁' marks a word start, as SentencePiece), UNK for characters the
  trainer drops. Not lossless (no byte fallback).
* wordpiece: BERT pre-tokenization (whitespace and punctuation), '##' continuation prefix, cased, the
  alphabet limited to the 1,000 most frequent characters as BERT's recipe does; [CLS] x [SEP] template.
"""

from __future__ import annotations

from typing import Sequence

from tokbench.train.bpe import check_vocab_size, feed, n_items

WORDPIECE_ALPHABET = 1000


def _distinct_chars(texts: Sequence[str]) -> int:
    c: set[str] = set()
    for t in texts:
        c.update(t)
    return len(c)


def train_unigram(texts: Sequence[str], vocab_size: int, *, special_tokens: Sequence[str], advance=None):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    specials = list(special_tokens)
    unk = next((s for s in specials if "unk" in s.lower()), None)
    if unk is None:
        unk = "<unk>"
        specials.insert(0, unk)
    # The trainer keeps every character it sees (plus the word-start marker).
    check_vocab_size(vocab_size, len(specials), _distinct_chars(texts) + 1, "unigram on this corpus")
    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=specials, unk_token=unk, show_progress=False)
    tok.train_from_iterator(feed(texts, advance), trainer=trainer, length=n_items(texts))
    return tok, {}


def train_wordpiece(texts: Sequence[str], vocab_size: int, *, special_tokens: Sequence[str], min_frequency: int = 2,
                    advance=None):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    specials = list(special_tokens)
    unk = next((s for s in specials if "unk" in s.lower()), None)
    if unk is None:
        unk = "[UNK]"
        specials.insert(0, unk)
    alphabet = min(_distinct_chars(texts), WORDPIECE_ALPHABET)
    check_vocab_size(vocab_size, len(specials), alphabet, "wordpiece on this corpus")
    tok = Tokenizer(models.WordPiece(unk_token=unk, continuing_subword_prefix="##"))
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##")
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=specials,
                                        limit_alphabet=WORDPIECE_ALPHABET, continuing_subword_prefix="##",
                                        show_progress=False)
    tok.train_from_iterator(feed(texts, advance), trainer=trainer, length=n_items(texts))
    if "[CLS]" in specials and "[SEP]" in specials:
        cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)]
        )
    return tok, {}
