"""SuperBPE (Liu et al. 2025): subwords first, then superwords.

Stage 1 is an ordinary byte-level BPE run (stock `tokenizers`) up to the transition vocabulary size t.
Stage 2 pre-tokenizes the same text without whitespace splitting (:func:`stage2_pretokenizer`), counts
the distinct pre-tokens, replays stage 1's merges in order on them and continues greedy merging to the
final size with tokbench's Numba kernel (:mod:`tokbench.train.stage2_kernel`), under the caps (at most
4 words per token, never ': ' inside) unless turned off.

The replay runs in stock `tokenizers` by default (``replay="tokenizers"``): encoding a pre-token with
the stage-1 BPE model gives the same symbols as applying the merges one after another, and the
pre-tokens are cut where no stage-1 merge can cross so that each distinct piece is encoded once
(:mod:`tokbench.train.replay`). The kernel then starts from ~4x fewer symbols. ``replay="kernel"``
replays in the kernel instead; tests check both give the same tokenizer.

The result is a plain BPE ``tokenizer.json``: stage-1 vocabulary and merges first (identical to a ``bpe``
run of size t), then stage 2's, with the stage-2 pre-tokenizer, so stock `tokenizers` reproduces the
segmentation training saw.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np

from tokbench.corpora.stream import batched
from tokbench.errors import ConfigError
from tokbench.tokenizer.bytelevel import byte_to_unicode, bytes_to_symbols, symbols_to_bytes
from tokbench.train.bpe import n_items, train_bytelevel_bpe
from tokbench.train.config import TrainConfig
from tokbench.train.pretokenizers import stage2_pretokenizer
from tokbench.progress import Progress, no_progress
from tokbench.train.stage2_kernel import SEP, continue_bpe
from tokbench.tokenizer.formats.hf import parse_merges


def count_pretokens(texts: Sequence[str], recipe: str, advance=None) -> Counter:
    """Distinct stage-2 pre-tokens (byte-level alphabet) with their counts."""
    pt = stage2_pretokenizer(recipe)
    counts: Counter = Counter()
    for t in texts:
        counts.update(p for p, _ in pt.pre_tokenize_str(t))
        if advance is not None:
            advance(1)
    return counts


def flat_symbols(counts: Counter, symbol_id: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct pre-tokens -> (sym, wcnt) for the kernel: one slot per byte symbol, SEP between words.

    sym: (N,) int32 stage-1 ids of the single-byte tokens; wcnt: (N,) int32 the word's count (0 at SEP).
    """
    words = list(counts.items())
    joined = "\x00" + "\x00".join(w for w, _ in words) + "\x00"  # NUL is not in the byte-level alphabet
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    lut = np.full(max(ord(c) for c in symbol_id) + 1, SEP, dtype=np.int32)
    for c, i in symbol_id.items():
        lut[ord(c)] = i
    sym = lut[codes]
    wcnt = np.zeros(len(sym), dtype=np.int32)
    lengths = np.fromiter((len(w) for w, _ in words), dtype=np.int64, count=len(words))
    cnts = np.fromiter((c for _, c in words), dtype=np.int64, count=len(words))
    if cnts.size and cnts.max() >= 2**31:
        raise ConfigError("a SuperBPE stage-2 pre-token occurs more than 2**31 times; lower --train-bytes")
    wcnt[sym >= 0] = np.repeat(cnts, lengths).astype(np.int32)
    return sym, wcnt


def _pretoken_spans_tokenizer(recipe: str):
    """A tokenizer whose tokens are exactly the stage-2 pre-tokens (one unknown-word token each), so
    `tokenizers` pre-tokenizes whole batches in parallel and reports each pre-token's span."""
    from tokenizers import Tokenizer, models

    tok = Tokenizer(models.WordLevel({"<unk>": 0}, unk_token="<unk>"))
    tok.pre_tokenizer = stage2_pretokenizer(recipe)
    return tok


