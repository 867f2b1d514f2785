"""SentencePiece ``.model`` files, via the ``sentencepiece`` library."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np

from tokbench.errors import CorruptFileError
from tokbench.tokenizer.base import Encoded, Tokenizer
from tokbench.tokenizer.merges import merges_from_scores

_MODEL_TYPES = {1: "unigram", 2: "bpe", 3: "wordlevel", 4: "char"}


class SentencePieceTokenizer(Tokenizer):
    format = "sentencepiece"

    def __init__(self, path: str | Path, name: str | None = None):
        import sentencepiece as spm
        from sentencepiece import sentencepiece_model_pb2 as pb

        path = Path(path)
        self._raw = path.read_bytes()
        proto = pb.ModelProto()
        try:
            proto.ParseFromString(self._raw)
            if not proto.pieces:
                raise ValueError("no pieces")
            self._sp = spm.SentencePieceProcessor(model_proto=self._raw)
        except Exception as exc:
            raise CorruptFileError(f"{path} is not a readable SentencePiece model ({str(exc)[:120]})") from None
        super().__init__(name or (path.parent.name if path.stem == "tokenizer" else path.stem), str(path))
        self.proto = proto
        self.model_kind = _MODEL_TYPES.get(proto.trainer_spec.model_type, "unknown")
        self.path = path

    @property
    def lossless(self) -> bool:
        ns = self.proto.normalizer_spec
        return bool(self.proto.trainer_spec.byte_fallback) and ns.name in ("identity", "") and not ns.remove_extra_whitespaces

    def encode(self, text: str) -> list[int]:
        return self._sp.encode(text, out_type=int)

    def encode_batch(self, texts: Sequence[str], *, spans: bool = True) -> Encoded:
        texts = list(texts)
        doc_bytes = np.fromiter((len(t.encode("utf-8")) for t in texts), dtype=np.int64, count=len(texts))
        if not spans:
            ids_per_doc = self._sp.encode(texts, out_type=int)
            return Encoded.from_lists(ids_per_doc, doc_bytes)
        # The proto result carries each piece's byte span in the original (un-normalised) input.
        protos = self._sp.encode(texts, return_type="proto")
        lengths = np.fromiter((len(p.pieces) for p in protos), dtype=np.int64, count=len(protos))
        offsets = np.zeros(len(protos) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        n = int(offsets[-1])
        ids = np.empty(n, dtype=np.int64)
        starts = np.empty(n, dtype=np.int64)
        ends = np.empty(n, dtype=np.int64)
        k = 0
        for p in protos:
            for piece in p.pieces:
                ids[k] = piece.id
                starts[k] = piece.begin
                ends[k] = piece.end
                k += 1
        return Encoded(ids, offsets, doc_bytes, starts, ends)

    def decode(self, ids: Sequence[int]) -> str:
        return self._sp.decode([int(i) for i in ids])

    @property
    def vocab_size(self) -> int:
        return self._sp.get_piece_size()

    @cached_property
    def _pieces(self) -> list[str]:
        return [self._sp.id_to_piece(i) for i in range(self.vocab_size)]

    def token_strings(self) -> list[str | None]:
        return list(self._pieces)

    def token_bytes(self) -> list[bytes | None]:
        out: list[bytes | None] = []
        for i, piece in enumerate(self._pieces):
            if self._sp.is_control(i) or self._sp.is_unknown(i) or self._sp.is_unused(i):
                out.append(None)
            elif self._sp.is_byte(i):
                out.append(bytes([int(piece[3:5], 16)]))
            else:
                out.append(piece.replace("▁", " ").encode("utf-8"))
        return out

    @property
    def special_tokens(self) -> dict[str, int]:
        return {p: i for i, p in enumerate(self._pieces) if self._sp.is_control(i) or self._sp.is_unknown(i)}

    @property
    def unk_id(self) -> int | None:
        u = self._sp.unk_id()
        return u if u >= 0 else None

    def model_merges(self) -> list[tuple[str, str]] | None:
        if self.model_kind != "bpe":
            return None
        skip = {
            i for i in range(self.vocab_size)
            if self._sp.is_control(i) or self._sp.is_unknown(i) or self._sp.is_byte(i) or self._sp.is_unused(i)
            or self.proto.pieces[i].type == self.proto.pieces[i].USER_DEFINED
        }
        return merges_from_scores([(p.piece, p.score) for p in self.proto.pieces], skip)

    def model_pretokenize(self, text: str) -> list[str]:
        # SentencePiece normalises, turns spaces into '▁' (plus a dummy prefix) and never merges across
        # the start of a whitespace-prefixed piece: split before each '▁' that follows a non-'▁'.
        norm = self._sp.normalize(text) if hasattr(self._sp, "normalize") else text
        norm = norm.replace(" ", "▁")
        if self.proto.normalizer_spec.add_dummy_prefix and not norm.startswith("▁"):
            norm = "▁" + norm
        out, cur = [], ""
        for ch in norm:
            if ch == "▁" and cur and not cur.endswith("▁"):
                out.append(cur)
                cur = ""
            cur += ch
        if cur:
            out.append(cur)
        return out

    def model_initial_symbols(self, pretoken: str) -> list[str]:
        out = []
        for ch in pretoken:
            if self._sp.piece_to_id(ch) != self._sp.unk_id() or ch == self._sp.id_to_piece(self._sp.unk_id()):
                out.append(ch)
            else:
                out.extend(f"<0x{b:02X}>" for b in ch.encode("utf-8"))
        return out

    def _fingerprint_bytes(self) -> bytes:
        return self._raw
