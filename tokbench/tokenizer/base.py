"""One interface for every tokenizer format.

A :class:`Tokenizer` wraps a format's fastest native encoder (``tokenizers``, ``sentencepiece``,
``tiktoken``) and exposes what every tokbench command needs:

* :meth:`Tokenizer.encode_batch` -> :class:`Encoded`: all documents as one flat ``int64`` id array with
  per-document offsets and per-token UTF-8 byte spans (the input of every Numba kernel);
* :meth:`Tokenizer.decode`, :meth:`Tokenizer.token_bytes` (the vocabulary as bytes),
  :meth:`Tokenizer.model_merges` (the ordered merge list, BPE only), :meth:`Tokenizer.model_pretokenize`
  (pre-tokens in the model's own alphabet, for replaying merges), special tokens and a stable
  :meth:`Tokenizer.fingerprint`.

No special tokens are ever added by ``encode``/``encode_batch``: every metric counts content tokens only.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class Encoded:
    """A batch of documents encoded into flat arrays.

    ids:         (N,) int64, the tokens of all documents concatenated.
    doc_offsets: (D+1,) int64, document ``d`` owns ``ids[doc_offsets[d]:doc_offsets[d+1]]``.
    starts/ends: (N,) int64 byte span of each token in its document's UTF-8 encoding, or ``None`` when
                 spans were not requested. Where a tokenizer's tokens reassemble the text byte for byte
                 (byte-level BPE, tiktoken, Tekken) the spans are exact, so a token standing for part of a
                 character covers just its bytes; where spans come from the library's character offsets
                 (normalising tokenizers, byte fallback) such tokens share the whole character's span. A span
                 may be empty (e.g. a prefix marker). Metrics must accept both.
    doc_bytes:   (D,) int64 UTF-8 length of each document.

    >>> e = Encoded.from_lists([[5, 6], [7]], doc_bytes=[3, 1])
    >>> e.doc(0).tolist(), e.n_docs, e.n_tokens
    ([5, 6], 2, 3)
    """

    ids: np.ndarray
    doc_offsets: np.ndarray
    doc_bytes: np.ndarray
    starts: np.ndarray | None = None
    ends: np.ndarray | None = None

    @property
    def n_docs(self) -> int:
        return len(self.doc_offsets) - 1

    @property
    def n_tokens(self) -> int:
        return int(self.ids.shape[0])

    def doc(self, d: int) -> np.ndarray:
        return self.ids[self.doc_offsets[d] : self.doc_offsets[d + 1]]

    def tokens_per_doc(self) -> np.ndarray:
        return np.diff(self.doc_offsets)

    @staticmethod
    def from_lists(
        ids_per_doc: Sequence[Sequence[int]],
        doc_bytes: Sequence[int],
        spans_per_doc: Sequence[Sequence[tuple[int, int]]] | None = None,
    ) -> "Encoded":
        lengths = np.fromiter((len(x) for x in ids_per_doc), dtype=np.int64, count=len(ids_per_doc))
        offsets = np.zeros(len(ids_per_doc) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        flat = np.fromiter((i for doc in ids_per_doc for i in doc), dtype=np.int64, count=int(offsets[-1]))
        starts = ends = None
        if spans_per_doc is not None:
            sp = np.array([s for doc in spans_per_doc for s in doc], dtype=np.int64).reshape(-1, 2)
            starts, ends = sp[:, 0].copy(), sp[:, 1].copy()
        return Encoded(flat, offsets, np.asarray(doc_bytes, dtype=np.int64), starts, ends)


def utf8_prefix(text: str) -> np.ndarray:
    """(len(text)+1,) int64: byte offset of each character boundary of ``text`` in UTF-8.

    >>> utf8_prefix("aé€").tolist()
    [0, 1, 3, 6]
    """
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    widths = 1 + (cps >= 0x80).astype(np.int64) + (cps >= 0x800) + (cps >= 0x10000)
    out = np.zeros(len(cps) + 1, dtype=np.int64)
    np.cumsum(widths, out=out[1:])
    return out


def flatten_token_bytes(token_bytes: Sequence[bytes | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every id's bytes laid end to end: (flat (T,) uint8, offsets (V+1,) int64, none (V,) bool).

    Id ``i`` stands for ``flat[offsets[i]:offsets[i+1]]``; ``none[i]`` marks ids that stand for no text.

    >>> flat, offsets, none = flatten_token_bytes([b"ab", None, b"c"])
    >>> flat.tobytes(), offsets.tolist(), none.tolist()
    (b'abc', [0, 2, 2, 3], [False, True, False])
    """
    lengths = np.fromiter((len(b) if b is not None else 0 for b in token_bytes), dtype=np.int64, count=len(token_bytes))
    offsets = np.zeros(len(token_bytes) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.frombuffer(b"".join(b for b in token_bytes if b is not None), dtype=np.uint8)
    return flat, offsets, np.array([b is None for b in token_bytes], dtype=np.bool_)


class Tokenizer(ABC):
    """A loaded tokenizer of any format. Subclasses live in ``tokbench.tokenizer.formats``."""

    #: 'hf' | 'sentencepiece' | 'tiktoken' | 'tekken' | 'tokbench'
    format: str = ""
    #: 'bpe' | 'unigram' | 'wordpiece' | 'wordlevel' | 'char'
    model_kind: str = ""

    def __init__(self, name: str, source: str):
        self.name = name
        self.source = source

    # --- encoding ---------------------------------------------------------------------------------
    @abstractmethod
    def encode(self, text: str) -> list[int]:
        """Ids of ``text`` with no special tokens added."""

    @abstractmethod
    def encode_batch(self, texts: Sequence[str], *, spans: bool = True) -> Encoded:
        """Encode many documents at once with the native batch encoder."""

    @abstractmethod
    def decode(self, ids: Sequence[int]) -> str:
        """Text of ``ids`` (special tokens kept as their strings)."""

    # --- vocabulary -------------------------------------------------------------------------------
    @property
    @abstractmethod
    def vocab_size(self) -> int:
        """Number of ids, special tokens included (max id + 1)."""

    @abstractmethod
    def token_strings(self) -> list[str | None]:
        """id -> the token as the format spells it ('Ġthe', '▁the', '<0x0A>', '##ing'); None for holes."""

    @abstractmethod
    def token_bytes(self) -> list[bytes | None]:
        """id -> the UTF-8 bytes the token stands for in text (markers -> spaces, '<0x41>' -> b'A').

        None for special/control tokens and ids that stand for no text.
        """

    def token_byte_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`token_bytes` as flat arrays (see :func:`flatten_token_bytes`), computed once."""
        arrays = self.__dict__.get("_token_byte_arrays")
        if arrays is None:
            arrays = self.__dict__["_token_byte_arrays"] = flatten_token_bytes(self.token_bytes())
        return arrays

    @property
    def special_tokens(self) -> dict[str, int]:
        """Special/control tokens: string -> id."""
        return {}

    @property
    def unk_id(self) -> int | None:
        return None

    @cached_property
    def byte_token_mask(self) -> np.ndarray:
        """(V,) bool: tokens that stand for one raw byte which is not a whole character by itself.

        Byte-fallback pieces ('<0xE4>') of SentencePiece/HF and, for byte-level BPE, tokens whose bytes are
        not valid UTF-8 on their own (they stand for part of a character). Used for the byte-fallback rate.
        """
        mask = np.zeros(self.vocab_size, dtype=np.bool_)
        strings = self.token_strings()
        for i, b in enumerate(self.token_bytes()):
            s = strings[i]
            if s is not None and len(s) == 6 and s.startswith("<0x") and s.endswith(">"):
                mask[i] = True
            elif b:
                try:
                    b.decode("utf-8")
                except UnicodeDecodeError:
                    mask[i] = True
        return mask

    @property
    def lossless(self) -> bool:
        """True when decode(encode(x)) == x is expected for any text (byte-level / byte fallback, no lossy
        normaliser)."""
        return False

    # --- merges / pre-tokenization (BPE only) -----------------------------------------------------
    def model_merges(self) -> list[tuple[str, str]] | None:
        """The ordered merge list in the model's alphabet, or None when the model is not BPE.

        Byte-level models use GPT-2's byte-to-unicode alphabet (tiktoken/Tekken ranks are converted), so
        merges from every byte-level format compare equal.
        """
        return None

    def model_pretokenize(self, text: str) -> list[str]:
        """Pre-tokens of ``text`` in the model's alphabet, exactly as the tokenizer splits text before its
        model runs (normaliser + pre-tokenizer). Used to replay merges."""
        raise NotImplementedError(f"{type(self).__name__} does not expose its pre-tokenizer")

    def model_initial_symbols(self, pretoken: str) -> list[str]:
        """The model's starting symbols for a pre-token before any merge (characters by default)."""
        return list(pretoken)

    def describe(self) -> dict:
        """A small JSON-able summary (for `tokbench inspect` and reports)."""
        return {
            "name": self.name,
            "source": self.source,
            "format": self.format,
            "model": self.model_kind,
            "vocab_size": self.vocab_size,
            "special_tokens": len(self.special_tokens),
            "lossless": self.lossless,
            "fingerprint": self.fingerprint()[:16],
        }

    # --- identity ---------------------------------------------------------------------------------
    @abstractmethod
    def _fingerprint_bytes(self) -> bytes:
        """Canonical bytes that determine the tokenizer's behaviour."""

    def fingerprint(self) -> str:
        """Stable sha256 of the canonical definition (same file content -> same fingerprint)."""
        fp = self.__dict__.get("_fp")
        if fp is None:
            fp = hashlib.sha256(self.format.encode() + b"\0" + self._fingerprint_bytes()).hexdigest()
            self.__dict__["_fp"] = fp
        return fp

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {self.model_kind} V={self.vocab_size}>"
