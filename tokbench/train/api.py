"""Train any kind from Python: ``train(config, sources) -> TrainResult``, then ``result.save(out)``.

>>> from tokbench.train import TrainConfig, train          # doctest: +SKIP
>>> from tokbench.corpora import load_sources              # doctest: +SKIP
>>> res = train(TrainConfig("superbpe", vocab_size=32000), load_sources("libreoffice@train"))  # doctest: +SKIP
>>> res.save("runs/superbpe-32k")                          # doctest: +SKIP
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from tokbench.files import atomic_dir, check_output_dir, write_bytes_atomic, write_json_atomic, write_text_atomic
from tokbench.train.config import TrainConfig
from tokbench.progress import Progress, no_progress
from tokbench.train.bpe import n_items
from tokbench.train.mixture import MixedText, check_nonempty, mix_by_bytes

#: Special-token roles for tokenizer_config.json / special_tokens_map.json (transformers).
ROLES: dict[str, tuple[str, ...]] = {
    "<|endoftext|>": ("bos_token", "eos_token", "unk_token"),
    "<unk>": ("unk_token",), "[UNK]": ("unk_token",),
    "<s>": ("bos_token",), "</s>": ("eos_token",),
    "<pad>": ("pad_token",), "[PAD]": ("pad_token",),
    "[CLS]": ("cls_token",), "[SEP]": ("sep_token",),
    "[MASK]": ("mask_token",), "<mask>": ("mask_token",),
}


@dataclass
class TrainResult:
    """A trained tokenizer with everything its manifest needs.

    tokenizer:   a ``tokenizers.Tokenizer`` (every kind, SentencePiece ones converted).
    usage:       what each source contributed (provenance, weight, bytes used).
    stages:      wall time in seconds per stage.
    info:        kind-specific facts (SuperBPE transition point and merge counts, char coverage...).
    extra_files: other files to write next to tokenizer.json (``tokenizer.model`` for sp-*).
    """

    config: TrainConfig
    tokenizer: Any
    usage: list[dict]
    stages: dict[str, float]
    info: dict = field(default_factory=dict)
    extra_files: dict[str, bytes] = field(default_factory=dict)

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size(with_added_tokens=True)

    def manifest(self, started: float | None = None) -> dict:
        from tokbench.provenance import run_manifest

        return run_manifest(
            "train", self.config.to_dict(), self.usage, seed=self.config.seed, started=started,
            extra={"kind": self.config.kind, "vocab_size_actual": self.vocab_size, "training_bytes": sum(u["bytes_used"] for u in self.usage),
                   "stages_s": self.stages, "info": self.info, "files": sorted(["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", *self.extra_files])},
        )

    def save(self, out: str | Path, force: bool = False, started: float | None = None) -> Path:
        """Write tokenizer.json, transformers' config files, extra files and tokbench.json atomically."""
        out = Path(out)
        with atomic_dir(out, force) as tmp:
            write_text_atomic(tmp / "tokenizer.json", self.tokenizer.to_str(pretty=True))
            cfg, smap = transformers_config(self.config.specials, self.tokenizer)
            write_json_atomic(tmp / "tokenizer_config.json", cfg)
            write_json_atomic(tmp / "special_tokens_map.json", smap)
            for name, data in self.extra_files.items():
                write_bytes_atomic(tmp / name, data)
            write_json_atomic(tmp / "tokbench.json", self.manifest(started))
        return out


def transformers_config(specials: Sequence[str], tokenizer) -> tuple[dict, dict]:
    """(tokenizer_config.json, special_tokens_map.json) for ``AutoTokenizer.from_pretrained(dir)``."""
    smap: dict[str, Any] = {}
    additional = []
    for s in specials:
        if tokenizer.token_to_id(s) is None:
            continue
        roles = [r for r in ROLES.get(s, ()) if r not in smap]
        for r in roles:
            smap[r] = s
        if not ROLES.get(s):
            additional.append(s)
    if additional:
        smap["additional_special_tokens"] = additional
    cfg = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": 1_000_000_000,
        "clean_up_tokenization_spaces": False,
        "add_bos_token": False,
        "add_eos_token": False,
        **smap,
    }
    return cfg, smap


def mix(sources: Sequence, weights: Sequence[float] | None, config: TrainConfig) -> MixedText:
    """The training text: ``sources`` mixed by bytes (equal weights when ``weights`` is None)."""
    if weights is None:
        weights = [1.0] * len(sources)
    return mix_by_bytes(sources, weights, config.max_bytes, config.seed, exact=config.exact_mixture)


