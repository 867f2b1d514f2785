"""Corpus specs: one way to name text everywhere.

A spec names text that any command can read::

    udhr:tur                 bundled corpus, one language (all splits)
    libreoffice:de@test      bundled corpus, language and split ('de', 'deu' and 'ger' alike)
    libreoffice@test         every language of a bundled corpus (commands that take many sources)
    libreoffice:de,fr,tr@dev several languages
    code:python@train=0.4    any spec with a mixture weight (train, infer-mixture)
    data/notes.txt           a local file: .txt (one segment per non-empty line), .jsonl/.jsonl.gz
    my_turkish.txt:tr        a local file in a language (%TR, fertility); 'x.jsonl#body:de' with a field
    pairs.tsv                parallel text, one column per language (header: id, en, de ...)
    data/shards/             a folder of such files (.parquet too); '#field' picks the text field
    hf:wikitext:wikitext-2-raw-v1@train#text   a Hugging Face dataset (local cache or hub when online)

The token premium also reads a folder with one file per language (FLORES-200) and a .jsonl with one key
per language: see :mod:`tokbench.corpora.parallel`.

Every spec resolves to :class:`TextSource` objects: texts with alignment ids, a language, a split and a
content hash. ``open_streams`` resolves a spec to :class:`CorpusStream` objects that read the text lazily,
a batch at a time (memory holds a batch, never the corpus); ``load_sources`` reads them into memory.
``max_bytes`` is an exact cap on the text read, the last segment cut at a character boundary.
"""

from tokbench.corpora.source import TextSource
from tokbench.corpora.stream import CorpusStream, as_stream, cut_utf8
from tokbench.corpora.bundled import bundled_corpora, corpus_info, manifest, resolve_language
from tokbench.corpora.spec import load_source, load_sources, open_stream, open_streams, parse_weighted

__all__ = [
    "CorpusStream",
    "TextSource",
    "as_stream",
    "cut_utf8",
    "open_stream",
    "open_streams",
    "bundled_corpora",
    "corpus_info",
    "load_source",
    "load_sources",
    "manifest",
    "parse_weighted",
    "resolve_language",
]
