"""Corpora as streams: a spec names text that is read lazily, a batch of records at a time.

A :class:`CorpusStream` holds no text. Each pass over it re-opens its files (or dataset) and yields
``(id, text)`` records in a fixed order, so several passes see the same text and memory holds one batch,
never the corpus. Byte counts and the content hash are computed on the way (:meth:`CorpusStream.stats`);
:meth:`CorpusStream.materialise` turns a stream into the in-memory :class:`TextSource` older code reads,
with the same hash, so a stream and its materialised copy are interchangeable.

``max_bytes`` is a true cap on the text a pass yields: records are taken in order until the cap, and the
record that crosses it is cut at a character boundary (a single 50 MB line under a 1 MB cap yields its
first 1 MB, less at most 3 bytes so that no character is split).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from tokbench.corpora.source import TextSource, source_label

Record = tuple[str, str]
#: Records per batch handed to consumers: large enough to amortise per-call costs of batch encoders,
#: small enough that a batch of long documents stays a few MB.
BATCH = 1024


def utf8_len(text: str) -> int:
    """Bytes of ``text`` in UTF-8 (without encoding ASCII text)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def cut_utf8(text: str, n_bytes: int) -> str:
    """The longest prefix of ``text`` whose UTF-8 encoding has at most ``n_bytes`` bytes.

    >>> cut_utf8("añb", 2), cut_utf8("añb", 3), cut_utf8("日本", 4)
    ('a', 'añ', '日')
    """
    if n_bytes <= 0:
        return ""
    if text.isascii():
        return text[:n_bytes]
    # Only the tail can hold a partial character, so 'ignore' drops exactly that and nothing else.
    return text.encode("utf-8", "surrogatepass")[:n_bytes].decode("utf-8", "ignore")


def capped(records: Iterable[Record], max_bytes: int | None) -> Iterator[Record]:
    """``records`` until ``max_bytes`` bytes of text, the last one cut at a character boundary."""
    if max_bytes is None:
        yield from records
        return
    left = max_bytes
    for rid, text in records:
        if left <= 0:
            return
        n = utf8_len(text)
        if n > left:
            text = cut_utf8(text, left)
            if not text:
                return
            n = utf8_len(text)
        yield rid, text
        left -= n



def batched(items: Iterable, size: int) -> Iterator[list]:
    """Lists of up to ``size`` consecutive items (itertools.batched of Python 3.12, as lists).

    >>> list(batched("abcde", 2))
    [['a', 'b'], ['c', 'd'], ['e']]
    """
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch

@dataclass
class StreamStats:
    """What one full pass over a stream measured."""

    segments: int
    bytes: int
    chars: int
    sha256: str


class ContentHash:
    """The content hash of (id, text) records, the same bytes :attr:`TextSource.sha256` hashes."""

    def __init__(self):
        self.h = hashlib.sha256()

    def update(self, rid: str, text: str) -> None:
        self.h.update(rid.encode("utf-8", "surrogatepass") + b"\0" + text.encode("utf-8", "surrogatepass") + b"\1")

    def update_many(self, records: Iterable[Record]) -> bytes:
        """:meth:`update` of every record at once (one encode, one hash call: a third of the cost on short
        segments); returns the bytes hashed, so that another hash of the same records can reuse them."""
        parts: list[str] = []
        for rid, text in records:
            parts += (rid, "\0", text, "\1")
        blob = "".join(parts).encode("utf-8", "surrogatepass")
        self.h.update(blob)
        return blob

    def hexdigest(self) -> str:
        return self.h.hexdigest()


@dataclass
class CorpusStream:
    """Text from one corpus/language/split, read on demand.

    ``opener(hint)`` starts a pass and yields ``(id, text)`` records; ``hint`` (bytes, or None) lets a
    reader stop early, the cap itself is applied here. ``size`` is the text's byte count when known
    without reading it (None otherwise).
    """

    spec: str
    corpus: str
    lang: str | None
    split: str | None
    opener: Callable[[int | None], Iterable[Record]]
    parallel: bool = False
    kind: str = "natural"
    meta: dict = field(default_factory=dict)
    size: int | None = None

    @property
    def label(self) -> str:
        """Short display name, as :attr:`TextSource.label` ('libreoffice:de@test'; a local file: its spec)."""
        return source_label(self.spec, self.corpus, self.lang, self.split)

    def records(self, max_bytes: int | None = None) -> Iterator[Record]:
        """One pass: every record in order, at most ``max_bytes`` bytes of text."""
        return capped(self.opener(max_bytes), max_bytes)

    def batches(self, max_bytes: int | None = None, size: int = BATCH) -> Iterator[list[Record]]:
        """One pass in lists of up to ``size`` records."""
        return batched(self.records(max_bytes), size)

    def texts(self, max_bytes: int | None = None) -> Iterator[str]:
        for _, text in self.records(max_bytes):
            yield text

    def stats(self, max_bytes: int | None = None) -> StreamStats:
        """Segments, bytes, characters and content hash of one pass (reads the text once)."""
        h = ContentHash()
        segs = nbytes = nchars = 0
        for rid, text in self.records(max_bytes):
            h.update(rid, text)
            segs += 1
            nbytes += utf8_len(text)
            nchars += len(text)
        return StreamStats(segs, nbytes, nchars, h.hexdigest())

    def materialise(self, max_bytes: int | None = None) -> TextSource:
        """The in-memory :class:`TextSource` of one pass (memory grows with the text: small corpora only)."""
        ids: list[str] = []
        texts: list[str] = []
        for rid, text in self.records(max_bytes):
            ids.append(rid)
            texts.append(text)
        return TextSource(self.spec, self.corpus, self.lang, self.split, ids, texts, self.parallel, self.kind, dict(self.meta))


def as_stream(source) -> CorpusStream:
    """A :class:`CorpusStream` over ``source``: a stream itself, a :class:`TextSource`, or anything with
    ``texts`` (and optionally ``ids``/``label``/``spec``)."""
    if isinstance(source, CorpusStream):
        return source
    texts = source.texts
    ids = getattr(source, "ids", None) or [str(i) for i in range(len(texts))]
    label = getattr(source, "label", None) or getattr(source, "spec", "texts")
    return CorpusStream(
        getattr(source, "spec", label), getattr(source, "corpus", label) if hasattr(source, "corpus") else label,
        getattr(source, "lang", None), getattr(source, "split", None), lambda hint: zip(ids, texts),
        getattr(source, "parallel", False), getattr(source, "kind", "natural"), dict(getattr(source, "meta", {}) or {}),
        size=getattr(source, "n_bytes", None) if isinstance(source, TextSource) else None,
    )
