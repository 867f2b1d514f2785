"""Hugging Face ``tokenizer.json`` (and model directories holding one), via the ``tokenizers`` library."""

from __future__ import annotations

import json
from functools import cached_property
from itertools import chain
from pathlib import Path
from typing import Sequence

import numpy as np

from tokbench.errors import CorruptFileError, UnknownFormatError
from tokbench.tokenizer.base import Encoded, Tokenizer, utf8_prefix
from tokbench.tokenizer.bytelevel import symbols_to_bytes
from tokbench.tokenizer.validate import call_library, check_hf_json

# Normalisers that never change text that is already NFC, or only add/replace what the decoder undoes.
_LOSSLESS_NORMALIZERS = {None, "NFC", "Prepend", "Replace"}


def _components(node, key="type") -> list[dict]:
    """Flatten a (possibly nested Sequence) normaliser/pre-tokenizer/decoder JSON node."""
    if not node:
        return []
    if node.get(key) == "Sequence":
        items = node.get("normalizers") or node.get("pretokenizers") or node.get("decoders") or node.get("processors") or []
        return [c for item in items for c in _components(item, key)]
    return [node]


def parse_merges(model: dict) -> list[tuple[str, str]]:
    """The ordered merges of a tokenizer.json ``model`` section, in either of its two spellings.

    >>> parse_merges({"merges": ["a b", ["ab", "c"]]})
    [('a', 'b'), ('ab', 'c')]
    """
    out = []
    for m in model.get("merges") or []:
        if isinstance(m, str):
            a, _, b = m.partition(" ")
            out.append((a, b))
        else:
            out.append((m[0], m[1]))
    return out


