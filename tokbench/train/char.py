"""``char``: one token per character seen in training, with byte fallback (lossless) or UNK.

Stored as a `tokenizers` BPE model with no merges: each character in the vocabulary is its own token;
with byte fallback any other character becomes its UTF-8 bytes (``<0xE4>``...), like Llama's fallback.
Characters are kept by frequency (ties by code point) while they fit in the vocabulary and occur at least
``min_frequency`` times.
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from tokbench.train.bpe import check_vocab_size


def byte_pieces() -> list[str]:
    """['<0x00>', ..., '<0xFF>'] (the byte-fallback spelling `tokenizers` and SentencePiece use)."""
    return [f"<0x{b:02X}>" for b in range(256)]


def train_char(texts: Sequence[str], vocab_size: int, *, special_tokens: Sequence[str], fallback: str = "byte",
               min_frequency: int = 1, advance=None):
    """A character ``tokenizers.Tokenizer``; returns (tokenizer, info)."""
    from tokenizers import Tokenizer, decoders, models

    specials = list(special_tokens)
    if fallback == "unk" and "<unk>" not in specials:
        specials.insert(0, "<unk>")
    base = byte_pieces() if fallback == "byte" else []
    check_vocab_size(vocab_size, len(specials), len(base) + 1, f"a char vocabulary with {fallback} fallback")
    counts: Counter = Counter()
    for t in texts:
        counts.update(t)
        if advance is not None:
            advance(1)
    room = vocab_size - len(specials) - len(base)
    taken = {*specials, *base}
    ranked = sorted(((c, n) for c, n in counts.items() if n >= max(1, min_frequency) and c not in taken),
                    key=lambda kv: (-kv[1], kv[0]))
    chars = [c for c, _ in ranked[:room]]
    vocab = {s: i for i, s in enumerate([*specials, *base, *chars])}
    if fallback == "byte":
        model = models.BPE(vocab=vocab, merges=[], byte_fallback=True)
        decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Fuse()])
    else:
        model = models.BPE(vocab=vocab, merges=[], unk_token="<unk>", fuse_unk=False)
        decoder = decoders.Fuse()
    tok = Tokenizer(model)
    tok.decoder = decoder
    tok.add_special_tokens(specials)
    seen = sum(counts.values())
    covered = sum(counts[c] for c in chars)
    return tok, {"characters_seen": len(counts), "characters_kept": len(chars),
                 "character_coverage": round(covered / seen, 6) if seen else None}
