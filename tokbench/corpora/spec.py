"""Parse corpus specs and load them into :class:`TextSource` objects."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

from tokbench.corpora.bundled import bundled_corpora, corpora_root, corpus_info, manifest, resolve_language
from tokbench.corpora.source import TextSource
from tokbench.corpora.stream import CorpusStream, as_stream
from tokbench.errors import CorpusError, CorruptFileError, InputNotFoundError

_LONE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE_CHAR = re.compile("[\ud800-\udfff]")
_WEIGHT = re.compile(r"^(?P<spec>.+)=(?P<w>[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)$")
_BUNDLED = re.compile(r"^(?P<name>[a-z][a-z0-9_-]*)(?::(?P<langs>[^@#=]+))?(?:@(?P<split>[A-Za-z0-9_-]+))?$")
TEXT_SUFFIXES = (".txt", ".jsonl", ".jsonl.gz", ".json", ".parquet")
#: one segment per line: .txt, and FLORES-200's per-language files (eng_Latn.dev, eng_Latn.devtest)
LINE_SUFFIXES = (".txt", ".dev", ".devtest")
#: parallel text in one file, one column per language (see tokbench.corpora.parallel)
PARALLEL_SUFFIXES = (".tsv",)


def parse_weighted(spec: str) -> tuple[str, float]:
    """Split 'SPEC=WEIGHT' into (spec, weight); weight 1.0 when absent.

    >>> parse_weighted("libreoffice:de@train=0.6")
    ('libreoffice:de@train', 0.6)
    """
    m = _WEIGHT.match(spec.strip())
    if not m:
        return spec.strip(), 1.0
    w = float(m.group("w"))
    if not 0 < w < float("inf"):  # '1e999' reads as inf, '1e-999' as 0
        raise CorpusError(f"weight in '{spec}' must be a positive finite number")
    return m.group("spec"), w


def _open_bundled(corpus: str, lang: str, split: str | None, spec: str) -> CorpusStream:
    info = corpus_info(corpus)
    entry = info["languages"][lang]
    splits = [split] if split else list(info.get("splits", entry["splits"].keys()))
    for s in splits:
        if s not in entry["splits"]:
            raise CorpusError(f"split '{s}' is not in corpus '{corpus}' (splits: {', '.join(entry['splits'])})")
    paths = [corpora_root() / entry["splits"][s]["file"] for s in splits]

    def opener(hint):
        for path in paths:
            for rec in _iter_jsonl(path):
                yield rec["id"], rec["text"]

    meta = {k: v for k, v in entry.items() if k != "splits"}
    meta["corpus_source"] = entry.get("source", info.get("source"))
    meta["licence"] = entry.get("licence", info.get("licence"))
    return CorpusStream(spec, corpus, lang, split, opener, bool(info.get("parallel")), info.get("kind", "natural"), meta)


def _iter_jsonl(path: Path, field: str = "text", batch: int = 4096):
    # Lines are parsed a batch at a time with one json.loads over "[l1,l2,...]": ~1.4x faster than a call per
    # line on the bundled corpora (a third of a warm `tokbench evaluate`), still streaming. A batch that
    # does not parse into exactly one value per line is re-read line by line for the exact error.
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as f:
            pending: list[tuple[int, str]] = []
            for n, line in enumerate(f, 1):
                line = line.strip()
                if line:
                    pending.append((n, line))
                if len(pending) >= batch:
                    yield from _parse_jsonl_batch(path, pending, field)
                    pending = []
            yield from _parse_jsonl_batch(path, pending, field)
    except UnicodeDecodeError:
        raise CorruptFileError(f"{path} is not UTF-8 text; give a UTF-8 .txt/.jsonl file") from None
    except (OSError, EOFError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise CorruptFileError(f"{path} cannot be read ({exc}); is it a truncated or non-gzip file?") from None



def _parse_jsonl_batch(path: Path, lines: list[tuple[int, str]], field: str):
    if not lines:
        return
    try:
        recs = json.loads("[" + ",".join(line for _, line in lines) + "]")
        if len(recs) != len(lines):  # a line held two values ("1, 2"): find it line by line
            raise ValueError
    except ValueError:  # JSONDecodeError is a ValueError
        recs = []
        for n, line in lines:
            try:
                recs.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise CorruptFileError(f"{path}:{n}: not valid JSON ({exc.msg}); each line of a .jsonl file must be one JSON object") from None
    for (n, line), rec in zip(lines, recs):
        if isinstance(rec, str):
            rec = {"text": rec}
        if "\\u" in line and _LONE_SURROGATE.search(line):
            # json.loads accepts an escaped lone surrogate ('\ud800'), which is not text: it cannot be
            # encoded to UTF-8, so no byte count or tokenizer could use it.
            for v in rec.values() if isinstance(rec, dict) else ():
                if isinstance(v, str) and _SURROGATE_CHAR.search(v):
                    raise CorruptFileError(f"{path}:{n}: holds a lone UTF-16 surrogate (an escape such as \\ud800 with no pair), which is not text; fix or drop the line")
        if not isinstance(rec, dict):
            raise CorruptFileError(f"{path}:{n}: not valid JSON (expected an object); each line of a .jsonl file must be one JSON object")
        if field not in rec:
            raise CorpusError(f"{path}:{n}: no '{field}' field (fields: {', '.join(rec)}); pick one with '{path}#FIELD'")
        if "id" not in rec:
            rec["id"] = f"{path.name}:{n}"
        if field != "text":
            rec["text"] = rec[field]
        yield rec

def _read_text_file(path: Path, hint: int | None = None, chunk: int = 1 << 20):
    """Non-empty lines of a UTF-8 text file as (id, line), read a chunk at a time; lines end where
    ``str.splitlines`` ends them, ids number every line from 1.

    With ``hint`` (bytes) reading stops once the lines yielded hold that much text, or the line being read
    is that long by itself: a cap on a file that is one huge line reads about the cap, not the file.
    """
    import codecs

    from tokbench.corpora.stream import utf8_len

    ends = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
    decoder = codecs.getincrementaldecoder("utf-8")()
    pending, offset, n, got = "", 0, 0, 0
    name = path.name  # per line below: a Path property is not free at a million lines
    with open(path, "rb") as f:
        while True:
            data = f.read(chunk)
            if offset == 0 and b"\0" in data[:65536]:
                raise CorruptFileError(f"{path} looks like a binary file, not text; give a UTF-8 .txt, .jsonl or .parquet file")
            try:
                pending += decoder.decode(data, final=not data)
            except UnicodeDecodeError as exc:
                raise CorruptFileError(f"{path} is not UTF-8 (byte {offset + exc.start}); convert it with iconv -t UTF-8 first") from None
            offset += len(data)
            lines = pending.splitlines(keepends=True)
            pending = ""
            if data and lines:
                # The last piece may go on in the next chunk (a final '\r' may be half of '\r\n').
                pending = lines.pop()
            for line in lines:
                n += 1
                text = line.rstrip(ends)
                if text and not text.isspace():  # = text.strip() != "", without building the stripped copy
                    yield f"{name}:{n}", text
                    if hint is not None:
                        got += utf8_len(text)
            if not data:
                return
            # Enough text for the cap: the unfinished line (a lower bound in characters) is the last one.
            if hint is not None and got + len(pending.rstrip(ends)) >= hint:
                text = pending.rstrip(ends)
                if text.strip():
                    yield f"{name}:{n + 1}", text
                return


def _read_parquet(path: Path, field: str, batch: int = 4096):
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for bad files
        raise CorruptFileError(f"{path} is not a readable parquet file ({exc})") from None
    names = pf.schema_arrow.names
    if field not in names:
        raise CorpusError(f"{path} has no column '{field}' (columns: {', '.join(names)}); pick one with '{path}#COLUMN'")
    n = 0
    try:
        for rb in pf.iter_batches(batch_size=batch, columns=[field]):
            for t in rb.column(0).to_pylist():
                if t:
                    yield f"{path.name}:{n}", t
                n += 1
    except CorpusError:
        raise
    except Exception as exc:
        raise CorruptFileError(f"{path} is not a readable parquet file ({exc})") from None


def _open_local(path: Path, field: str, spec: str, lang: str | None = None) -> CorpusStream:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(TEXT_SUFFIXES))
        if not files:
            raise CorpusError(f"folder {path} has no {', '.join(TEXT_SUFFIXES)} files")
    else:
        from tokbench.files import require_regular_file

        require_regular_file(path, "corpus file")  # a FIFO or device would block or never end
        files = [path]
    for f in files:
        if not (f.name.endswith(TEXT_SUFFIXES) or f.name.endswith(LINE_SUFFIXES) or not f.suffix):
            raise CorpusError(f"{f}: unsupported file type '{f.suffix}'; use .txt, .jsonl(.gz), .parquet or a parallel .tsv")

    def opener(hint):
        for f in files:
            name = f.name
            if name.endswith((".jsonl", ".jsonl.gz", ".json")):
                recs = ((rec["id"], rec["text"]) for rec in _iter_jsonl(f, field))
            elif name.endswith(".parquet"):
                recs = _read_parquet(f, field)
            else:
                recs = _read_text_file(f, hint)
            for rid, t in recs:
                if not isinstance(t, str):
                    raise CorpusError(f"{f}: field '{field}' holds {type(t).__name__}, not text")
                yield (str(rid) if len(files) == 1 else f"{f.relative_to(path) if path.is_dir() else f.name}:{rid}"), t

    return CorpusStream(spec, "file", lang, None, opener, False, "natural", {"path": str(path)})


def _open_hf(rest: str, spec: str) -> CorpusStream:
    """hf:DATASET[:CONFIG][@SPLIT][#FIELD]; a local `save_to_disk` folder works too."""
    field = "text"
    if "#" in rest:
        rest, field = rest.rsplit("#", 1)
    split = "train"
    if "@" in rest:
        rest, split = rest.rsplit("@", 1)
    name, _, config = rest.partition(":")
    try:
        import datasets
    except ImportError:  # pragma: no cover
        raise CorpusError("Hugging Face datasets need the 'datasets' package: pip install datasets") from None

    import logging

    # The hub client logs every retry as a warning (or, with its stream gone, a logging traceback);
    # a failure is reported as one line below.
    for noisy in ("huggingface_hub", "datasets", "fsspec"):
        logging.getLogger(noisy).setLevel(logging.ERROR)

    def load():
        try:
            local = Path(name)
            if local.is_dir() and any((local / f).exists() for f in ("state.json", "dataset_dict.json")):
                ds = datasets.load_from_disk(name)
                if isinstance(ds, datasets.DatasetDict):
                    ds = ds[split]
                return ds
            return datasets.load_dataset(name, config or None, split=split, streaming=True)
        except Exception as exc:
            raise CorpusError(f"cannot load Hugging Face dataset '{name}' ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}); check the name and that it is cached or you are online") from None

    load()  # fail at resolution time, not in the middle of a command

    def opener(hint):
        for n, row in enumerate(load()):
            if field not in row:
                raise CorpusError(f"dataset '{name}' has no field '{field}' (fields: {', '.join(row)}); pick one with '#FIELD'")
            t = row[field]
            if t:
                yield str(row.get("id", n)), t

    return CorpusStream(spec, f"hf:{name}", config or None, split, opener, False, "natural", {"dataset": name})


def _looks_bundled(spec: str) -> re.Match | None:
    m = _BUNDLED.match(spec)
    if m and not Path(spec).exists():
        try:
            if m.group("name") in manifest()["corpora"]:
                return m
        except InputNotFoundError:
            return None
    return None


def open_streams(spec: str) -> list[CorpusStream]:
    """Every :class:`CorpusStream` a spec names (one per language for 'libreoffice@test'), unread."""
    spec = spec.strip()
    if not spec:
        raise CorpusError("empty corpus spec; give e.g. 'libreoffice:en@test' or a file path")
    if spec.startswith("hf:"):
        return [_open_hf(spec[3:], spec)]
    m = _looks_bundled(spec)
    if m:
        name = m.group("name")
        info = corpus_info(name)
        split = m.group("split")
        if split and split not in info.get("splits", []):
            raise CorpusError(f"split '{split}' is not in corpus '{name}' (splits: {', '.join(info.get('splits', []))})")
        if m.group("langs") is not None:
            langs = [resolve_language(name, code) for code in m.group("langs").split(",") if code.strip()]
            if not langs:
                raise CorpusError(f"'{spec}' names no language; write e.g. '{name}:en' or '{name}' for all of them")
        else:
            langs = sorted(info["languages"])
        return [_open_bundled(name, lang, split, spec) for lang in langs]
    path, field, langs = split_local(spec)
    if path is None:
        hint = ""
        if _BUNDLED.match(spec):
            try:
                hint = f"; bundled corpora are: {', '.join(bundled_corpora())}"
            except InputNotFoundError:
                pass
        raise InputNotFoundError(f"no corpus or file named '{spec}'{hint}")
    if _is_parallel_local(path, langs):
        # A parallel file is small by nature (aligned translations): read it here, keep its own caps.
        from tokbench.corpora.parallel import read_parallel

        return [as_stream(s) for s in read_parallel(path, langs, None, spec)]
    if langs and len(langs) > 1:
        raise CorpusError(f"'{spec}' gives {len(langs)} languages to one text; write one, e.g. '{path}:{langs[0]}' "
                          "(several languages need a parallel .tsv or a folder given as --premium-corpus)")
    return [_open_local(path, field, spec, langs[0] if langs else None)]


def _is_parallel_local(path: Path, langs: list[str] | None) -> bool:
    """A .tsv; or a folder of per-language files (FLORES-200's eng_Latn.dev ...) when languages are named
    on it ('flores/dev:eng_Latn,deu_Latn') or it holds no text shards (.txt, .jsonl, .parquet) at all."""
    if path.is_file():
        return path.name.endswith(PARALLEL_SUFFIXES)
    if not path.is_dir():
        return False
    if langs:
        return True
    from tokbench.corpora.langs import is_lang_code

    names = [p.name for p in path.iterdir() if p.is_file() and not p.name.startswith(".")]
    return (not any(n.endswith(TEXT_SUFFIXES) for n in names)
            and sum(1 for n in names if is_lang_code(n.split(".")[0])) >= 2)


def split_local(spec: str) -> tuple[Path | None, str, list[str] | None]:
    """A local spec -> (path, text field, languages); path None when no such file exists.

    ``PATH[#FIELD][:LANG[,LANG...]]``: the whole spec is tried as a path first, so a file whose name holds
    a colon or '#' is still found; a suffix counts as a language only when it looks like one (``tr``,
    ``tur``, ``eng_Latn``, ``pt-BR``).

    >>> split_local("no/such/file.txt:tr")
    (None, 'text', None)
    """
    from tokbench.corpora.langs import is_lang_code

    candidates: list[tuple[str, str, list[str] | None]] = [(spec, "text", None)]
    head, sep, tail = spec.rpartition(":")
    langs = [c.strip() for c in tail.split(",") if c.strip()] if sep and head else []
    if langs and all(is_lang_code(c) for c in langs):
        candidates.append((head, "text", langs))
    for path_str, _, lang in reversed(list(candidates)):  # 'x.jsonl#body:tr' is field 'body', language 'tr'
        if "#" in path_str:
            p, _, field = path_str.rpartition("#")
            if p and field:
                candidates.append((p, field, lang))
    for path_str, field, lang in candidates:
        path = Path(path_str).expanduser()
        if path.exists():
            return path, field, lang
    return None, "text", None


def open_stream(spec: str) -> CorpusStream:
    """The one :class:`CorpusStream` a spec names; an error when it names several languages."""
    streams = open_streams(spec)
    if len(streams) != 1:
        raise CorpusError(f"'{spec}' names {len(streams)} sources; name one language, e.g. '{streams[0].corpus}:{streams[0].lang}'")
    return streams[0]


def load_sources(spec: str, max_bytes: int | None = None) -> list[TextSource]:
    """Every :class:`TextSource` a spec names, read into memory (one per language for 'libreoffice@test').

    ``max_bytes`` caps each returned source exactly (see :mod:`tokbench.corpora.stream`).
    """
    path, _, langs = split_local(spec.strip()) if not spec.strip().startswith("hf:") else (None, None, None)
    if path is not None and _is_parallel_local(path, langs) and not _looks_bundled(spec.strip()):
        from tokbench.corpora.parallel import read_parallel  # its cap keeps translations aligned

        return [_check_nonempty(s) for s in read_parallel(path, langs, max_bytes, spec.strip())]
    return [_check_nonempty(s.materialise(max_bytes)) for s in open_streams(spec)]


def open_capped_streams(spec: str, max_bytes: int | None = None) -> list[tuple[CorpusStream, int | None]]:
    """The sources of a spec as ``(stream, cap)`` pairs to read with ``stream.records(cap)``: the same text
    :func:`load_sources` reads, without reading it. A local parallel file (.tsv, .jsonl of languages, a
    folder of per-language files) is the exception: its cap keeps translations aligned, so it is read
    here with that cap (it is small by nature) and each language comes back as an in-memory stream."""
    path, _, langs = split_local(spec.strip()) if not spec.strip().startswith("hf:") else (None, None, None)
    if path is not None and _is_parallel_local(path, langs) and not _looks_bundled(spec.strip()):
        return [(as_stream(s), None) for s in load_sources(spec, max_bytes)]
    return [(s, max_bytes) for s in open_streams(spec)]


def load_source(spec: str, max_bytes: int | None = None) -> TextSource:
    """The one :class:`TextSource` a spec names; an error when it names several languages."""
    sources = load_sources(spec, max_bytes)
    if len(sources) != 1:
        raise CorpusError(f"'{spec}' names {len(sources)} sources; name one language, e.g. '{sources[0].corpus}:{sources[0].lang}'")
    return sources[0]


def _check_nonempty(src: TextSource) -> TextSource:
    if not src.texts or src.n_bytes == 0:
        raise CorpusError(f"corpus '{src.spec}' is empty: it has no text to use")
    return src


def load_parallel(spec: str, max_bytes: int | None = None) -> list[TextSource]:
    """Every language of a parallel corpus spec, aligned by id (see the module docstring)."""
    from tokbench.corpora.parallel import FORMATS, read_parallel

    path, _, langs = split_local(spec.strip())
    if path is not None and (path.is_dir() or path.name.endswith((".tsv", ".jsonl", ".jsonl.gz"))):
        sources = read_parallel(path, langs, max_bytes, spec)
    else:
        if path is None and not spec.strip():
            raise CorpusError(f"empty parallel corpus spec; give {FORMATS}")
        sources = load_sources(spec, max_bytes)
        if not sources[0].parallel:
            raise CorpusError(f"'{spec}' is not parallel text; the token premium needs translations aligned by id: give {FORMATS}")
    empty = [s.lang for s in sources if not s.texts]
    if empty:
        raise CorpusError(f"parallel corpus '{spec}' has no text in {', '.join(map(str, empty))}")
    return sources
