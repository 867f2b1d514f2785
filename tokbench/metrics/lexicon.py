"""Lexicon oracles for %TR / %Pure: does a token string form a valid word, a root or a morpheme?

An :class:`Oracle` judges strings of one language. Implementations:

* ``zeyrek`` (Turkish, PyPI ``zeyrek``): a word is valid when the morphological analyser finds at least one
  parse of it on its own (its NLTK sentence tokenizer is bypassed: single words only). Parses through
  the lexicon's 33k proper nouns and 1.5k abbreviations are ignored (they would make 'List', 'Drop',
  'pdf' or 'k' Turkish words). A token is 'pure' when it is a root of zeyrek's lexicon (same exclusions)
  or a suffix surface form (allomorph such as 'lar', 'ımız', 'dan') that zeyrek produces when analysing
  the 20,000 most frequent Turkish words of ``wordfreq``.
* ``hunspell`` (a Debian ``hunspell-LANG`` dictionary read by the pure-Python ``spylls``): a word is valid
  when hunspell accepts it (its affix rules generate inflected forms). The dictionary is fetched with
  ``apt-get download`` into the tokbench cache on first use (MPL/GPL/LGPL per dictionary, not bundled).
* ``wordfreq`` (any of its ~40 languages, PyPI ``wordfreq``): a word is valid when it is in the language's
  word list (lower-cased); lenient (the lists hold many short fragments). Hunspell and wordfreq know
  nothing of morphemes, so %Pure is not available from them.

Add a language or a lexicon by subclassing :class:`Oracle` and registering it in :data:`ORACLES`.
Verdicts are slow to compute (zeyrek analyses about 1,000 words/s) and are cached on disk per oracle.
"""

from __future__ import annotations

import json
import logging
from functools import cached_property
from typing import Callable, Iterable

import numpy as np

from tokbench.errors import ConfigError, require
from tokbench.files import cache_dir, write_json_atomic

WORD = 1
MORPHEME = 2


def lower(text: str, lang: str) -> str:
    """Lower-case with the Turkish/Azeri dotted and dotless i rules where they apply.

    >>> lower("IĞDIR İzmir", "tr")
    'ığdır izmir'
    """
    if lang in ("tr", "az"):
        text = text.replace("I", "ı").replace("İ", "i")
    return text.lower()


class Oracle:
    """Judges token strings of one language. Subclasses implement :meth:`_judge`."""

    #: short name shown next to every number it produced
    name: str = ""
    lang: str = ""
    #: whether it can tell roots/morphemes (%Pure); False -> %Pure is reported as not available
    has_morphemes: bool = False
    #: human description for reports
    description: str = ""
    version: str = "1"

    def _judge(self, words: list[str]) -> list[int]:
        """Bit flags (WORD | MORPHEME) per string."""
        raise NotImplementedError

    @cached_property
    def _cache_path(self):
        from tokbench.verified_cache import best_effort

        folder = best_effort("lexicon verdicts", cache_dir, "lexicon")
        return folder / f"{self.name}-{self.lang}-v{self.version}.json" if folder else None

    @cached_property
    def _verdicts(self) -> dict[str, int]:
        p = self._cache_path
        if p is not None and p.is_file():
            try:
                got = json.loads(p.read_text("utf-8"))
            except (OSError, ValueError, RecursionError):
                return {}  # a damaged cache is a miss
            if isinstance(got, dict) and all(type(v) is int for v in got.values()):
                return got
        return {}

    def judge(self, words: Iterable[str], advance: Callable[[int], None] | None = None) -> np.ndarray:
        """(len(words),) int8 flags per string, from the on-disk cache where known."""
        words = list(words)
        todo = sorted({w for w in words if w not in self._verdicts})
        if todo:
            chunk = 2000
            for i in range(0, len(todo), chunk):
                part = todo[i : i + chunk]
                self._verdicts.update(zip(part, self._judge(part)))
                if advance:
                    advance(len(part))
            if self._cache_path is not None:
                from tokbench.verified_cache import best_effort

                best_effort("lexicon verdicts", write_json_atomic, self._cache_path, self._verdicts, indent=0)
        return np.array([self._verdicts[w] for w in words], dtype=np.int8)


_NOT_COMMON = ("Prop", "Abbrv")


def _secondary_pos(item) -> str | None:
    pos = getattr(item, "secondary_pos", None)
    return getattr(pos, "value", pos)


