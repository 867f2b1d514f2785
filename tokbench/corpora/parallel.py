"""Parallel text in the formats people have it: one :class:`TextSource` per language, aligned by id.

* a folder with one file per language, aligned by line (FLORES-200: ``dev/eng_Latn.dev``,
  ``dev/deu_Latn.dev``; the language is the file name up to its first dot);
* a ``.tsv`` whose header names one language per column (an optional ``id`` column keys the rows);
  cells are split on tabs, no quoting;
* a ``.jsonl`` (or ``.jsonl.gz``) with one object per line, one key per language (optional ``id``).

Line (or row) ``n`` of every language is segment ``n``: the token premium pairs segments by that id, and
a language that leaves a line empty simply has no segment there. ``PATH:LANG,LANG`` keeps some languages.
``max_bytes`` caps each language, as for every other spec.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from tokbench.corpora.langs import is_lang_code, same_language
from tokbench.corpora.source import TextSource
from tokbench.errors import CorpusError, CorruptFileError, InputNotFoundError

FORMATS = ("a bundled parallel corpus (udhr, libreoffice@test), a folder with one file per language "
           "(FLORES-200: eng_Latn.dev, deu_Latn.dev), or a .tsv/.jsonl with one column per language")


def read_parallel(path: Path, langs: list[str] | None, max_bytes: int | None, spec: str) -> list[TextSource]:
    """A local folder, .tsv or .jsonl as one source per language."""
    if path.is_dir():
        columns = _read_folder(path, max_bytes)
    elif path.name.endswith(".tsv"):
        columns = _read_tsv(path, max_bytes)
    elif path.name.endswith((".jsonl", ".jsonl.gz")):
        columns = _read_jsonl(path, max_bytes)
    else:
        raise CorpusError(f"{path} is not a parallel corpus; give {FORMATS}")
    if langs:
        chosen = {}
        for want in langs:
            hits = [c for c in columns if c == want] or [c for c in columns if same_language(c, want)]
            if not hits:
                raise CorpusError(f"language '{want}' is not in {path} (it has: {', '.join(columns)})")
            chosen[hits[0]] = columns[hits[0]]
        columns = chosen
    corpus = path.name if path.name else str(path)
    return [TextSource(f"{path}:{lang}", corpus, lang, None, ids, texts, True, "natural", {"path": str(path)})
            for lang, (ids, texts) in columns.items()]


Columns = dict[str, tuple[list[str], list[str]]]


def _add(columns: Columns, lang: str, seg_id: str, text: str, max_bytes: int | None, used: dict[str, int]) -> None:
    if not text.strip() or (max_bytes is not None and used.get(lang, 0) >= max_bytes):
        return
    ids, texts = columns.setdefault(lang, ([], []))
    ids.append(seg_id)
    texts.append(text)
    used[lang] = used.get(lang, 0) + len(text.encode("utf-8"))


def _full(used: dict[str, int], langs, max_bytes: int | None) -> bool:
    return max_bytes is not None and all(used.get(l, 0) >= max_bytes for l in langs)


def _read_folder(folder: Path, max_bytes: int | None) -> Columns:
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                   and is_lang_code(p.name.split(".")[0]))
    if len(files) < 2:
        raise CorpusError(f"folder {folder} has {len(files)} file(s) named by language; a parallel folder holds one "
                          "file per language with aligned lines, e.g. eng_Latn.dev and deu_Latn.dev")
    langs = [p.name.split(".")[0] for p in files]
    dupes = sorted({l for l in langs if langs.count(l) > 1})
    if dupes:
        raise CorpusError(f"folder {folder} has several files for {', '.join(dupes)}; keep one file per language (one split per folder)")
    columns: Columns = {}
    lines: dict[str, int] = {}
    for f, lang in zip(files, langs):
        used: dict[str, int] = {}
        n = 0
        columns[lang] = ([], [])
        for n, line in enumerate(_lines(f), 1):
            _add(columns, lang, str(n), line, max_bytes, used)
            if _full(used, [lang], max_bytes):
                break
        lines[lang] = n
    if max_bytes is None and len(set(lines.values())) > 1:
        counts = ", ".join(f"{l} {n}" for l, n in lines.items())
        raise CorpusError(f"the files in {folder} are not aligned: they have different line counts ({counts}); "
                          "line n of every file must translate line n of the others")
    return columns


def _lines(path: Path):
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8", newline="") as f:
            for line in f:
                if "\0" in line:
                    raise CorruptFileError(f"{path} looks like a binary file, not text")
                yield line.rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise CorruptFileError(f"{path} is not UTF-8 (byte {exc.start}); convert it with iconv -t UTF-8 first") from None
    except (EOFError, gzip.BadGzipFile) as exc:
        raise CorruptFileError(f"{path} cannot be read ({exc}); is it a truncated or non-gzip file?") from None


def _header_langs(path: Path, names: list[str]) -> list[str]:
    bad = [n for n in names if not is_lang_code(n)]
    if bad:
        raise CorpusError(f"{path}: column '{bad[0]}' is not a language code; name each column by its language "
                          "(en, deu, eng_Latn ...) and the optional key column 'id'")
    if len(names) < 2:
        raise CorpusError(f"{path} has {len(names)} language column(s); parallel text needs two or more")
    if len(set(names)) != len(names):
        raise CorpusError(f"{path}: a language appears in two columns")
    return names


def _read_tsv(path: Path, max_bytes: int | None) -> Columns:
    rows = _lines(path)
    header = next(rows, None)
    if header is None:
        raise CorpusError(f"{path} is empty; a parallel .tsv starts with a header naming the languages, e.g. 'id<TAB>en<TAB>de'")
    names = [h.strip() for h in header.split("\t")]
    id_col = next((i for i, h in enumerate(names) if h.lower() == "id"), None)
    langs = _header_langs(path, [h for i, h in enumerate(names) if i != id_col])
    cols = [i for i in range(len(names)) if i != id_col]
    columns: Columns = {l: ([], []) for l in langs}
    used: dict[str, int] = {}
    for n, row in enumerate(rows, 2):
        if not row.strip():
            continue
        cells = row.split("\t")
        if len(cells) != len(names):
            raise CorruptFileError(f"{path}:{n}: {len(cells)} cells, the header has {len(names)}; cells are split on tabs (no quoting)")
        seg_id = cells[id_col] if id_col is not None else str(n - 1)
        for lang, i in zip(langs, cols):
            _add(columns, lang, seg_id, cells[i], max_bytes, used)
        if _full(used, langs, max_bytes):
            break
    return columns


def _read_jsonl(path: Path, max_bytes: int | None) -> Columns:
    columns: Columns = {}
    used: dict[str, int] = {}
    for n, line in enumerate(_lines(path), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorruptFileError(f"{path}:{n}: not valid JSON ({exc.msg}); each line holds one object, a key per language") from None
        if not isinstance(rec, dict):
            raise CorruptFileError(f"{path}:{n}: expected an object with one key per language, e.g. {{\"en\": ..., \"de\": ...}}")
        seg_id = str(rec.get("id", n))
        for key, text in rec.items():
            if key != "id" and isinstance(text, str) and is_lang_code(key):
                _add(columns, key, seg_id, text, max_bytes, used)
        if columns and _full(used, columns, max_bytes):
            break
    if len(columns) < 2:
        raise CorpusError(f"{path} has {len(columns)} language key(s); a parallel .jsonl holds one key per language "
                          "in every line, e.g. {\"id\": 1, \"en\": \"...\", \"de\": \"...\"}")
    return columns


def pick_reference(sources: list[TextSource], lang: str, spec: str) -> TextSource:
    """The source in ``lang`` (any spelling: eng, en, eng_Latn); one clear error when there is none."""
    from tokbench.corpora.bundled import manifest, resolve_language

    corpus = sources[0].corpus
    if sources[0].corpus != "file" and corpus in _bundled_names(manifest):
        code = resolve_language(corpus, lang)
        hits = [s for s in sources if s.lang == code]
    else:
        hits = [s for s in sources if s.lang == lang] or [s for s in sources if s.lang and same_language(s.lang, lang)]
    if not hits:
        have = ", ".join(str(s.lang) for s in sources[:12]) + (" ..." if len(sources) > 12 else "")
        raise CorpusError(f"reference language '{lang}' is not among the languages of '{spec}' ({have}); "
                          "name it in the spec or pick another --reference-lang")
    return hits[0]


def _bundled_names(manifest) -> set[str]:
    try:
        return set(manifest()["corpora"])
    except InputNotFoundError:
        return set()
