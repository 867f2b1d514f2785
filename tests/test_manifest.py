"""Checks of the committed corpora against corpora/MANIFEST.json (built by scripts/build_corpora.py)."""

from __future__ import annotations

import collections
import functools
import gzip
import hashlib
import json
import unicodedata
from pathlib import Path

import pytest

CORPORA = Path(__file__).resolve().parent.parent / "corpora"
MANIFEST = CORPORA / "MANIFEST.json"

pytestmark = pytest.mark.skipif(not MANIFEST.exists(), reason="corpora/MANIFEST.json not built")


@functools.lru_cache(maxsize=None)
def manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def _entries():
    for cname, corpus in sorted(manifest().get("corpora", {}).items()):
        for lang, meta in sorted(corpus["languages"].items()):
            for split, info in sorted(meta["splits"].items()):
                yield cname, lang, split, info


class Scan:
    """What the tests need to know about one .jsonl.gz file (computed once, records not kept)."""

    def __init__(self, file: str, kind: str):
        raw = (CORPORA / file).read_bytes()
        self.head = raw[:10]
        self.sha256 = hashlib.sha256(raw).hexdigest()
        self.ids: list[str] = []
        self.docs: set[str] = set()
        self.bytes = 0
        self.problems: list[str] = []
        for line in gzip.decompress(raw).decode("utf-8").split("\n"):
            if not line:
                continue
            r = json.loads(line)
            rid, t = r.get("id"), r.get("text")
            if set(r) - {"id", "text", "doc"} or not isinstance(rid, str) or not rid or not isinstance(t, str):
                self.problems.append(f"bad record {line[:80]}")
                continue
            self.ids.append(rid)
            self.docs.add(r.get("doc", rid))
            self.bytes += len(t.encode("utf-8"))
            if not t.strip():
                self.problems.append(f"{rid}: empty text")
            elif kind == "natural" and (t != t.strip() or "  " in t or "\t" in t
                                        or not unicodedata.is_normalized("NFC", t)):
                self.problems.append(f"{rid}: text not stripped/collapsed/NFC")


@functools.lru_cache(maxsize=None)
def _scan(file: str, kind: str) -> Scan:
    return Scan(file, kind)


def _scan_entry(cname: str, info: dict) -> Scan:
    return _scan(info["file"], manifest()["corpora"][cname]["kind"])


def test_manifest_shape():
    m = manifest()
    assert m["format_version"] == 1
    text = MANIFEST.read_text(encoding="utf-8")
    assert text == json.dumps(m, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert m["corpora"], "no corpora"
    for cname, c in m["corpora"].items():
        for key in ("description", "parallel", "align", "kind", "source", "licence", "splits", "default_split",
                    "languages"):
            assert key in c, (cname, key)
        assert c["kind"] in ("natural", "code"), cname
        assert c["align"] in ("article", "paragraph", None), cname
        assert (c["align"] is not None) == c["parallel"], cname
        assert c["source"]["registry"] in ("npm", "debian", "pypi", "python-stdlib"), cname
        assert c["default_split"] in c["splits"], cname
        assert c["languages"], cname
        for lang, meta in c["languages"].items():
            assert lang == lang.lower(), (cname, lang)
            assert set(meta["splits"]) <= set(c["splits"]), (cname, lang)
            assert meta["splits"], (cname, lang)
            for key in ("name", "iso639_3", "iso639_1", "script", "preferred"):
                assert key in meta, (cname, lang, key)
            if c["kind"] == "natural":
                assert isinstance(meta["iso639_3"], str) and len(meta["iso639_3"]) == 3, (cname, lang)
            assert meta["iso639_1"] is None or len(meta["iso639_1"]) == 2, (cname, lang)
            assert isinstance(meta["script"], str) and len(meta["script"]) == 4, (cname, lang)
            for split, info in meta["splits"].items():
                assert info["file"] == f"{cname}/{lang}.{split}.jsonl.gz", (cname, lang, split)


def test_one_preferred_per_iso639_3():
    for cname, c in manifest()["corpora"].items():
        groups = collections.defaultdict(list)
        for lang, meta in c["languages"].items():
            assert isinstance(meta["preferred"], bool), (cname, lang)
            groups[meta["iso639_3"]].append(meta["preferred"])
        for iso, prefs in groups.items():
            if iso is None:  # programming languages
                assert all(prefs), cname
            else:
                assert sum(prefs) == 1, (cname, iso, prefs)


def test_files_match_manifest():
    listed = set()
    for cname, lang, split, info in _entries():
        path = CORPORA / info["file"]
        assert path.is_file(), info["file"]
        listed.add(path)
        scan = _scan_entry(cname, info)
        assert scan.sha256 == info["sha256"], info["file"]
        assert len(scan.ids) == info["documents"], info["file"]
        assert scan.bytes == info["bytes"], info["file"]
        assert len(scan.ids) == len(set(scan.ids)), f"duplicate ids in {info['file']}"
        assert not scan.problems, (info["file"], scan.problems[:5])
        assert scan.ids, info["file"]
    on_disk = set(CORPORA.rglob("*.jsonl.gz"))
    assert on_disk == listed, f"unlisted files: {sorted(map(str, on_disk - listed))}"


def test_gzip_is_deterministic():
    """Members carry mtime 0 and no file name, so rebuilding gives byte-identical files."""
    for cname, _, _, info in _entries():
        head = _scan_entry(cname, info).head
        assert head[:3] == b"\x1f\x8b\x08", info["file"]
        assert head[3] == 0, f"{info['file']}: gzip header has flags (file name?)"
        assert head[4:8] == b"\0\0\0\0", f"{info['file']}: gzip mtime is not 0"


def test_parallel_ids_share_one_id_space():
    for cname, c in manifest()["corpora"].items():
        if not c["parallel"]:
            continue
        langs = c["languages"]
        for split in c["splits"]:
            idsets = {lang: set(_scan_entry(cname, meta["splits"][split]).ids)
                      for lang, meta in langs.items() if split in meta["splits"]}
            if not idsets:
                continue
            # the reference id space is the preferred English (en-us for libreoffice, en for gnome-help), or
            # else the language with the most ids; every language's ids must be a subset of it
            english = [lang for lang in sorted(idsets) if langs[lang]["iso639_3"] == "eng" and langs[lang]["preferred"]]
            ref = english[0] if english else max(sorted(idsets), key=lambda lang: len(idsets[lang]))
            for lang, ids in idsets.items():
                assert ids <= idsets[ref], (cname, split, lang, sorted(ids - idsets[ref])[:5])
        if cname == "udhr":
            for lang, meta in langs.items():
                assert _scan_entry(cname, meta["splits"]["all"]).ids == [f"a{n:02d}" for n in range(1, 31)], lang


def test_splits_do_not_share_documents():
    for cname, c in manifest()["corpora"].items():
        if len(c["splits"]) < 2:
            continue
        for lang, meta in c["languages"].items():
            seen: dict[str, str] = {}
            for split, info in meta["splits"].items():
                for doc in _scan_entry(cname, info).docs:
                    assert seen.setdefault(doc, split) == split, (cname, lang, doc)