#: Code points checked for the Python fast path. Below this bound Python's `regex` and the Oniguruma engine
#: inside `tokenizers` agree on \\s, \\p{L} and \\p{N} except where one of them has a newer Unicode database
#: (e.g. regex 2026.11 assigns U+0558, tokenizers 0.23 does not): those are found at run time by
#: :func:`python_unsafe_chars`, never assumed. Segments made only of agreeing characters are split in Python,
#: about 4x faster than a `tokenizers` round trip; the others go through `tokenizers`.
PY_SAFE_BELOW = "\u088f"


@lru_cache(maxsize=1)
def python_unsafe_chars():
    """A compiled character class of the code points below :data:`PY_SAFE_BELOW` on which Python's split of
    the 2025 recipe differs from `tokenizers`' with the installed versions, or None when they all agree."""
    import regex
    from tokenizers import Regex, pre_tokenizers

    from tokbench.train.pretokenizers import RECIPE_2025

    pt = pre_tokenizers.Split(Regex(RECIPE_2025), behavior="isolated")
    pat = regex.compile(RECIPE_2025)
    bad = []
    for c in range(1, ord(PY_SAFE_BELOW)):
        ch = chr(c)
        probe = f"a{ch}{ch} b1234{ch}  x.{ch}"
        if split_isolated(pat, probe) != [p for p, _ in pt.pre_tokenize_str(probe)]:
            bad.append(ch)
    return regex.compile("[" + "".join(regex.escape(ch) for ch in bad) + "]") if bad else None


def python_can_split(seg: str) -> bool:
    """True when the Python split of ``seg`` provably equals `tokenizers`' (see :data:`PY_SAFE_BELOW`)."""
    if not seg or max(seg) >= PY_SAFE_BELOW:
        return False
    unsafe = python_unsafe_chars()
    return unsafe is None or unsafe.search(seg) is None


def split_isolated(pattern, text: str) -> list[str]:
    """`tokenizers` Split(behavior='isolated') in Python: matches and the gaps between them.

    >>> import regex
    >>> split_isolated(regex.compile(r"\\d+"), "ab12cd")
    ['ab', '12', 'cd']
    """
    out = []
    pos = 0
    for m in pattern.finditer(text):
        a, b = m.span()
        if a > pos:
            out.append(text[pos:a])
        if b > a:
            out.append(text[a:b])
        pos = b
    if pos < len(text):
        out.append(text[pos:])
    return out


class BoundedCounter(Counter):
    """A Counter that keeps at most ``cap`` keys, the most frequent: when it holds ``2 * cap`` keys it
    drops all but the ``cap`` largest counts (ties: the earlier inserted). Memory is bounded by the cap,
    not by the corpus. A dropped key that comes back starts again from 0, so kept counts can be
    underestimates; ``dropped`` is the total count thrown away (the part of the corpus stage 2 no longer
    sees), ``pruned`` how many times keys were dropped. ``cap=None`` never drops (a plain Counter).
    """

    def __init__(self, cap: int | None = None):
        super().__init__()
        self.cap = cap
        self.dropped = 0
        self.pruned = 0
        self.peak = 0

    def maybe_prune(self, final: bool = False) -> None:
        n = len(self)
        self.peak = max(self.peak, n)
        if self.cap is None or n <= (self.cap if final else 2 * self.cap):
            return
        vals = np.fromiter(self.values(), dtype=np.int64, count=n)
        thr = int(np.partition(vals, n - self.cap)[n - self.cap])  # the cap-th largest count
        room = self.cap - int((vals > thr).sum())  # ties at the threshold kept in insertion order
        drop = []
        for k, v in self.items():
            if v < thr or (v == thr and (room := room - 1) < 0):
                drop.append(k)
                self.dropped += v
        for k in drop:
            del self[k]
        self.pruned += 1


