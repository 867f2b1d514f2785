"""Parse corpus specs and load them into :class:`TextSource` objects."""

from __future__ import annotations

import gzip
import json
import os
import re
from functools import lru_cache
from pathlib import Path

from tokbench.corpora.source import TextSource
from tokbench.errors import CorpusError, CorruptFileError, InputNotFoundError

_WEIGHT = re.compile(r"^(?P<spec>.+)=(?P<w>[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)$")
_BUNDLED = re.compile(r"^(?P<name>[a-z][a-z0-9_-]*)(?::(?P<langs>[^@#=]+))?(?:@(?P<split>[A-Za-z0-9_-]+))?$")
TEXT_SUFFIXES = (".txt", ".jsonl", ".jsonl.gz", ".json", ".parquet")
#: one segment per line: .txt, and FLORES-200's per-language files (eng_Latn.dev, eng_Latn.devtest)
LINE_SUFFIXES = (".txt", ".dev", ".devtest")
#: parallel text in one file, one column per language (see tokbench.corpora.parallel)
PARALLEL_SUFFIXES = (".tsv",)


def corpora_root() -> Path:
    """The bundled corpora: $TOKBENCH_CORPORA, else the copy installed with the package
    (tokbench/bundled_corpora/, package data of a wheel or sdist install), else the checkout's corpora/
    folder (a source checkout or an editable install)."""
    env = os.environ.get("TOKBENCH_CORPORA")
    if env:
        return Path(env)
    package = Path(__file__).resolve().parents[1]
    installed = package / "bundled_corpora"
    if (installed / "MANIFEST.json").is_file():
        return installed
    return package.parent / "corpora"


@lru_cache(maxsize=4)
def _load_manifest(path: str) -> dict:
    p = Path(path)
    if not p.exists():
        raise InputNotFoundError(f"bundled corpora not found (no {p}); reinstall tokbench, or point TOKBENCH_CORPORA at a corpora folder")
    return json.loads(p.read_text("utf-8"))


def manifest() -> dict:
    """corpora/MANIFEST.json as a dict."""
    return _load_manifest(str(corpora_root() / "MANIFEST.json"))


def bundled_corpora() -> list[str]:
    return sorted(manifest()["corpora"])


def corpus_info(name: str) -> dict:
    corpora = manifest()["corpora"]
    if name not in corpora:
        raise CorpusError(f"unknown corpus '{name}'; bundled corpora are: {', '.join(sorted(corpora))} (see `tokbench corpora list`)")
    return corpora[name]


def parse_weighted(spec: str) -> tuple[str, float]:
    """Split 'SPEC=WEIGHT' into (spec, weight); weight 1.0 when absent.

    >>> parse_weighted("libreoffice:de@train=0.6")
    ('libreoffice:de@train', 0.6)
    """
    m = _WEIGHT.match(spec.strip())
    if not m:
        return spec.strip(), 1.0
    w = float(m.group("w"))
    if w <= 0:
        raise CorpusError(f"weight in '{spec}' must be positive")
    return m.group("spec"), w


def resolve_language(corpus: str, lang: str) -> str:
    """Map a user's language code to the corpus's own code.

    Accepts the corpus code ('en-us', 'deu_1996'), ISO 639-1 ('en', 'de') and ISO 639-3 ('eng', 'deu');
    when several corpus codes share one ISO code, the manifest's ``preferred`` one wins.
    """
    langs = corpus_info(corpus)["languages"]
    key = lang.strip().lower().replace("_", "-")
    for code in langs:
        if code.lower().replace("_", "-") == key:
            return code
    base = key.split("-")[0]
    matches = [
        code
        for code, info in langs.items()
        if base in {(info.get("iso639_1") or "").lower(), (info.get("iso639_3") or "").lower()}
        or base in {a.lower() for a in info.get("aliases", [])}
    ]
    if len(matches) > 1:
        preferred = [c for c in matches if langs[c].get("preferred")]
        matches = preferred or sorted(matches)[:1]
    if not matches:
        sample = ", ".join(sorted(langs)[:12]) + (" ..." if len(langs) > 12 else "")
        raise CorpusError(f"language '{lang}' is not in corpus '{corpus}' (it has {len(langs)}: {sample}); see `tokbench corpora show {corpus}`")
    return matches[0]


