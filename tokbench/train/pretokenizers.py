"""Pre-tokenizers of the trained tokenizers, as stock `tokenizers` objects.

Training and the saved ``tokenizer.json`` use the very same objects, so what a model was trained on is
exactly what stock `tokenizers` / `transformers` split at encode time.

* Stage 1 / plain BPE: GPT-2's or GPT-4o's regex, then byte-level mapping (no regex of its own).
* SuperBPE stage 2 (no whitespace splitting, so tokens may bridge words):

  - ``paper``: the reference's stage-2 pre-tokenizer: runs of digits are cut from other text and split
    into groups of three from the right (``1234567`` -> ``1 234 567``); nothing else is split.
  - ``2025``: tokbench's reading of the 2025 recipe: numbers of 1-3 digits, runs of two or more
    punctuation characters and whitespace that is not followed by a non-space character (trailing spaces,
    runs of blanks but their last space) are isolated; everything else stays together.
"""

from __future__ import annotations

from tokbench.tokenizer.formats.tiktoken import PATTERNS

#: Stage-1 regexes by name (GPT-2 = r50k; GPT-4o = o200k).
STAGE1_PATTERNS = {"gpt2": PATTERNS["gpt2"], "gpt4o": PATTERNS["o200k"]}

#: The paper-era stage-2 split: the zero-width points between digit groups of three (from the right).
PAPER_DIGIT_GROUPS = r"(?=(\d{3})+(?!\d))"
#: The 2025 stage-2 split (isolated pieces).
RECIPE_2025 = r"\p{N}{1,3}|[^\s\p{L}\p{N}]{2,}|\s+(?!\S)"


def _byte_level():
    from tokenizers import pre_tokenizers

    return pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)


def stage1_pretokenizer(name: str = "gpt2"):
    """Regex split (isolated) + byte-level mapping, as GPT-2 / GPT-4o tokenizer.json files do."""
    from tokenizers import Regex, pre_tokenizers

    return pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(STAGE1_PATTERNS[name]), behavior="isolated", invert=False),
        _byte_level(),
    ])


def stage2_pretokenizer(recipe: str = "2025"):
    """SuperBPE's stage-2 pre-tokenizer (no whitespace splitting).

    >>> pt = stage2_pretokenizer("paper")
    >>> [p for p, _ in pt.pre_tokenize_str("of the 1234567 cats")]
    ['ofĠtheĠ', '1', '234', '567', 'Ġcats']
    """
    from tokenizers import Regex, pre_tokenizers

    if recipe == "paper":
        return pre_tokenizers.Sequence([
            pre_tokenizers.Digits(individual_digits=False),
            pre_tokenizers.Split(Regex(PAPER_DIGIT_GROUPS), behavior="isolated", invert=False),
            _byte_level(),
        ])
    if recipe == "2025":
        return pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(RECIPE_2025), behavior="isolated", invert=False),
            _byte_level(),
        ])
    raise ValueError(f"unknown SuperBPE recipe {recipe!r}")