def count_pretokens_fast(texts: Iterable[str], recipe: str, advance=None, batch: int = 4096,
                         max_pretokens: int | None = None) -> BoundedCounter:
    """Distinct stage-2 pre-tokens as raw text with their counts (same pieces as :func:`count_pretokens`,
    which returns them in the byte-level alphabet).

    ``texts`` is read a batch at a time (memory holds one batch plus the counts); repeated segments
    within a batch are pre-tokenized once. With ``max_pretokens`` at most that many distinct pre-tokens
    are kept, the most frequent (see :class:`BoundedCounter`).
    """
    import regex

    from tokbench.train.pretokenizers import RECIPE_2025

    tok = _pretoken_spans_tokenizer(recipe)
    pattern = regex.compile(RECIPE_2025) if recipe == "2025" else None
    counts = BoundedCounter(max_pretokens)
    for texts_batch in batched(texts, batch):
        seg_counts = Counter(texts_batch)
        segs = []
        if pattern is not None:
            for seg, n in seg_counts.items():
                if python_can_split(seg):
                    for piece in split_isolated(pattern, seg):
                        counts[piece] += n
                else:
                    segs.append(seg)
        else:
            segs = list(seg_counts)
        for seg, enc in zip(segs, tok.encode_batch(segs, add_special_tokens=False)):
            n = seg_counts[seg]
            for a, b in enc.offsets:
                counts[seg[a:b]] += n
        counts.maybe_prune()
        if advance is not None:
            advance(len(texts_batch))
    counts.maybe_prune(final=True)
    return counts


def replayed_words(texts: Iterable[str], stage1_spec: dict, recipe: str, vocab_bytes: Sequence[bytes | None],
                   advance=None, max_pretokens: int | None = None, facts: dict | None = None,
                   count_map=None) -> tuple[np.ndarray, np.ndarray, int]:
    """Distinct stage-2 pre-tokens as stage-1 token ids (merges already replayed, see
    :mod:`tokbench.train.replay`). Returns (sym, wcnt, number of distinct pre-tokens) in the kernel's
    layout (see :func:`flat_symbols`)."""
    from tokbench.train.replay import pack_words, replay_pieces

    if count_map is None:
        counts = count_pretokens_fast(texts, recipe, advance, max_pretokens=max_pretokens)
    else:
        from functools import partial

        summed = count_map(texts, partial(count_pretokens_fast, recipe=recipe, max_pretokens=max_pretokens))
        counts = BoundedCounter(max_pretokens)
        counts.update(summed)
        del summed
        counts.maybe_prune(final=True)
    if facts is not None:
        total = sum(counts.values()) + counts.dropped
        facts.update({"stage2_pretokens_bound": max_pretokens, "stage2_pretokens_peak": counts.peak,
                      "stage2_pruned": counts.pruned,
                      "stage2_dropped_share": round(counts.dropped / total, 6) if total else 0.0})
    n_words = len(counts)
    cnts = np.fromiter(counts.values(), dtype=np.int64, count=n_words)
    if cnts.size and cnts.max() >= 2**31:
        raise ConfigError("a SuperBPE stage-2 pre-token occurs more than 2**31 times; lower --train-bytes")
    buf, word_off = pack_words(list(counts))
    del counts  # the pre-token strings live on only in buf
    sym, wcnt = replay_pieces(buf, word_off, cnts, stage1_spec, vocab_bytes)
    return sym, wcnt, n_words


