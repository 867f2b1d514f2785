"""tiktoken ``.tiktoken`` rank files and Mistral Tekken ``.json`` files, via the ``tiktoken`` library."""

from __future__ import annotations

import base64
import json
from itertools import chain
from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np

from tokbench.errors import CorruptFileError, TokenizerError
from tokbench.tokenizer.base import Encoded, Tokenizer
from tokbench.tokenizer.bytelevel import bytes_to_symbols
from tokbench.tokenizer.merges import merges_from_ranks
from tokbench.tokenizer.validate import check_all_bytes, check_ids

# Pre-tokenization patterns of OpenAI's published encodings (facts from tiktoken_ext.openai_public).
R50K = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
CL100K = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
O200K = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
#: Letters, digits, punctuation, every kind of space, CJK, an emoji: a pattern must cover all of it.
_PROBE = "Hello, World! It's 1234567 \u00c0\u00e9 \u00e7a\n\n\t  x \r\n\u732b\u306f\u30de\u30c3\u30c8 \U0001f916 a_b-c=d[e]{f} \u00a0\u3000end "
PATTERNS = {"r50k": R50K, "gpt2": R50K, "p50k": R50K, "cl100k": CL100K, "o200k": O200K}
SPECIALS = {
    "r50k": {"<|endoftext|>": 50256},
    "gpt2": {"<|endoftext|>": 50256},
    "p50k": {"<|endoftext|>": 50256},
    "cl100k": {"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259, "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276},
    "o200k": {"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
}


def known_pattern_name(stem: str) -> str | None:
    """'cl100k_base' -> 'cl100k'; 'gpt2' -> 'gpt2'; anything else -> None."""
    stem = stem.lower()
    for key in ("o200k", "cl100k", "p50k", "r50k", "gpt2"):
        if stem.startswith(key):
            return key
    return None


class TiktokenTokenizer(Tokenizer):
    """A tiktoken encoding: ranks (bytes -> id), a pre-tokenization regex and special tokens.

    ``id_offset`` shifts every rank (Tekken puts its control tokens first).
    """

    format = "tiktoken"
    model_kind = "bpe"

    def __init__(
        self,
        name: str,
        source: str,
        ranks: dict[bytes, int],
        pattern: str,
        special_tokens: dict[str, int],
        id_offset: int = 0,
        fingerprint_extra: bytes = b"",
    ):
        import tiktoken

        super().__init__(name, source)
        self.ranks = ranks
        self.pattern = pattern
        self.id_offset = id_offset
        self._specials = dict(special_tokens)
        self._fp_extra = fingerprint_extra
        _check_pattern(name, pattern)
        check_all_bytes(source, ranks)
        check_ids(source, ranks.values(), "rank")
        if len(set(special_tokens.values()) | {r + id_offset for r in ranks.values()}) != len(ranks) + len(special_tokens):
            raise CorruptFileError(f"{source}: a special token shares its id with a rank")
        try:
            self._enc = tiktoken.Encoding(
                name=f"tokbench-{name}",
                pat_str=pattern,
                mergeable_ranks=ranks,
                # tiktoken wants specials in its own id space (ranks); Tekken specials sit below the
                # offset and are handled here, not by tiktoken.
                special_tokens={} if id_offset else self._specials,
            )
        except (KeyboardInterrupt, SystemExit, MemoryError):
            raise
        except BaseException as exc:  # noqa: BLE001 - a Rust panic is a BaseException
            raise TokenizerError(f"tiktoken cannot build encoding '{name}' ({str(exc)[:200]}); check the pattern") from None
        try:
            covered = sum(len(self._enc.decode_single_token_bytes(i)) for i in self._enc.encode_ordinary(_PROBE))
        except (KeyboardInterrupt, SystemExit, MemoryError):
            raise
        except BaseException as exc:  # noqa: BLE001 - a Rust panic is a BaseException
            raise TokenizerError(f"'{name}' cannot encode a probe text ({type(exc).__name__}: {str(exc)[:150]}); check the pattern and ranks") from None
        if covered != len(_PROBE.encode("utf-8")):
            raise TokenizerError(f"the pre-tokenization pattern of '{name}' skips part of the text ({covered} of "
                                 f"{len(_PROBE.encode('utf-8'))} probe bytes encoded); the pattern must match every character")

    @property
    def lossless(self) -> bool:
        return True

    def encode(self, text: str) -> list[int]:
        ids = self._enc.encode_ordinary(text)
        return [i + self.id_offset for i in ids] if self.id_offset else ids

    def encode_batch(self, texts: Sequence[str], *, spans: bool = True) -> Encoded:
        texts = list(texts)
        # One call per text: tiktoken's encode_ordinary_batch submits a thread-pool future per text, which
        # cost 2-3x the encoding itself on line-sized segments (measured: reports/bench/scale.md).
        per_doc = [self._enc.encode_ordinary(t) for t in texts]
        doc_bytes = np.fromiter((len(t.encode("utf-8")) for t in texts), dtype=np.int64, count=len(texts))
        lengths = np.fromiter((len(x) for x in per_doc), dtype=np.int64, count=len(per_doc))
        offsets = np.zeros(len(per_doc) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        # itertools.chain keeps the flattening in C (a generator expression costs ~1 s per 3M tokens).
        ranks = np.fromiter(chain.from_iterable(per_doc), dtype=np.int64, count=int(offsets[-1]))
        ids = ranks + self.id_offset
        # Tokens are byte strings that concatenate to the text, so spans are cumulative lengths. A
        # pre-tokenization pattern that does not match every character (a user's '?pattern=') makes
        # tiktoken skip text silently: refuse rather than report numbers for text that was never encoded.
        tok_len = self._rank_lengths[ranks]
        cum = np.cumsum(tok_len)
        per_doc = np.concatenate([[0], cum])[offsets[1:]] - np.concatenate([[0], cum])[offsets[:-1]]
        if not np.array_equal(per_doc, doc_bytes):
            bad = int(np.flatnonzero(per_doc != doc_bytes)[0])
            raise TokenizerError(f"{self.name}: its pre-tokenization pattern skips part of the text (document {bad}: "
                                 f"{int(per_doc[bad])} of {int(doc_bytes[bad])} bytes encoded); the pattern must match every character")
        if not spans:
            return Encoded(ids, offsets, doc_bytes)
        doc_start = np.repeat(np.concatenate([[0], cum[offsets[1:-1] - 1]]) if len(per_doc) else np.zeros(0, np.int64), lengths)
        # Documents with no tokens break the simple gather above; recompute their start from offsets.
        if len(per_doc) and (lengths == 0).any():
            base = np.zeros(len(per_doc), dtype=np.int64)
            nz = offsets[:-1] > 0
            base[nz] = cum[offsets[:-1][nz] - 1]
            doc_start = np.repeat(base, lengths)
        ends = cum - doc_start
        starts = ends - tok_len
        return Encoded(ids, offsets, doc_bytes, starts, ends)

    def decode(self, ids: Sequence[int]) -> str:
        parts: list[bytes] = []
        inv = {v: k for k, v in self._specials.items()}
        for i in ids:
            i = int(i)
            if i in inv:
                parts.append(inv[i].encode("utf-8"))
            else:
                parts.append(self._enc.decode_single_token_bytes(i - self.id_offset))
        return b"".join(parts).decode("utf-8", errors="replace")

    @cached_property
    def _rank_lengths(self) -> np.ndarray:
        out = np.zeros(max(self.ranks.values()) + 1, dtype=np.int64)
        for tok, r in self.ranks.items():
            out[r] = len(tok)
        return out

    @property
    def vocab_size(self) -> int:
        top = max(self.ranks.values()) + self.id_offset
        if self._specials:
            top = max(top, max(self._specials.values()))
        return top + 1

    @cached_property
    def _bytes_by_id(self) -> list[bytes | None]:
        out: list[bytes | None] = [None] * self.vocab_size
        for tok, r in self.ranks.items():
            out[r + self.id_offset] = tok
        return out

    def token_bytes(self) -> list[bytes | None]:
        return list(self._bytes_by_id)

    def token_strings(self) -> list[str | None]:
        out = [bytes_to_symbols(b) if b is not None else None for b in self._bytes_by_id]
        for s, i in self._specials.items():
            out[i] = s
        return out

    @property
    def special_tokens(self) -> dict[str, int]:
        return dict(self._specials)

    def model_merges(self) -> list[tuple[str, str]] | None:
        return [(bytes_to_symbols(a), bytes_to_symbols(b)) for a, b in self._merges_bytes]

    @cached_property
    def _merges_bytes(self) -> list[tuple[bytes, bytes]]:
        return merges_from_ranks(self.ranks)

    @cached_property
    def _regex(self):
        import regex

        return regex.compile(self.pattern)

    def model_pretokenize(self, text: str) -> list[str]:
        return [bytes_to_symbols(m.encode("utf-8")) for m in self._regex.findall(text)]

    def _fingerprint_bytes(self) -> bytes:
        h = bytearray()
        for tok, r in sorted(self.ranks.items(), key=lambda kv: kv[1]):
            h += base64.b64encode(tok) + b" " + str(r).encode() + b"\n"
        h += self.pattern.encode() + b"\n" + json.dumps(self._specials, sort_keys=True).encode() + self._fp_extra
        return bytes(h)

    def describe(self) -> dict:
        d = super().describe()
        d["pre_tokenizer"] = ["regex"]
        d["pattern"] = self.pattern[:80] + ("..." if len(self.pattern) > 80 else "")
        d["byte_level"] = True
        return d


def load_tiktoken_file(path: str | Path, pattern: str | None = None, name: str | None = None) -> TiktokenTokenizer:
    """Load a ``.tiktoken`` file; the pattern comes from the file name (cl100k_base...) or ``pattern``
    (a known name such as 'o200k' or a regex)."""
    path = Path(path)
    ranks: dict[bytes, int] = {}
    n = 0
    try:
        for n, line in enumerate(path.read_bytes().splitlines(), 1):
            if not line.strip():
                continue
            tok, rank = line.split()
            if len(rank) > 9:
                raise ValueError(rank)
            b = base64.b64decode(tok, validate=True)
            if b in ranks or not b:
                raise CorruptFileError(f"{path}:{n}: token {tok[:40]!r} is empty or listed twice; the file is malformed")
            ranks[b] = int(rank)
    except (ValueError, base64.binascii.Error):
        raise CorruptFileError(f"{path}:{n}: not a tiktoken rank line ('<base64> <rank>')") from None
    if not ranks:
        raise CorruptFileError(f"{path} has no ranks")
    key = None
    if pattern:
        key = pattern if pattern in PATTERNS else None
        pat = PATTERNS.get(pattern, pattern)
    else:
        key = known_pattern_name(path.stem)
        if key is None:
            raise TokenizerError(
                f"{path.name}: cannot tell its pre-tokenization pattern; pass one as '{path}?pattern=NAME' "
                f"with NAME one of {', '.join(sorted(PATTERNS))} or a regex"
            )
        pat = PATTERNS[key]
    specials = SPECIALS.get(key, {}) if key else {}
    if key is None and "endoftext" not in str(specials):
        n_ranks = max(ranks.values()) + 1
        specials = {"<|endoftext|>": n_ranks}
    return TiktokenTokenizer(name or path.stem, str(path), ranks, pat, specials)


def load_tekken(path: str | Path, name: str | None = None) -> TiktokenTokenizer:
    """Load a Mistral Tekken ``tekken*.json``: base64 token bytes with ranks, a regex and control tokens
    placed before the ranks (id = rank + number of special tokens)."""
    path = Path(path)
    try:
        data = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorruptFileError(f"{path} is not valid JSON ({exc})") from None
    except RecursionError:
        raise CorruptFileError(f"{path} is nested too deeply to be a Tekken file") from None
    try:
        ranks, specials, cfg, n_special = _tekken_parts(data)
    except CorruptFileError as exc:
        raise CorruptFileError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError, base64.binascii.Error) as exc:
        raise CorruptFileError(f"{path} is not a well-formed Tekken file ({type(exc).__name__}: {str(exc)[:100]})") from None
    tok = TiktokenTokenizer(
        name or path.stem, str(path), ranks, cfg["pattern"], specials, id_offset=n_special,
        fingerprint_extra=json.dumps(cfg, sort_keys=True).encode(),
    )
    tok.format = "tekken"
    return tok


def _tekken_parts(data) -> tuple[dict[bytes, int], dict[str, int], dict, int]:
    """Ranks, specials, config and the number of special ids of a parsed Tekken file, checked."""
    if not isinstance(data, dict) or not isinstance(data.get("config"), dict) or not isinstance(data.get("vocab"), list):
        raise CorruptFileError("a Tekken file is an object with a 'config' object and a 'vocab' list")
    cfg = data["config"]
    if not isinstance(cfg.get("pattern"), str):
        raise CorruptFileError("the Tekken config has no 'pattern' string")
    specials_in = data.get("special_tokens", [])
    if not isinstance(specials_in, list) or not all(isinstance(sp, dict) for sp in specials_in):
        raise CorruptFileError("'special_tokens' must be a list of objects")
    n_special = cfg.get("default_num_special_tokens", len(specials_in))
    vocab_size = cfg.get("default_vocab_size", n_special + len(data["vocab"]) if type(n_special) is int else None)
    if type(n_special) is not int or type(vocab_size) is not int or not 0 <= n_special <= vocab_size <= n_special + len(data["vocab"]) + 1_000_000:
        raise CorruptFileError(f"default_num_special_tokens {n_special!r} / default_vocab_size {vocab_size!r} are not consistent with the vocabulary")
    n_ranks = vocab_size - n_special
    ranks: dict[bytes, int] = {}
    for item in data["vocab"][:n_ranks]:
        if not isinstance(item, dict) or not isinstance(item.get("token_bytes"), str) or type(item.get("rank")) is not int:
            raise CorruptFileError("a vocab entry is not an object with 'token_bytes' (base64) and an integer 'rank'")
        b = base64.b64decode(item["token_bytes"], validate=True)
        if b in ranks or not b:
            raise CorruptFileError(f"token {item['token_bytes'][:40]!r} is empty or listed twice")
        ranks[b] = item["rank"]
    specials: dict[str, int] = {}
    for i, sp in enumerate(specials_in[:n_special]):
        s, r = sp.get("token_str", f"<SPECIAL_{i}>"), sp.get("rank", i)
        if not isinstance(s, str) or type(r) is not int or not 0 <= r < n_special or s in specials or r in specials.values():
            raise CorruptFileError(f"special token {i} has a bad or repeated token_str/rank ({str(s)[:40]!r}, {r!r})")
        specials[s] = r
    for i in range(n_special):
        if i not in specials.values():
            specials[f"<SPECIAL_{i}>"] = i
    return ranks, specials, cfg, n_special


def _check_pattern(name: str, pattern: str) -> None:
    """A pattern that can match the empty string makes tiktoken panic (a Rust panic prints a backtrace
    before any error can be caught): find such matches on the probe with the ``regex`` module first."""
    import regex

    try:
        matches = list(regex.finditer(pattern, _PROBE, timeout=2.0))
    except (regex.error, TimeoutError):
        return  # tiktoken's own parser reports what is wrong with it, or the probe below catches it
    if any(m.end() == m.start() for m in matches):
        raise TokenizerError(f"the pre-tokenization pattern of '{name}' can match the empty string; "
                             "every match must hold at least one character")
