"""Language codes a user attaches to local text: ``notes.txt:tr``, ``eng_Latn.dev``, a TSV column ``de``.

One comparison for every place that matches a user's code against another (the token premium's reference
language, a lexicon oracle's language): codes are equal when their base language is, whatever the
spelling (``tr`` / ``tur`` / ``tur_Latn`` / ``TR``). ISO 639-3 -> 639-1 comes from the bundled corpora's
manifest (UDHR lists both for hundreds of languages), so no extra package is needed.
"""

from __future__ import annotations

import re
from functools import lru_cache

#: A language code as people write them: ISO 639-1/3, optionally a script or region (``eng_Latn``,
#: ``pt-BR``, ``zh-Hans``). Anything else after a colon is part of a file name.
LANG_CODE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")


def is_lang_code(text: str) -> bool:
    """A language code, not part of a file name.

    >>> is_lang_code("eng_Latn"), is_lang_code("tr"), is_lang_code("v2.txt"), is_lang_code("1")
    (True, True, False, False)
    """
    return bool(LANG_CODE.match(text))


def base_code(code: str) -> str:
    """The language without script or region.

    >>> base_code("eng_Latn"), base_code("pt-BR"), base_code("TR")
    ('eng', 'pt', 'tr')
    """
    return code.strip().lower().replace("_", "-").split("-")[0]


@lru_cache(maxsize=1)
def _iso3_to_1() -> dict[str, str]:
    from tokbench.corpora.bundled import manifest
    from tokbench.errors import InputNotFoundError

    table: dict[str, str] = {}
    try:
        corpora = manifest()["corpora"]
    except InputNotFoundError:  # no bundled corpora: three-letter codes stay as they are
        return table
    for info in corpora.values():
        for entry in info["languages"].values():
            one, three = (entry.get("iso639_1") or "").lower(), (entry.get("iso639_3") or "").lower()
            if one and three:
                table.setdefault(three, one)
    return table


def short_code(code: str) -> str:
    """The ISO 639-1 code when there is one, else the base code: what lexicon oracles are keyed by.

    >>> short_code("tur_Latn"), short_code("de-AT"), short_code("xyz")
    ('tr', 'de', 'xyz')
    """
    base = base_code(code)
    return _iso3_to_1().get(base, base) if len(base) == 3 else base


def same_language(a: str, b: str) -> bool:
    """Whether two codes name one language, whatever their spelling.

    >>> same_language("eng", "eng_Latn"), same_language("en", "eng"), same_language("de", "en")
    (True, True, False)
    """
    return short_code(a) == short_code(b)
