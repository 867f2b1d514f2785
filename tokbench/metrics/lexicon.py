"""Lexicon oracles for %TR / %Pure: does a token string form a valid word, a root or a morpheme?

An :class:`Oracle` judges strings of one language. Implementations:

* ``zeyrek`` (Turkish, PyPI ``zeyrek``): a word is valid when the morphological analyser finds at least one
  parse of it on its own (its NLTK sentence tokenizer is bypassed: single words only). A token is
  'pure' when it is a root of zeyrek's lexicon or a suffix surface form (allomorph such as 'lar', 'ımız',
  'dan') that zeyrek produces when analysing the 20,000 most frequent Turkish words of ``wordfreq``.
* ``wordfreq`` (any of its ~40 languages, PyPI ``wordfreq``): a word is valid when it is in the language's
  word list (lower-cased); it knows nothing of morphemes, so %Pure is not available from it.

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
        return cache_dir("lexicon") / f"{self.name}-{self.lang}-v{self.version}.json"

    @cached_property
    def _verdicts(self) -> dict[str, int]:
        p = self._cache_path
        if p.exists():
            try:
                return json.loads(p.read_text("utf-8"))
            except json.JSONDecodeError:
                return {}
        return {}

    def judge(self, words: Iterable[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """(len(words),) int8 flags per string, from the on-disk cache where known."""
        words = list(words)
        todo = sorted({w for w in words if w not in self._verdicts})
        if todo:
            chunk = 2000
            for i in range(0, len(todo), chunk):
                part = todo[i : i + chunk]
                self._verdicts.update(zip(part, self._judge(part)))
                if progress:
                    progress(len(part))
            write_json_atomic(self._cache_path, self._verdicts, indent=0)
        return np.array([self._verdicts[w] for w in words], dtype=np.int8)


class ZeyrekOracle(Oracle):
    name = "zeyrek"
    lang = "tr"
    has_morphemes = True
    version = "1"
    description = ("zeyrek 0.1.3 morphological analyser (valid word: at least one parse of the token alone); "
                   "pure: a lexicon root, or a suffix surface form seen in zeyrek's parses of wordfreq's 20k "
                   "most frequent Turkish words")

    @cached_property
    def analyzer(self):
        zeyrek = require("zeyrek", "lexicon")
        # zeyrek logs every unknown word at WARNING; silence it while we feed it fragments on purpose.
        logging.getLogger("zeyrek").setLevel(logging.ERROR)
        logging.getLogger("zeyrek.rulebasedanalyzer").setLevel(logging.ERROR)
        return zeyrek.MorphAnalyzer()

    def _parses(self, word: str):
        try:
            return self.analyzer._parse(word)
        except Exception:  # zeyrek raises on odd input (digits, symbols); those are not words
            return []

    @cached_property
    def roots(self) -> frozenset[str]:
        return frozenset(lower(item.root, "tr") for item in self.analyzer.lexicon.item_set if item.root)

    @cached_property
    def suffixes(self) -> frozenset[str]:
        path = cache_dir("lexicon") / "zeyrek-tr-suffixes-v1.json"
        if path.exists():
            return frozenset(json.loads(path.read_text("utf-8")))
        wordfreq = require("wordfreq", "lexicon")
        found: set[str] = set()
        for w in wordfreq.top_n_list("tr", 20000):
            for parse in self._parses(w):
                for _, surface in parse.morphemes[1:]:
                    if surface:
                        found.add(lower(surface, "tr"))
        write_json_atomic(path, sorted(found))
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


def _zeyrek(lang: str) -> Oracle:
    return ZeyrekOracle()


#: oracle name -> factory(lang). The default oracles of a language come first in :data:`DEFAULT_ORACLES`.
ORACLES: dict[str, Callable[[str], Oracle]] = {"zeyrek": _zeyrek, "wordfreq": WordfreqOracle}
DEFAULT_ORACLES: dict[str, tuple[str, ...]] = {"tr": ("zeyrek", "wordfreq")}


def oracles_for(lang: str, names: Iterable[str] | None = None) -> list[Oracle]:
    """The oracles to judge ``lang`` with: the named ones, else the language's defaults (else wordfreq)."""
    names = list(names) if names else list(DEFAULT_ORACLES.get(lang, ("wordfreq",)))
    out = []
    for n in names:
        if n not in ORACLES:
            raise ConfigError(f"unknown lexicon oracle '{n}'; choose from: {', '.join(ORACLES)}")
        if n == "zeyrek" and lang != "tr":
            raise ConfigError(f"the zeyrek oracle judges Turkish only, not '{lang}'; use wordfreq for '{lang}'")
        out.append(ORACLES[n](lang))
    return out