class HFTokenizer(Tokenizer):
    format = "hf"

    def __init__(self, path: str | Path, name: str | None = None, config: dict | None = None, *, raw: bytes | None = None):
        """``raw``: the tokenizer.json content itself (an in-memory ``tokenizers.Tokenizer``); ``path`` then
        only names it."""
        from tokenizers import Tokenizer as _Tok

        path = Path(path)
        raw = path.read_bytes() if raw is None else raw
        try:
            self.spec_json = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CorruptFileError(f"{path} is not valid JSON ({exc}); is the download complete?") from None
        except RecursionError:
            raise CorruptFileError(f"{path} is nested too deeply to be a tokenizer.json") from None
        if not isinstance(self.spec_json, dict) or "model" not in self.spec_json:
            raise UnknownFormatError(f"{path} is JSON but not a Hugging Face tokenizer.json (no 'model' key)")
        check_hf_json(str(path), self.spec_json)
        self._tok = call_library(str(path), "the tokenizers library", lambda: _Tok.from_str(raw.decode("utf-8")))
        super().__init__(name or path.parent.name if path.name == "tokenizer.json" else (name or path.stem), str(path))
        self.path = path
        self.config = config or {}
        model = self.spec_json["model"]
        self.model_kind = {"BPE": "bpe", "Unigram": "unigram", "WordPiece": "wordpiece", "WordLevel": "wordlevel"}.get(
            model.get("type") or self._infer_model_type(model), "unknown"
        )

    @staticmethod
    def _infer_model_type(model: dict) -> str:
        if "merges" in model:
            return "BPE"
        if isinstance(model.get("vocab"), list):
            return "Unigram"
        if "continuing_subword_prefix" in model:
            return "WordPiece"
        return "WordLevel"

    # --- structure --------------------------------------------------------------------------------
    @cached_property
    def _normalizers(self) -> list[dict]:
        return _components(self.spec_json.get("normalizer"))

    @cached_property
    def _pretokenizers(self) -> list[dict]:
        return _components(self.spec_json.get("pre_tokenizer"))

    @cached_property
    def _decoders(self) -> list[dict]:
        return _components(self.spec_json.get("decoder"))

    @cached_property
    def byte_level(self) -> bool:
        return any(c.get("type") == "ByteLevel" for c in self._pretokenizers + self._decoders)

    @cached_property
    def byte_fallback(self) -> bool:
        return bool(self.spec_json["model"].get("byte_fallback")) or any(c.get("type") == "ByteFallback" for c in self._decoders)

    @property
    def lossless(self) -> bool:
        if not (self.byte_level or self.byte_fallback):
            return False
        for n in self._normalizers:
            t = n.get("type")
            if t not in _LOSSLESS_NORMALIZERS:
                return False
        return self.model_kind in {"bpe", "unigram", "char"}

    # --- encoding ---------------------------------------------------------------------------------
    def encode(self, text: str) -> list[int]:
        return self._tok.encode(text, add_special_tokens=False).ids

    def encode_batch(self, texts: Sequence[str], *, spans: bool = True) -> Encoded:
        texts = list(texts)
        doc_bytes = np.fromiter((len(t.encode("utf-8")) for t in texts), dtype=np.int64, count=len(texts))
        if not spans and hasattr(self._tok, "encode_batch_fast"):
            encs = self._tok.encode_batch_fast(texts, add_special_tokens=False)
        else:
            encs = self._tok.encode_batch(texts, add_special_tokens=False)
        # Each `e.ids` / `e.offsets` access builds a new Python list: fetch once, flatten with C iterators.
        id_lists = [e.ids for e in encs]
        lengths = np.fromiter(map(len, id_lists), dtype=np.int64, count=len(encs))
        offsets = np.zeros(len(encs) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        n = int(offsets[-1])
        ids = np.fromiter(chain.from_iterable(id_lists), dtype=np.int64, count=n)
        if not spans:
            return Encoded(ids, offsets, doc_bytes)
        # tokenizers reports character offsets into each original text; convert to UTF-8 byte offsets
        # for all documents at once through the byte prefix of the concatenated texts.
        ch = np.fromiter(chain.from_iterable(chain.from_iterable(e.offsets for e in encs)), dtype=np.int64, count=2 * n).reshape(-1, 2)
        char_len = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        char_start = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(char_len, out=char_start[1:])
        prefix = utf8_prefix("".join(texts))
        doc_of = np.repeat(np.arange(len(texts)), lengths)
        np.clip(ch, 0, char_len[doc_of][:, None], out=ch)
        base = char_start[:-1][doc_of]
        starts = prefix[ch[:, 0] + base] - prefix[base]
        ends = prefix[ch[:, 1] + base] - prefix[base]
        return Encoded(ids, offsets, doc_bytes, starts, ends)

    def decode(self, ids: Sequence[int]) -> str:
        return self._tok.decode([int(i) for i in ids], skip_special_tokens=False)

    # --- vocabulary -------------------------------------------------------------------------------
    @cached_property
    def _id_to_token(self) -> list[str | None]:
        vocab = self._tok.get_vocab(with_added_tokens=True)
        size = max(vocab.values()) + 1 if vocab else 0
        out: list[str | None] = [None] * size
        for tok, i in vocab.items():
            out[i] = tok
        return out

    @property
    def vocab_size(self) -> int:
        return len(self._id_to_token)

    def token_strings(self) -> list[str | None]:
        return list(self._id_to_token)

    @cached_property
    def _added(self) -> dict[str, dict]:
        return {a["content"]: a for a in self.spec_json.get("added_tokens", [])}

    @property
    def special_tokens(self) -> dict[str, int]:
        return {a["content"]: a["id"] for a in self.spec_json.get("added_tokens", []) if a.get("special")}

    @property
    def unk_id(self) -> int | None:
        unk = self.spec_json["model"].get("unk_token")
        if unk is None and self.model_kind == "unigram":
            uid = self.spec_json["model"].get("unk_id")
            return int(uid) if uid is not None else None
        return self._tok.token_to_id(unk) if unk is not None else None

    @cached_property
    def _token_bytes(self) -> list[bytes | None]:
        specials = set(self.special_tokens)
        prefix = self.spec_json["model"].get("continuing_subword_prefix") or ""
        out: list[bytes | None] = []
        for tok in self._id_to_token:
            if tok is None or tok in specials:
                out.append(None)
                continue
            added = self._added.get(tok)
            if added is not None and not added.get("special"):
                out.append(tok.encode("utf-8"))
                continue
            if len(tok) == 6 and tok.startswith("<0x") and tok.endswith(">") and self.byte_fallback:
                out.append(bytes([int(tok[3:5], 16)]))
                continue
            if self.byte_level:
                b = symbols_to_bytes(tok)
                out.append(b if b is not None else tok.encode("utf-8"))
                continue
            if self.model_kind == "wordpiece" and prefix and tok.startswith(prefix) and len(tok) > len(prefix):
                tok = tok[len(prefix) :]
            out.append(tok.replace("▁", " ").encode("utf-8"))
        return out

    def token_bytes(self) -> list[bytes | None]:
        return list(self._token_bytes)

    # --- merges -----------------------------------------------------------------------------------
    def model_merges(self) -> list[tuple[str, str]] | None:
        if self.model_kind != "bpe":
            return None
        return parse_merges(self.spec_json["model"])

    def model_pretokenize(self, text: str) -> list[str]:
        if self._tok.normalizer is not None:
            text = self._tok.normalizer.normalize_str(text)
        if self._tok.pre_tokenizer is None:
            return [text] if text else []
        return [s for s, _ in self._tok.pre_tokenizer.pre_tokenize_str(text)]

    @cached_property
    def _model_vocab(self) -> dict[str, int]:
        # get_vocab() builds a new dict of the whole vocabulary on every call; replaying merges asks per
        # pre-token, so keep one.
        return self._tok.get_vocab(with_added_tokens=False)

    def model_initial_symbols(self, pretoken: str) -> list[str]:
        if self.byte_level or not self.byte_fallback:
            return list(pretoken)
        vocab = self._model_vocab
        out = []
        for ch in pretoken:
            if ch in vocab:
                out.append(ch)
            else:
                out.extend(f"<0x{b:02X}>" for b in ch.encode("utf-8"))
        return out

    def _fingerprint_bytes(self) -> bytes:
        return json.dumps(self.spec_json, sort_keys=True, ensure_ascii=False).encode("utf-8")

    def describe(self) -> dict:
        d = super().describe()
        d["normalizer"] = [n.get("type") for n in self._normalizers] or None
        d["pre_tokenizer"] = [
            p.get("type") + (f"({p['behavior']})" if p.get("behavior") else "") for p in self._pretokenizers
        ] or None
        d["byte_level"] = self.byte_level
        d["byte_fallback"] = self.byte_fallback
        return d