def train(config: TrainConfig, sources: Sequence, weights: Sequence[float] | None = None,
          progress: Progress = no_progress) -> TrainResult:
    """Train ``config.kind`` on ``sources`` (TextSource-like) mixed by bytes with ``weights``."""
    stages: dict[str, float] = {}
    t0 = time.perf_counter()
    mixed = mix(sources, weights, config)
    stages["mix"] = round(time.perf_counter() - t0, 3)
    texts = mixed  # a stream: every trainer reads it batch by batch, never as a list
    kind = config.kind
    info: dict = {}
    extra: dict[str, bytes] = {}
    t0 = time.perf_counter()
    if kind == "superbpe":
        from tokbench.train.superbpe import train_superbpe

        tok, info = train_superbpe(texts, config, progress,
                                   count_map=ray_counter(config) if config.engine == "ray" else None)
        for k in ("stage1_s", "stage2_pretokenize_s", "stage2_merge_s"):
            stages[k.removesuffix("_s")] = info.pop(k)
    else:
        with progress(f"train {kind} ({config.vocab_size:,})", n_items(texts)) as adv:
            if kind == "bpe" and config.engine == "ray":
                from tokbench.train.bpe_counts import train_bpe_from_counts

                counts = ray_counter(config)(texts, pretoken_counter(config))
                info["pretokens"] = len(counts)
                tok = train_bpe_from_counts(counts, config.vocab_size, pretokenizer=config.pretokenizer,
                                            special_tokens=config.specials, min_frequency=config.min_frequency)
                del counts
            elif kind in ("bpe", "char-bpe"):
                from tokbench.train.bpe import train_bytelevel_bpe

                tok = train_bytelevel_bpe(texts, config.vocab_size, pretokenizer=config.pretokenizer,
                                          special_tokens=config.specials, min_frequency=config.min_frequency,
                                          max_chars=config.token_chars_limit, advance=adv)
            elif kind == "char":
                from tokbench.train.char import train_char

                tok, info = train_char(texts, config.vocab_size, special_tokens=config.specials,
                                       fallback=config.char_fallback, min_frequency=config.min_frequency, advance=adv)
            elif kind == "unigram":
                from tokbench.train.hf_models import train_unigram

                tok, info = train_unigram(texts, config.vocab_size, special_tokens=config.specials, advance=adv)
            elif kind == "wordpiece":
                from tokbench.train.hf_models import train_wordpiece

                tok, info = train_wordpiece(texts, config.vocab_size, special_tokens=config.specials,
                                            min_frequency=config.min_frequency, advance=adv)
            else:  # sp-bpe / sp-unigram
                from tokbench.train.sentencepiece import train_sentencepiece

                tok, info, model = train_sentencepiece(texts, config.vocab_size, kind.split("-", 1)[1],
                                                       special_tokens=config.specials,
                                                       character_coverage=config.character_coverage,
                                                       max_sentences=config.sp_max_sentences, seed=config.seed, advance=adv)
                extra["tokenizer.model"] = model
        stages["train"] = round(time.perf_counter() - t0, 3)
    check_nonempty(mixed)
    return TrainResult(config, tok, mixed.usage, stages, info, extra)


def pretoken_counter(config: TrainConfig):
    """The stage-1 pre-token counting function (picklable: Ray ships it to its actors)."""
    from functools import partial

    from tokbench.train.bpe_counts import count_pretokens

    return partial(count_pretokens, pretokenizer=config.pretokenizer)


def ray_counter(config: TrainConfig):
    """``(texts, counter) -> summed counts`` on the Ray cluster ``config`` names."""
    from tokbench.engines.ray_counts import count_on_ray

    def run(texts, counter):
        return count_on_ray(texts, counter, address=config.ray_address, workers=config.workers)

    return run


def train_to_dir(config: TrainConfig, sources: Sequence, out: str | Path, *, weights: Sequence[float] | None = None,
                 force: bool = False, progress: Progress = no_progress) -> TrainResult:
    """Check ``out`` first (no work when it exists without ``force``), train, save atomically."""
    started = time.perf_counter()
    check_output_dir(out, force)
    result = train(config, sources, weights, progress)
    result.save(out, force, started)
    return result


__all__ = ["TrainResult", "train", "train_to_dir", "transformers_config"]