class ZeyrekOracle(Oracle):
    name = "zeyrek"
    lang = "tr"
    has_morphemes = True
    version = "2"
    description = ("zeyrek 0.1.3 morphological analyser (valid word: at least one parse of the token alone, "
                   "proper-noun and abbreviation entries ignored); pure: a root of its lexicon (same exclusions), "
                   "or a suffix surface form seen in zeyrek's parses of wordfreq's 20k most frequent Turkish words")

    @cached_property
    def analyzer(self):
        zeyrek = require("zeyrek", "lexicon")
        # zeyrek logs every unknown word at WARNING; silence it while we feed it fragments on purpose.
        logging.getLogger("zeyrek").setLevel(logging.ERROR)
        logging.getLogger("zeyrek.rulebasedanalyzer").setLevel(logging.ERROR)
        return zeyrek.MorphAnalyzer()

    def _parses(self, word: str):
        try:
            parses = self.analyzer._parse(word)
        except Exception:  # zeyrek raises on odd input (digits, symbols); those are not words
            return []
        return [p for p in parses if p is not None and _secondary_pos(p.dict_item) not in _NOT_COMMON]

    @cached_property
    def roots(self) -> frozenset[str]:
        return frozenset(lower(item.root, "tr") for item in self.analyzer.lexicon.item_set
                         if item.root and _secondary_pos(item) not in _NOT_COMMON)

    @cached_property
    def suffixes(self) -> frozenset[str]:
        from tokbench.verified_cache import best_effort

        folder = best_effort("lexicon suffixes", cache_dir, "lexicon")
        path = folder / f"zeyrek-tr-suffixes-v{self.version}.json" if folder else None
        if path is not None and path.is_file():
            try:
                got = json.loads(path.read_text("utf-8"))
            except (OSError, ValueError, RecursionError):
                got = None  # a damaged cache is a miss
            if isinstance(got, list) and all(isinstance(x, str) for x in got):
                return frozenset(got)
        wordfreq = require("wordfreq", "lexicon")
        found: set[str] = set()
        for w in wordfreq.top_n_list("tr", 20000):
            for parse in self._parses(w):
                for _, surface in parse.morphemes[1:]:
                    if surface:
                        found.add(lower(surface, "tr"))
        if path is not None:
            best_effort("lexicon suffixes", write_json_atomic, path, sorted(found))
        return frozenset(found)

    def _judge(self, words: list[str]) -> list[int]:
        roots, suffixes = self.roots, self.suffixes
        out = []
        for w in words:
            low = lower(w, "tr")
            flags = WORD if self._parses(w) or (low != w and self._parses(low)) else 0
            if low in roots or low in suffixes:
                flags |= MORPHEME
            out.append(flags)
        return out


class WordfreqOracle(Oracle):
    name = "wordfreq"
    has_morphemes = False
    version = "1"

    def __init__(self, lang: str):
        self.lang = lang
        self.description = f"wordfreq 3.x word list for '{lang}' (valid word: the lower-cased token is listed)"

    @cached_property
    def words(self) -> frozenset[str]:
        wordfreq = require("wordfreq", "lexicon")
        if self.lang not in wordfreq.available_languages():
            raise ConfigError(f"wordfreq has no word list for '{self.lang}'; it has: {', '.join(sorted(wordfreq.available_languages()))}")
        return frozenset(wordfreq.get_frequency_dict(self.lang, wordlist="best"))

    def _judge(self, words: list[str]) -> list[int]:
        known = self.words
        return [WORD if lower(w, self.lang) in known else 0 for w in words]


#: language -> (Debian package, dictionary file stem) of the hunspell dictionaries tokbench knows.
HUNSPELL_PACKAGES: dict[str, tuple[str, str]] = {
    "tr": ("hunspell-tr", "tr_TR"), "de": ("hunspell-de-de", "de_DE"), "fr": ("hunspell-fr-classical", "fr"),
    "es": ("hunspell-es", "es_ES"), "it": ("hunspell-it", "it_IT"), "pt": ("hunspell-pt-pt", "pt_PT"),
    "ru": ("hunspell-ru", "ru_RU"), "pl": ("hunspell-pl", "pl_PL"), "nl": ("hunspell-nl", "nl"),
    "sv": ("hunspell-sv", "sv_SE"), "hu": ("hunspell-hu", "hu_HU"), "cs": ("hunspell-cs", "cs_CZ"),
}


