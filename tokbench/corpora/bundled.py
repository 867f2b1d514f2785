"""The bundled corpora's catalogue: where they live, their manifest, and their language codes."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from tokbench.errors import CorpusError, InputNotFoundError


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
