"""Structure checks for tokenizer files from strangers, run before a format library sees them.

The Rust libraries behind the adapters (tokenizers, tiktoken) panic on some malformed inputs (an empty
vocabulary, duplicate ranks, a byte missing from a byte-level vocabulary), and a panic is a
``BaseException`` that ends the process; other inputs are accepted and give silently wrong numbers (a
duplicated id, an id of 2^32 that makes every per-id array 15 GiB). These checks turn all of them into
one :class:`CorruptFileError` that names the file and the fault.
"""

from __future__ import annotations

from typing import Callable, Iterable, TypeVar

from tokbench.errors import CorruptFileError

#: Largest id a tokenizer may use. Real vocabularies reach ~262k (Gemma 3); per-id arrays of this size
#: stay small, while a hostile id of 2^32 would allocate gigabytes.
MAX_ID = 16_000_000
#: How sparse an id space may be: ids up to ``2 * count + SLACK`` (tiktoken files have small gaps, e.g.
#: cl100k's specials start two past the last rank; added tokens may sit after a hole).
SLACK = 4096

T = TypeVar("T")


def check_ids(source: str, ids: Iterable[object], what: str = "id") -> int:
    """Ids must be non-negative ints, unique, below :data:`MAX_ID` and dense enough. Returns max id + 1."""
    seen: set[int] = set()
    top = -1
    for i in ids:
        if type(i) is not int and not (hasattr(i, "__index__") and not isinstance(i, (bool, float))):
            raise CorruptFileError(f"{source}: {what} {i!r} is not an integer")
        i = int(i)
        if i < 0 or i >= MAX_ID:
            raise CorruptFileError(f"{source}: {what} {i} is out of range (0 to {MAX_ID - 1}); the file is malformed")
        if i in seen:
            raise CorruptFileError(f"{source}: {what} {i} is used by two tokens; the file is malformed")
        seen.add(i)
        top = max(top, i)
    if not seen:
        raise CorruptFileError(f"{source}: the vocabulary is empty")
    if top + 1 > 2 * len(seen) + SLACK:
        raise CorruptFileError(f"{source}: {len(seen):,} tokens spread over ids up to {top:,}; an id space this sparse is not a real vocabulary")
    return top + 1


def check_all_bytes(source: str, ranks: dict[bytes, int]) -> None:
    """A byte-level BPE (tiktoken, Tekken) must hold every single byte, or encoding some text is impossible
    (tiktoken panics on it)."""
    missing = [b for b in range(256) if bytes([b]) not in ranks]
    if missing:
        raise CorruptFileError(f"{source}: {len(missing)} of the 256 single bytes have no rank (e.g. 0x{missing[0]:02X}); "
                               "is the file truncated?")


def call_library(source: str, what: str, fn: Callable[[], T]) -> T:
    """Run a format library's loader; any failure, a Rust panic included, becomes one CorruptFileError."""
    try:
        return fn()
    except (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError):
        raise
    except CorruptFileError:
        raise
    except BaseException as exc:  # noqa: BLE001 - pyo3's PanicException derives from BaseException
        detail = " ".join(str(exc).split())[:200]
        raise CorruptFileError(f"{source}: {what} cannot load it ({type(exc).__name__}: {detail})") from None


def check_hf_json(source: str, spec: dict) -> None:
    """A tokenizer.json's model section: a non-empty vocabulary of unique, dense ids (added tokens
    included), well-formed merges, a Unigram list of (piece, finite score) pairs."""
    import math

    model = spec.get("model")
    if not isinstance(model, dict):
        raise CorruptFileError(f"{source}: 'model' must be an object")
    vocab = model.get("vocab")
    kind = model.get("type")
    ids: list[int] = []
    if isinstance(vocab, list) or kind == "Unigram":
        if not isinstance(vocab, list) or not vocab:
            raise CorruptFileError(f"{source}: the Unigram vocabulary is missing or empty")
        for i, item in enumerate(vocab):
            if (not isinstance(item, (list, tuple)) or len(item) != 2 or not isinstance(item[0], str)
                    or not isinstance(item[1], (int, float)) or isinstance(item[1], bool) or not math.isfinite(item[1])):
                raise CorruptFileError(f"{source}: Unigram vocabulary entry {i} is not a [piece, finite score] pair")
        ids = list(range(len(vocab)))
        if len(vocab) >= MAX_ID:
            raise CorruptFileError(f"{source}: {len(vocab):,} pieces is beyond any real vocabulary")
        unk = model.get("unk_id")
        if unk is not None and (type(unk) is not int or not 0 <= unk < len(vocab)):
            raise CorruptFileError(f"{source}: unk_id {unk!r} is not an id of the vocabulary")
    else:
        if not isinstance(vocab, dict) or not vocab:
            raise CorruptFileError(f"{source}: the model's vocabulary is missing or empty")
        if not all(isinstance(k, str) for k in vocab):
            raise CorruptFileError(f"{source}: vocabulary keys must be strings")
        ids = list(vocab.values())
        check_ids(source, ids)
    merges = model.get("merges")
    if merges is not None:
        if not isinstance(merges, list):
            raise CorruptFileError(f"{source}: 'merges' must be a list")
        for i, m in enumerate(merges):
            if isinstance(m, str):
                a, sep, b = m.partition(" ")
                ok = bool(sep and a and b)
            else:
                ok = isinstance(m, (list, tuple)) and len(m) == 2 and all(isinstance(x, str) and x for x in m)
            if not ok:
                raise CorruptFileError(f"{source}: merge {i} ({str(m)[:40]!r}) is not a pair of tokens")
    added = spec.get("added_tokens") or []
    if not isinstance(added, list):
        raise CorruptFileError(f"{source}: 'added_tokens' must be a list")
    extra = []
    for a in added:
        if not isinstance(a, dict) or type(a.get("id")) is not int or not isinstance(a.get("content"), str):
            raise CorruptFileError(f"{source}: an added token is not an object with an integer id and a string content")
        extra.append(a["id"])
    if len(set(extra)) != len(extra):
        raise CorruptFileError(f"{source}: two added tokens share an id")
    check_ids(source, sorted(set(ids) | set(extra)))
