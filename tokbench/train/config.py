"""What a training run is asked to do: one frozen dataclass, the single source of every default.

The CLI (`tokbench train`) reads its option defaults from :class:`TrainConfig`, so the library and the
command line can never disagree.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum

from tokbench.errors import ConfigError


class Kind(str, Enum):
    """The tokenizer families ``tokbench train`` builds."""

    BPE = "bpe"                 # byte-level BPE via `tokenizers`
    SUPERBPE = "superbpe"       # two-stage SuperBPE: `tokenizers` stage 1 + tokbench's Numba stage 2
    CHAR = "char"               # a character vocabulary with byte fallback (or UNK)
    CHAR_BPE = "char-bpe"       # byte-level BPE with a maximum token length (KL3M style)
    UNIGRAM = "unigram"         # Unigram LM via `tokenizers`
    WORDPIECE = "wordpiece"     # WordPiece via `tokenizers`
    SP_BPE = "sp-bpe"           # SentencePiece BPE (kept as tokenizer.model, converted to tokenizer.json)
    SP_UNIGRAM = "sp-unigram"   # SentencePiece Unigram


KINDS = tuple(k.value for k in Kind)
PRETOKENIZERS = ("gpt2", "gpt4o")
SUPERBPE_RECIPES = ("paper", "2025")
#: The text `tokbench train` reads when no corpus is given: every bundled language, equal bytes.
DEFAULT_CORPUS = "libreoffice@train"

#: Special tokens a kind gets when the user names none.
DEFAULT_SPECIAL_TOKENS: dict[str, tuple[str, ...]] = {
    "bpe": ("<|endoftext|>",),
    "superbpe": ("<|endoftext|>",),
    "char-bpe": ("<|endoftext|>",),
    "char": ("<unk>", "<s>", "</s>"),
    "unigram": ("<unk>", "<s>", "</s>"),
    "wordpiece": ("[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"),
    "sp-bpe": ("<unk>", "<s>", "</s>"),
    "sp-unigram": ("<unk>", "<s>", "</s>"),
}


@dataclass(frozen=True)
class TrainConfig:
    """Parameters of one training run.

    >>> TrainConfig("superbpe", vocab_size=32000).transition_vocab()
    25600
    """

    kind: str = "bpe"
    vocab_size: int = 32000
    #: Text budget in bytes for the whole mixture (None: all text of every source).
    max_bytes: int | None = 50_000_000
    seed: int = 0
    #: Mix sources in exact byte proportions (shrinking the budget) instead of capping each at its share.
    exact_mixture: bool = False
    #: Stage-1 / plain BPE pre-tokenization regex family.
    pretokenizer: str = "gpt2"
    #: SuperBPE transition point: a fraction of the vocabulary (<1) or an absolute vocabulary size (>=1).
    transition: float = 0.8
    superbpe_recipe: str = "2025"
    #: SuperBPE stage-2 caps (the reference's): at most ``max_words`` words per token, no ': ' inside.
    caps: bool = True
    max_words: int = 4
    #: char-bpe: no token longer than this many characters (None for other kinds).
    max_token_chars: int | None = None
    min_frequency: int = 2
    special_tokens: tuple[str, ...] | None = None
    #: char: 'byte' fallback (lossless) or 'unk'.
    char_fallback: str = "byte"
    #: SentencePiece character coverage.
    character_coverage: float = 0.9995
    #: SentencePiece keeps its training sentences in memory: at most this many, a uniform sample of the
    #: stream (its own ``input_sentence_size`` reservoir, seeded) when there are more.
    sp_max_sentences: int = 2_000_000
    #: SuperBPE stage 2 keeps at most this many distinct pre-tokens while counting (the most frequent; see
    #: tokbench.train.superbpe.BoundedCounter); None keeps every one (memory grows with the corpus).
    stage2_max_pretokens: int | None = 4_000_000
    #: Where pre-tokens are counted: 'local' (streams into the stock trainer) or 'ray' (actors on a Ray
    #: cluster count, the driver trains BPE from the summed counts; bpe and superbpe).
    engine: str = "local"
    #: Ray cluster address (None: the running session, or a local one of ``workers`` CPUs).
    ray_address: str | None = None
    #: Ray counting actors (None: one per CPU of the cluster).
    workers: int | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ConfigError(f"unknown kind '{self.kind}'; choose one of: {', '.join(KINDS)}")
        if self.vocab_size < 2:
            raise ConfigError(f"--vocab-size must be at least 2 (got {self.vocab_size})")
        # The trainers are Rust (u32 ids and counts) and Numba (int32/int64): a number beyond them would
        # overflow there instead of failing here.
        if self.vocab_size > 16_000_000:
            raise ConfigError(f"--vocab-size {self.vocab_size:.3g} is beyond any vocabulary (at most 16,000,000)")
        if self.min_frequency > 2**31 - 1:
            raise ConfigError(f"--min-frequency {self.min_frequency:.3g} is beyond any count (at most 2^31 - 1)")
        if self.max_token_chars is not None and self.max_token_chars > 1_000_000:
            raise ConfigError(f"--max-token-chars {self.max_token_chars:.3g} is beyond any token (at most 1,000,000)")
        if self.pretokenizer not in PRETOKENIZERS:
            raise ConfigError(f"unknown --pretokenizer '{self.pretokenizer}'; choose one of: {', '.join(PRETOKENIZERS)}")
        if self.superbpe_recipe not in SUPERBPE_RECIPES:
            raise ConfigError(f"unknown --superbpe-recipe '{self.superbpe_recipe}'; choose one of: {', '.join(SUPERBPE_RECIPES)}")
        if self.max_bytes is not None and self.max_bytes <= 0:
            raise ConfigError("--train-bytes (the training budget) must be positive")
        if self.engine not in ("local", "ray"):
            raise ConfigError(f"unknown --engine '{self.engine}'; choose local or ray")
        if self.engine == "ray" and self.kind not in ("bpe", "superbpe"):
            raise ConfigError(f"--engine ray trains bpe and superbpe (from counted pre-tokens), not {self.kind}; use --engine local")
        if self.engine == "ray" and self.max_token_chars is not None:
            raise ConfigError("--engine ray does not take --max-token-chars; use --engine local")
        if self.workers is not None and self.workers < 1:
            raise ConfigError("--workers must be at least 1")
        if self.sp_max_sentences < 1:
            raise ConfigError("sp_max_sentences must be at least 1")
        if self.stage2_max_pretokens is not None and self.stage2_max_pretokens < 1:
            raise ConfigError("stage2_max_pretokens must be at least 1 (or None for no bound)")
        if self.min_frequency < 0:
            raise ConfigError("--min-frequency must be >= 0")
        if self.max_token_chars is not None and self.max_token_chars < 1:
            raise ConfigError("--max-token-chars must be at least 1")
        if self.max_words < 1:
            raise ConfigError("max_words must be at least 1")
        if self.char_fallback not in ("byte", "unk"):
            raise ConfigError("char fallback must be 'byte' or 'unk'")
        if self.transition <= 0:
            raise ConfigError(f"--transition must be positive (a fraction like 0.8 or a vocabulary size), got {self.transition}")
        alphabet = self.fixed_alphabet()
        if alphabet is not None and self.vocab_size < alphabet:
            raise ConfigError(
                f"--vocab-size {self.vocab_size} is smaller than the alphabet: {self.kind} needs at least {alphabet} "
                f"({len(self.specials)} special + {alphabet - len(self.specials)} base tokens); raise --vocab-size"
            )
        if self.kind == "superbpe":
            t = self.transition_vocab()
            if t >= self.vocab_size:
                raise ConfigError(
                    f"--transition {t} must be smaller than --vocab-size {self.vocab_size}; give a fraction like 0.8 or a smaller size"
                )
            if t < alphabet:
                raise ConfigError(
                    f"--transition gives a stage-1 vocabulary of {t}, smaller than the byte-level alphabet ({alphabet}); "
                    f"raise --transition or --vocab-size"
                )

    @property
    def specials(self) -> tuple[str, ...]:
        """The special tokens of this run (the kind's defaults unless given)."""
        if self.special_tokens is not None:
            return tuple(self.special_tokens)
        return DEFAULT_SPECIAL_TOKENS[self.kind]

    def fixed_alphabet(self) -> int | None:
        """Smallest vocabulary the kind can have whatever the text (None when it depends on the text)."""
        n = len(self.specials)
        if self.kind in ("bpe", "superbpe", "char-bpe"):
            return n + 256
        if self.kind == "char":
            return n + 257 if self.char_fallback == "byte" else n + ("<unk>" not in self.specials) + 1
        if self.kind in ("sp-bpe", "sp-unigram"):
            return n + 256 + 1  # control tokens, 256 byte pieces, at least one character
        return None

    @property
    def token_chars_limit(self) -> int | None:
        """char-bpe defaults to 4 characters per token (KL3M uses 3 or 4)."""
        if self.max_token_chars is not None:
            return self.max_token_chars
        return 4 if self.kind == "char-bpe" else None

    def transition_vocab(self) -> int:
        """Stage-1 vocabulary size of SuperBPE (the transition point t)."""
        if self.transition < 1:
            return int(round(self.transition * self.vocab_size))
        return int(self.transition)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["special_tokens"] = list(self.specials)
        if self.kind == "superbpe":
            d["transition_vocab"] = self.transition_vocab()
        d["max_token_chars"] = self.token_chars_limit
        return d
