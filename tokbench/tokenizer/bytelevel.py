"""GPT-2's reversible byte <-> printable-unicode alphabet, used by every byte-level BPE.

Byte-level vocabularies (HF ByteLevel, tiktoken, Tekken) are compared and replayed in this one alphabet:
printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100.. in byte order, so b' ' -> 'Ġ'.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def byte_to_unicode() -> dict[int, str]:
    """byte -> printable character.

    >>> byte_to_unicode()[ord(" ")], byte_to_unicode()[ord("a")]
    ('Ġ', 'a')
    """
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    mapping = {b: chr(b) for b in keep}
    extra = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + extra)
            extra += 1
    return mapping


@lru_cache(maxsize=1)
def unicode_to_byte() -> dict[str, int]:
    return {c: b for b, c in byte_to_unicode().items()}


def bytes_to_symbols(data: bytes) -> str:
    """b' the' -> 'Ġthe'."""
    table = byte_to_unicode()
    return "".join(table[b] for b in data)


def symbols_to_bytes(text: str) -> bytes | None:
    """'Ġthe' -> b' the'; None when ``text`` has a character outside the alphabet."""
    table = unicode_to_byte()
    try:
        return bytes(table[c] for c in text)
    except KeyError:
        return None