def fetch_hunspell(lang: str):
    """Path stem (without .dic/.aff) of the hunspell dictionary of ``lang`` in the cache, fetching the
    Debian package with ``apt-get download`` the first time."""
    import glob
    import shutil
    import subprocess
    import tempfile

    from tokbench.errors import InputNotFoundError, MissingDependencyError

    if lang not in HUNSPELL_PACKAGES:
        raise ConfigError(f"no hunspell dictionary known for '{lang}' (known: {', '.join(sorted(HUNSPELL_PACKAGES))}); use the wordfreq oracle")
    package, stem = HUNSPELL_PACKAGES[lang]
    try:
        folder = cache_dir(f"lexicon/hunspell/{package}")
    except OSError as exc:
        raise MissingDependencyError(f"the hunspell oracle needs a writable cache for {package} ({exc.strerror}: {exc.filename}); use the wordfreq oracle") from None
    found = sorted(glob.glob(str(folder / "**" / f"{stem}.dic"), recursive=True))
    if found:
        return found[0][: -len(".dic")]
    if not (shutil.which("apt-get") and shutil.which("dpkg-deb")):
        raise MissingDependencyError(f"the hunspell oracle needs the Debian package {package}; on a Debian/Ubuntu system tokbench fetches it with apt-get download (not found here): use the wordfreq oracle instead")
    with tempfile.TemporaryDirectory(dir=folder.parent) as tmp:
        r = subprocess.run(["apt-get", "download", package], cwd=tmp, capture_output=True, text=True)
        debs = glob.glob(f"{tmp}/*.deb")
        if r.returncode != 0 or not debs:
            raise InputNotFoundError(f"cannot download {package} with apt-get ({(r.stderr or r.stdout).strip().splitlines()[-1:] or ['no output']}); run 'apt-get update' or use the wordfreq oracle")
        subprocess.run(["dpkg-deb", "-x", debs[0], str(folder)], check=True, capture_output=True)
    found = sorted(glob.glob(str(folder / "**" / f"{stem}.dic"), recursive=True))
    if not found:
        raise InputNotFoundError(f"{package} holds no {stem}.dic; use the wordfreq oracle")
    return found[0][: -len(".dic")]


class HunspellOracle(Oracle):
    name = "hunspell"
    has_morphemes = False
    version = "1"

    def __init__(self, lang: str):
        self.lang = lang
        package = HUNSPELL_PACKAGES.get(lang, ("?",))[0]
        self.description = f"hunspell dictionary of Debian {package} read with spylls (valid word: hunspell accepts the token)"

    @cached_property
    def dictionary(self):
        require("spylls", "lexicon")
        from spylls.hunspell import Dictionary

        # Loading a large dictionary takes ~10-30 s; verdicts are cached, so it happens only for new tokens.
        return Dictionary.from_files(fetch_hunspell(self.lang))

    def _judge(self, words: list[str]) -> list[int]:
        d = self.dictionary
        out = []
        for w in words:
            try:
                ok = bool(w) and d.lookup(w)
            except Exception:  # spylls can trip over odd characters; such strings are not words
                ok = False
            out.append(WORD if ok else 0)
        return out


def _zeyrek(lang: str) -> Oracle:
    return ZeyrekOracle()


#: oracle name -> factory(lang). The default oracles of a language are in :data:`DEFAULT_ORACLES`.
ORACLES: dict[str, Callable[[str], Oracle]] = {"zeyrek": _zeyrek, "hunspell": HunspellOracle, "wordfreq": WordfreqOracle}
DEFAULT_ORACLES: dict[str, tuple[str, ...]] = {"tr": ("zeyrek", "hunspell")}


def default_oracles(lang: str) -> tuple[str, ...]:
    """Turkish: zeyrek and hunspell; languages with a known hunspell dictionary: hunspell; else wordfreq."""
    if lang in DEFAULT_ORACLES:
        return DEFAULT_ORACLES[lang]
    return ("hunspell",) if lang in HUNSPELL_PACKAGES else ("wordfreq",)


def oracles_for(lang: str, names: Iterable[str] | None = None) -> list[Oracle]:
    """The oracles to judge ``lang`` with: the named ones, else :func:`default_oracles`."""
    names = list(names) if names else list(default_oracles(lang))
    out = []
    for n in names:
        if n not in ORACLES:
            raise ConfigError(f"unknown lexicon oracle '{n}'; choose from: {', '.join(ORACLES)}")
        if n == "zeyrek" and lang != "tr":
            raise ConfigError(f"the zeyrek oracle judges Turkish only, not '{lang}'; use wordfreq for '{lang}'")
        out.append(ORACLES[n](lang))
    return out
