"""Build small tokenizers of every supported format from a few sentences (offline, in milliseconds).

Used by the contract tests; each builder writes files into a folder and returns the spec to load.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path


def train_bytelevel_bpe(texts: list[str], vocab_size: int = 400):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts * 3, trainer)
    return tok


def build_hf_bpe(texts: list[str], folder: Path) -> str:
    tok = train_bytelevel_bpe(texts)
    path = folder / "tokenizer.json"
    tok.save(str(path))
    return str(path)


def build_hf_unigram(texts: list[str], folder: Path) -> str:
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=200, special_tokens=["<unk>"], unk_token="<unk>", show_progress=False)
    tok.train_from_iterator(texts * 3, trainer)
    path = folder / "unigram.json"
    tok.save(str(path))
    return str(path)


def build_hf_wordpiece(texts: list[str], folder: Path) -> str:
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=300, special_tokens=["[UNK]", "[CLS]", "[SEP]"], show_progress=False)
    tok.train_from_iterator(texts * 3, trainer)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tokenizer.json"
    tok.save(str(path))
    return str(folder)


def build_sentencepiece(texts: list[str], folder: Path, model_type: str = "bpe") -> str:
    import sentencepiece as spm

    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(texts * 20), encoding="utf-8")
    prefix = folder / f"sp_{model_type}"
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(prefix), vocab_size=420,
        model_type=model_type, byte_fallback=True, character_coverage=1.0, normalization_rule_name="identity",
        remove_extra_whitespaces=False, minloglevel=2, hard_vocab_limit=False,
    )
    return str(prefix) + ".model"


def _ranks_from_bpe(texts: list[str]) -> dict[bytes, int]:
    """tiktoken-style ranks: the 256 bytes, then each merge result in merge order."""
    from tokbench.tokenizer.bytelevel import symbols_to_bytes

    tok = train_bytelevel_bpe(texts)
    data = json.loads(tok.to_str())
    ranks = {bytes([b]): b for b in range(256)}
    for m in data["model"]["merges"]:
        a, b = (m.split(" ", 1) if isinstance(m, str) else m)
        merged = symbols_to_bytes(a) + symbols_to_bytes(b)
        if merged not in ranks:
            ranks[merged] = len(ranks)
    return ranks


def build_tiktoken(texts: list[str], folder: Path) -> str:
    ranks = _ranks_from_bpe(texts)
    path = folder / "tiny.tiktoken"
    path.write_text("".join(f"{base64.b64encode(t).decode()} {r}\n" for t, r in ranks.items()))
    return f"{path}?pattern=cl100k"


def build_tekken(texts: list[str], folder: Path) -> str:
    from tokbench.tokenizer.formats.tiktoken import CL100K

    ranks = _ranks_from_bpe(texts)
    n_special = 5
    specials = [{"rank": i, "token_str": s, "is_control": True} for i, s in enumerate(["<unk>", "<s>", "</s>", "[INST]", "[/INST]"])]
    vocab = [{"rank": r, "token_bytes": base64.b64encode(t).decode(), "token_str": None} for t, r in ranks.items()]
    data = {
        "config": {"pattern": CL100K, "num_vocab_tokens": len(vocab), "default_vocab_size": len(vocab) + n_special,
                   "default_num_special_tokens": n_special, "version": "v7"},
        "vocab": vocab, "special_tokens": specials,
    }
    path = folder / "tekken.json"
    path.write_text(json.dumps(data))
    return str(path)


def build_tokbench_dir(texts: list[str], folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    build_hf_bpe(texts, folder)
    (folder / "tokbench.json").write_text(json.dumps({"format_version": 1, "tool": "tokbench", "kind": "bpe"}))
    return str(folder)


BUILDERS = {
    "hf-bpe": build_hf_bpe,
    "hf-unigram": build_hf_unigram,
    "hf-wordpiece-dir": build_hf_wordpiece,
    "sentencepiece-bpe": lambda t, f: build_sentencepiece(t, f, "bpe"),
    "sentencepiece-unigram": lambda t, f: build_sentencepiece(t, f, "unigram"),
    "tiktoken": build_tiktoken,
    "tekken": build_tekken,
    "tokbench-dir": build_tokbench_dir,
}