def _read_bundled(corpus: str, lang: str, split: str | None, max_bytes: int | None, spec: str) -> TextSource:
    info = corpus_info(corpus)
    entry = info["languages"][lang]
    splits = [split] if split else list(info.get("splits", entry["splits"].keys()))
    for s in splits:
        if s not in entry["splits"]:
            raise CorpusError(f"split '{s}' is not in corpus '{corpus}' (splits: {', '.join(entry['splits'])})")
    ids: list[str] = []
    texts: list[str] = []
    budget = max_bytes if max_bytes is not None else -1
    for s in splits:
        path = corpora_root() / entry["splits"][s]["file"]
        for rec in _iter_jsonl(path):
            t = rec["text"]
            ids.append(rec["id"] if len(splits) == 1 else f"{rec['id']}")
            texts.append(t)
            if budget >= 0:
                budget -= len(t.encode("utf-8"))
                if budget <= 0:
                    break
        if budget == 0 or (max_bytes is not None and budget < 0):
            break
    meta = {k: v for k, v in entry.items() if k != "splits"}
    meta["corpus_source"] = entry.get("source", info.get("source"))
    meta["licence"] = entry.get("licence", info.get("licence"))
    return TextSource(spec, corpus, lang, split, ids, texts, bool(info.get("parallel")), info.get("kind", "natural"), meta)


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
    for (n, _), rec in zip(lines, recs):
        if isinstance(rec, str):
            rec = {"text": rec}
        if not isinstance(rec, dict):
            raise CorruptFileError(f"{path}:{n}: not valid JSON (expected an object); each line of a .jsonl file must be one JSON object")
        if field not in rec:
            raise CorpusError(f"{path}:{n}: no '{field}' field (fields: {', '.join(rec)}); pick one with '{path}#FIELD'")
        if "id" not in rec:
            rec["id"] = f"{path.name}:{n}"
        if field != "text":
            rec["text"] = rec[field]
        yield rec

def _read_text_file(path: Path):
    data = path.read_bytes()
    if b"\0" in data[:65536]:
        raise CorruptFileError(f"{path} looks like a binary file, not text; give a UTF-8 .txt, .jsonl or .parquet file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorruptFileError(f"{path} is not UTF-8 (byte {exc.start}); convert it with iconv -t UTF-8 first") from None
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            yield {"id": f"{path.name}:{n}", "text": line}


def _read_parquet(path: Path, field: str):
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for bad files
        raise CorruptFileError(f"{path} is not a readable parquet file ({exc})") from None
    if field not in table.column_names:
        raise CorpusError(f"{path} has no column '{field}' (columns: {', '.join(table.column_names)}); pick one with '{path}#COLUMN'")
    for n, t in enumerate(table.column(field).to_pylist()):
        if t:
            yield {"id": f"{path.name}:{n}", "text": t}


def _read_local(path: Path, field: str, max_bytes: int | None, spec: str, lang: str | None = None) -> TextSource:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(TEXT_SUFFIXES))
        if not files:
            raise CorpusError(f"folder {path} has no {', '.join(TEXT_SUFFIXES)} files")
    else:
        files = [path]
    ids, texts, total = [], [], 0
    for f in files:
        name = f.name
        if name.endswith((".jsonl", ".jsonl.gz", ".json")):
            recs = _iter_jsonl(f, field)
        elif name.endswith(".parquet"):
            recs = _read_parquet(f, field)
        elif name.endswith(LINE_SUFFIXES) or not f.suffix:
            recs = _read_text_file(f)
        else:
            raise CorpusError(f"{f}: unsupported file type '{f.suffix}'; use .txt, .jsonl(.gz), .parquet or a parallel .tsv")
        for rec in recs:
            t = rec["text"]
            if not isinstance(t, str):
                raise CorpusError(f"{f}: field '{field}' holds {type(t).__name__}, not text")
            ids.append(str(rec["id"]) if len(files) == 1 else f"{f.relative_to(path) if path.is_dir() else f.name}:{rec['id']}")
            texts.append(t)
            total += len(t.encode("utf-8"))
            if max_bytes is not None and total >= max_bytes:
                break
        if max_bytes is not None and total >= max_bytes:
            break
    return TextSource(spec, "file", lang, None, ids, texts, False, "natural", {"path": str(path)})


