"""``sp-bpe`` and ``sp-unigram``: SentencePiece trained in memory, kept as ``tokenizer.model`` and
converted to an equivalent ``tokenizer.json`` so the same evaluation code reads every kind.

Training settings keep the text intact so the conversion is exact and lossless: identity normalisation,
whitespace kept as is (``remove_extra_whitespaces=false``), a dummy prefix '▁', byte fallback for
characters outside the coverage. The conversion (the layout Llama's tokenizer.json uses):
normaliser Prepend('▁') + Replace(' ', '▁'); BPE with merges rebuilt from piece scores (see
:func:`bpe_merges`) or Unigram with the piece scores; byte fallback;
decoder Replace('▁', ' ') + ByteFallback + Fuse + Strip(1 leading space).
"""

from __future__ import annotations

import io
from typing import Iterable, Sequence

from tokbench.errors import ConfigError

NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6
CORE = ("<unk>", "<s>", "</s>")


def train_sentencepiece_model(texts: Iterable[str], vocab_size: int, model_type: str, *, special_tokens: Sequence[str],
                              character_coverage: float = 0.9995, max_sentences: int = 2_000_000, seed: int = 0,
                              advance=None, seen: dict | None = None) -> bytes:
    """Train and return the serialized SentencePiece model.

    SentencePiece holds its sentences in memory, so it gets at most ``max_sentences`` of them: when the
    stream has more, its ``input_sentence_size`` reservoir keeps a uniform sample (seeded with ``seed``).
    ``seen`` (a dict) receives how many sentences and bytes the stream offered.
    """
    import sentencepiece as spm

    extra = [s for s in special_tokens if s not in CORE]
    out = io.BytesIO()
    offered = {"sentences": 0, "bytes": 0}

    def sentences():
        for t in texts:
            if t.strip():
                offered["sentences"] += 1
                offered["bytes"] += len(t.encode("utf-8"))
                yield t
            if advance is not None:
                advance(1)

    spm.set_random_generator_seed(seed)

    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=sentences(), model_writer=out, vocab_size=vocab_size, model_type=model_type,
            character_coverage=character_coverage, byte_fallback=True, normalization_rule_name="identity",
            remove_extra_whitespaces=False, add_dummy_prefix=True, split_digits=False,
            unk_id=0, bos_id=1, eos_id=2, pad_id=-1, control_symbols=extra or [],
            max_sentence_length=1 << 16, input_sentence_size=max_sentences, shuffle_input_sentence=True,
            num_threads=2, minloglevel=2, hard_vocab_limit=False,
        )
    except RuntimeError as exc:
        msg = str(exc).splitlines()[0]
        if "too high" in msg:
            raise ConfigError(f"--vocab-size {vocab_size} is larger than SentencePiece {model_type} can fill from this corpus ({msg}); "
                              f"lower --vocab-size or give more text") from None
        if "smaller than" in msg or "vocab_size" in msg.lower() or "Vocabulary size" in msg:
            raise ConfigError(f"--vocab-size {vocab_size} is too small for SentencePiece {model_type} ({msg}); "
                              f"it needs room for 3 control tokens, 256 byte pieces and the alphabet: raise --vocab-size") from None
        raise ConfigError(f"SentencePiece training failed ({msg})") from None
    if seen is not None:
        seen.update(offered)
    return out.getvalue()


def _pieces(model_bytes: bytes):
    from sentencepiece import sentencepiece_model_pb2 as pb

    m = pb.ModelProto()
    m.ParseFromString(model_bytes)
    return [(p.piece, p.score, p.type) for p in m.pieces]


def bpe_merges(pieces: Sequence[tuple[str, float, int]]) -> list[tuple[str, str]]:
    """Every split of every normal piece into two normal pieces, ordered by the piece's id (= score order),
    then by the parts' ids.

    SentencePiece BPE encodes by repeatedly joining the adjacent pair whose join is the best-scored piece,
    whatever the split; one merge per piece would miss joins such as 'an' + 'd' when only 'a' + 'nd' is
    listed, so all splits are kept (as the transformers converter does).

    >>> bpe_merges([("a", 0, 1), ("n", 0, 1), ("d", 0, 1), ("an", -1, 1), ("nd", -2, 1), ("and", -3, 1)])
    [('a', 'n'), ('n', 'd'), ('a', 'nd'), ('an', 'd')]
    """
    vocab = {p: i for i, (p, _, t) in enumerate(pieces) if t == NORMAL}
    found = []
    for piece, pid in vocab.items():
        for cut in range(1, len(piece)):
            left, right = piece[:cut], piece[cut:]
            if left in vocab and right in vocab:
                found.append((pid, vocab[left], vocab[right], left, right))
    found.sort()
    return [(left, right) for _, _, _, left, right in found]


def to_hf_tokenizer(model_bytes: bytes, model_type: str):
    """An equivalent ``tokenizers.Tokenizer`` of a SentencePiece model trained as above."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers

    pieces = _pieces(model_bytes)
    if model_type == "unigram":
        model = models.Unigram([(p, s) for p, s, _ in pieces], unk_id=0, byte_fallback=True)
    else:
        merges = bpe_merges(pieces)
        vocab = {p: i for i, (p, _, _) in enumerate(pieces)}
        model = models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", byte_fallback=True, fuse_unk=True)
    tok = Tokenizer(model)
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(Regex(" "), "▁")])
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    tok.add_special_tokens([p for p, _, t in pieces if t in (CONTROL, UNKNOWN)])
    return tok


def train_sentencepiece(texts: Iterable[str], vocab_size: int, model_type: str, *, special_tokens: Sequence[str],
                        character_coverage: float = 0.9995, max_sentences: int = 2_000_000, seed: int = 0,
                        advance=None):
    """Returns (tokenizers.Tokenizer, info, the SentencePiece model bytes); info says how many sentences
    the stream offered and how many SentencePiece trained on."""
    seen: dict = {}
    model_bytes = train_sentencepiece_model(texts, vocab_size, model_type, special_tokens=special_tokens,
                                            character_coverage=character_coverage, max_sentences=max_sentences,
                                            seed=seed, advance=advance, seen=seen)
    tok = to_hf_tokenizer(model_bytes, model_type)
    n_byte = sum(1 for _, _, t in _pieces(model_bytes) if t == BYTE)
    used = min(seen["sentences"], max_sentences)
    return tok, {"byte_pieces": n_byte, "sentences_offered": seen["sentences"], "bytes_offered": seen["bytes"],
                 "sentences_used": used, "sampled": seen["sentences"] > max_sentences}, model_bytes
