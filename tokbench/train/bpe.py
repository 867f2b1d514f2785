"""Byte-level BPE (``bpe``, SuperBPE's stage 1, and ``char-bpe``) with the stock `tokenizers` trainer.

The vocabulary is: the special tokens, the 256 byte symbols (GPT-2's byte-to-unicode alphabet, all of
them even when unseen, so every text encodes), then one token per merge in merge order.

``char-bpe`` caps token length. The stock trainer's ``max_token_length=N`` admits a merge only when the
two parts together are shorter than N symbols, so it yields tokens of at most N-1 symbols (checked on
tokenizers 0.23). tokbench passes N+1 so that ``max_chars=N`` means at most N. Symbols are bytes: a token
never has more than N characters, and a character outside ASCII uses several of the N.
"""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

from tokbench.errors import ConfigError
from tokbench.train.pretokenizers import stage1_pretokenizer

N_BYTES = 256


def feed(texts: Iterable[str], advance: Callable[[int], None] | None, every: int = 1024) -> Iterable[str]:
    """Yield ``texts`` and report them to ``advance`` (the progress callback), ``every`` texts at a time
    (a call per text cost as much as reading it at a million segments)."""
    if advance is None:
        yield from texts
        return
    k = 0
    for t in texts:
        yield t
        k += 1
        if k == every:
            advance(k)
            k = 0
    if k:
        advance(k)


def n_items(texts) -> int | None:
    """How many texts, when known without reading them (a list, or a stream after its first pass)."""
    if hasattr(texts, "__len__"):
        return len(texts)
    return getattr(texts, "n_segments", None)


def check_vocab_size(vocab_size: int, n_special: int, alphabet: int, what: str) -> None:
    """The vocabulary must hold the special tokens and the alphabet."""
    need = n_special + alphabet
    if vocab_size < need:
        raise ConfigError(
            f"--vocab-size {vocab_size} is smaller than the alphabet: {what} needs at least {need} "
            f"({n_special} special + {alphabet} base tokens); raise --vocab-size"
        )


def train_bytelevel_bpe(texts: Sequence[str], vocab_size: int, *, pretokenizer: str = "gpt2",
                        special_tokens: Sequence[str] = (), min_frequency: int = 2,
                        max_chars: int | None = None, advance: Callable[[int], None] | None = None):
    """Train a byte-level BPE ``tokenizers.Tokenizer`` on ``texts``.

    ``vocab_size`` counts special tokens, the 256 bytes and the merges. ``advance(1)`` is called per text.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    check_vocab_size(vocab_size, len(special_tokens), N_BYTES, "byte-level BPE")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = stage1_pretokenizer(pretokenizer)
    tok.decoder = decoders.ByteLevel()
    kwargs = {}
    if max_chars is not None:
        kwargs["max_token_length"] = max_chars + 1  # the stock trainer's limit is exclusive (see module doc)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(special_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
        **kwargs,
    )
    tok.train_from_iterator(feed(texts, advance), trainer=trainer, length=n_items(texts))
    return tok