def _read_hf(rest: str, max_bytes: int | None, spec: str) -> TextSource:
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
    try:
        local = Path(name)
        if local.is_dir() and any((local / f).exists() for f in ("state.json", "dataset_dict.json")):
            ds = datasets.load_from_disk(name)
            if isinstance(ds, datasets.DatasetDict):
                ds = ds[split]
        else:
            ds = datasets.load_dataset(name, config or None, split=split, streaming=True)
    except Exception as exc:
        raise CorpusError(f"cannot load Hugging Face dataset '{name}' ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}); check the name and that it is cached or you are online") from None
    ids, texts, total = [], [], 0
    for n, row in enumerate(ds):
        if field not in row:
            raise CorpusError(f"dataset '{name}' has no field '{field}' (fields: {', '.join(row)}); pick one with '#FIELD'")
        t = row[field]
        if not t:
            continue
        ids.append(str(row.get("id", n)))
        texts.append(t)
        total += len(t.encode("utf-8"))
        if max_bytes is not None and total >= max_bytes:
            break
    return TextSource(spec, f"hf:{name}", config or None, split, ids, texts, False, "natural", {"dataset": name})


def _looks_bundled(spec: str) -> re.Match | None:
    m = _BUNDLED.match(spec)
    if m and not Path(spec).exists():
        try:
            if m.group("name") in manifest()["corpora"]:
                return m
        except InputNotFoundError:
            return None
    return None


def load_sources(spec: str, max_bytes: int | None = None) -> list[TextSource]:
    """Every :class:`TextSource` a spec names (one per language for 'libreoffice@test').

    ``max_bytes`` caps each returned source.
    """
    spec = spec.strip()
    if not spec:
        raise CorpusError("empty corpus spec; give e.g. 'libreoffice:en@test' or a file path")
    if spec.startswith("hf:"):
        return [_check_nonempty(_read_hf(spec[3:], max_bytes, spec))]
    m = _looks_bundled(spec)
    if m:
        name = m.group("name")
        info = corpus_info(name)
        split = m.group("split")
        if split and split not in info.get("splits", []):
            raise CorpusError(f"split '{split}' is not in corpus '{name}' (splits: {', '.join(info.get('splits', []))})")
        if m.group("langs"):
            langs = [resolve_language(name, code) for code in m.group("langs").split(",") if code.strip()]
        else:
            langs = sorted(info["languages"])
        return [_check_nonempty(_read_bundled(name, lang, split, max_bytes, spec)) for lang in langs]
    path, field, langs = split_local(spec)
    if path is None:
        hint = ""
        if _BUNDLED.match(spec):
            try:
                hint = f"; bundled corpora are: {', '.join(bundled_corpora())}"
            except InputNotFoundError:
                pass
        raise InputNotFoundError(f"no corpus or file named '{spec}'{hint}")
    if path.is_file() and path.name.endswith(PARALLEL_SUFFIXES):
        from tokbench.corpora.parallel import read_parallel

        return [_check_nonempty(s) for s in read_parallel(path, langs, max_bytes, spec)]
    if langs and len(langs) > 1:
        raise CorpusError(f"'{spec}' gives {len(langs)} languages to one text; write one, e.g. '{path}:{langs[0]}' "
                          "(several languages need a parallel .tsv or a folder given as --premium-corpus)")
    return [_check_nonempty(_read_local(path, field, max_bytes, spec, langs[0] if langs else None))]


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