def train_superbpe(texts: Iterable[str], cfg: TrainConfig, progress: Progress = no_progress, replay: str = "tokenizers",
                   count_map=None):
    """Train SuperBPE; returns (``tokenizers.Tokenizer``, info dict with stage sizes and timings).

    ``count_map(texts, counter)`` runs pre-token counting elsewhere (the Ray engine) and returns the summed
    counts; then stage 1 trains BPE from counts (equal to the stock trainer's) and stage 2 sums each
    worker's bounded counts and bounds the sum again on the driver.
    """
    from tokenizers import Tokenizer, models

    info: dict = {}
    t_vocab = cfg.transition_vocab()
    t0 = time.perf_counter()
    with progress(f"superbpe stage 1 (BPE to {t_vocab:,})", n_items(texts)) as adv:
        if count_map is not None:
            from functools import partial

            from tokbench.train import bpe_counts

            counts1 = count_map(texts, partial(bpe_counts.count_pretokens, pretokenizer=cfg.pretokenizer))
            stage1 = bpe_counts.train_bpe_from_counts(counts1, t_vocab, pretokenizer=cfg.pretokenizer,
                                           special_tokens=cfg.specials, min_frequency=cfg.min_frequency)
            del counts1
        else:
            stage1 = train_bytelevel_bpe(texts, t_vocab, pretokenizer=cfg.pretokenizer, special_tokens=cfg.specials,
                                         min_frequency=cfg.min_frequency, advance=adv)
    info["stage1_s"] = round(time.perf_counter() - t0, 3)
    spec = json.loads(stage1.to_str())
    del stage1
    model = spec["model"]
    vocab: dict[str, int] = model["vocab"]
    merges1 = parse_merges(model)
    specials = {a["content"] for a in spec.get("added_tokens", [])}
    id_to_str = {i: s for s, i in vocab.items()}
    V1 = max(vocab.values()) + 1
    vocab_bytes: list[bytes | None] = [None] * V1
    for i in range(V1):
        s = id_to_str.get(i)
        if s is not None and s not in specials:
            vocab_bytes[i] = symbols_to_bytes(s)
    forced = np.array([(vocab[a], vocab[b], vocab[a + b]) for a, b in merges1], dtype=np.int64).reshape(-1, 3)
    info.update({"transition_vocab": t_vocab, "stage1_vocab": V1, "stage1_merges": len(merges1)})

    t0 = time.perf_counter()
    with progress("superbpe stage 2: pre-tokenize + replay stage 1", n_items(texts)) as adv:
        if replay == "tokenizers":
            sym, wcnt, n_words = replayed_words(texts, spec, cfg.superbpe_recipe, vocab_bytes, adv,
                                                max_pretokens=cfg.stage2_max_pretokens, facts=info,
                                                count_map=count_map)
            forced = forced[:0]
        else:
            counts = count_pretokens(texts, cfg.superbpe_recipe, adv)
            symbol_id = {byte_to_unicode()[b]: vocab[byte_to_unicode()[b]] for b in range(256)}
            sym, wcnt = flat_symbols(counts, symbol_id)
            n_words = len(counts)
            del counts
        info["stage2_pretokens"] = n_words
        info["stage2_symbols"] = int((sym >= 0).sum())
    info["stage2_pretokenize_s"] = round(time.perf_counter() - t0, 3)

    t0 = time.perf_counter()
    total = len(forced) + max(cfg.vocab_size - V1, 0)
    with progress(f"superbpe stage 2: merges to {cfg.vocab_size:,}", total) as adv:
        new_merges, new_bytes = continue_bpe(sym, wcnt, vocab_bytes, forced, cfg.vocab_size,
                                             min_frequency=cfg.min_frequency, caps=cfg.caps,
                                             max_words=cfg.max_words, advance=adv)
    del sym, wcnt
    info["stage2_merge_s"] = round(time.perf_counter() - t0, 3)
    info["stage2_merges"] = int(len(new_merges))

    for (a, b, new), tok in zip(new_merges.tolist(), new_bytes):
        s = bytes_to_symbols(tok)
        vocab[s] = new
        id_to_str[new] = s
    model["merges"] = [[a, b] for a, b in merges1] + [[id_to_str[a], id_to_str[b]] for a, b, _ in new_merges.tolist()]
    model["vocab"] = vocab
    holder = Tokenizer(models.BPE())
    holder.pre_tokenizer = stage2_pretokenizer(cfg.superbpe_recipe)
    spec["pre_tokenizer"] = json.loads(holder.to_str())["pre_tokenizer"]
    tok = Tokenizer.from_str(json.dumps(spec, ensure_ascii=False))
    return tok, info
