"""TextSource: the texts a corpus spec names, with their alignment ids and provenance."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property



def source_label(spec: str, corpus: str, lang: str | None, split: str | None) -> str:
    """Short display name of a source: 'libreoffice:de@test'; a local file is named by its spec.

    >>> source_label("libreoffice:de@test", "libreoffice", "de", "test"), source_label("notes.txt:tr", "file", "tr", None)
    ('libreoffice:de@test', 'notes.txt:tr')
    """
    if corpus == "file":
        return spec
    return corpus + (f":{lang}" if lang else "") + (f"@{split}" if split else "")

@dataclass
class TextSource:
    """Segments of text from one corpus/language/split.

    ``ids[i]`` is the alignment key of ``texts[i]``: in a parallel corpus equal ids in two languages are
    translations of each other.
    """

    spec: str
    corpus: str
    lang: str | None
    split: str | None
    ids: list[str]
    texts: list[str]
    parallel: bool = False
    kind: str = "natural"
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        if len(self.ids) != len(self.texts):
            raise ValueError("ids and texts must have the same length")

    def __len__(self) -> int:
        return len(self.texts)

    @cached_property
    def n_bytes(self) -> int:
        return sum(len(t.encode("utf-8")) for t in self.texts)

    @cached_property
    def n_chars(self) -> int:
        return sum(len(t) for t in self.texts)

    @cached_property
    def sha256(self) -> str:
        """Hash of the content (ids and texts): the cache key of everything computed from it."""
        h = hashlib.sha256()
        for i, t in zip(self.ids, self.texts):
            h.update(i.encode("utf-8", "surrogatepass"))
            h.update(b"\0")
            h.update(t.encode("utf-8", "surrogatepass"))
            h.update(b"\1")
        return h.hexdigest()

    @property
    def label(self) -> str:
        """Short display name: 'libreoffice:de@test' (a local file: its spec, 'notes.txt:tr')."""
        return source_label(self.spec, self.corpus, self.lang, self.split)

    def subset(self, keep_ids) -> "TextSource":
        """The segments whose id is in ``keep_ids``, in this source's order."""
        keep = set(keep_ids)
        pairs = [(i, t) for i, t in zip(self.ids, self.texts) if i in keep]
        return TextSource(
            self.spec, self.corpus, self.lang, self.split, [p[0] for p in pairs], [p[1] for p in pairs],
            self.parallel, self.kind, self.meta,
        )

    def provenance(self) -> dict:
        """What a manifest records about this input."""
        return {"spec": self.spec, "label": self.label, "segments": len(self), "bytes": self.n_bytes, "sha256": self.sha256}
