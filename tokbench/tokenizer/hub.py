"""Hugging Face hub ids (``Qwen/Qwen3-0.6B``, ``ORG/NAME@REVISION``) as tokenizer specs.

Resolved like ``AutoTokenizer.from_pretrained`` resolves them, without executing anything:

1. the local Hugging Face cache, offline: ``$HF_HUB_CACHE`` (else ``$HF_HOME/hub``, else
   ``~/.cache/huggingface/hub``) holds ``models--ORG--NAME/snapshots/COMMIT/`` with ``refs/REVISION``
   naming the commit (``main`` by default);
2. else, when ``huggingface_hub`` is installed and ``HF_HUB_OFFLINE`` is not set, the hub itself: only
   the tokenizer's data files are downloaded (into the same cache), never code.

The loaded tokenizer is named by its repo id, so reports say ``Qwen/Qwen3-0.6B``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from tokbench.errors import InputNotFoundError
from tokbench.tokenizer.folder import MODEL_FILES, model_file

_PART = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_-])?"
#: ORG/NAME with an optional @REVISION (a branch, tag or commit). No part may be '..' or start with a dot,
#: so an id never leaves the cache folder.
HUB_ID = re.compile(rf"^(?P<repo>{_PART}/{_PART})(?:@(?P<rev>[A-Za-z0-9][A-Za-z0-9._/-]{{0,99}}))?$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
#: What a tokenizer needs from a model repository (weights are never fetched).
TOKENIZER_PATTERNS = (*MODEL_FILES, "tokenizer_config.json", "special_tokens_map.json", "*.tiktoken")


def parse_hub_id(spec: str) -> tuple[str, str] | None:
    """'Qwen/Qwen3-0.6B@main' -> ('Qwen/Qwen3-0.6B', 'main'); None when ``spec`` is no hub id.

    >>> parse_hub_id("Qwen/Qwen3-0.6B"), parse_hub_id("../etc/passwd"), parse_hub_id("a/b@v1.0")
    (('Qwen/Qwen3-0.6B', 'main'), None, ('a/b', 'v1.0'))
    """
    m = HUB_ID.match(spec.strip())
    if not m or ".." in spec:
        return None
    return m.group("repo"), m.group("rev") or "main"


def hf_hub_cache() -> Path:
    """Where the Hugging Face libraries keep downloaded repositories (their own environment variables)."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return Path(os.environ[var]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "huggingface" / "hub"


def local_snapshot(repo: str, revision: str = "main") -> Path | None:
    """The cached snapshot folder of ``repo`` at ``revision`` holding a tokenizer, or None."""
    root = hf_hub_cache() / ("models--" + repo.replace("/", "--"))
    if not root.is_dir():
        return None
    commit = revision if _COMMIT.match(revision) else None
    if commit is None:
        ref = root / "refs" / revision
        try:
            text = ref.read_text("utf-8").strip() if ref.resolve().is_relative_to(root.resolve()) else ""
        except OSError:
            return None
        commit = text if _COMMIT.match(text) else None
    if commit is None:
        return None
    snap = root / "snapshots" / commit
    return snap if snap.is_dir() and model_file(snap) is not None else None


def resolve_hub_id(spec: str) -> Path | None:
    """The local folder of a hub id's tokenizer (downloading its tokenizer files when online), or None when
    ``spec`` is no hub id. Raises :class:`InputNotFoundError` when it is one but cannot be found."""
    parsed = parse_hub_id(spec)
    if parsed is None:
        return None
    repo, revision = parsed
    snap = local_snapshot(repo, revision)
    if snap is not None:
        return snap
    where = f"the Hugging Face cache ({hf_hub_cache()})"
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        raise InputNotFoundError(f"'{spec}' is not in {where} and HF_HUB_OFFLINE is set; download it once online, or give a tokenizer.json")
    try:
        import huggingface_hub
    except ImportError:
        raise InputNotFoundError(f"'{spec}' is not in {where}; install huggingface_hub to download it "
                                 "(pip install huggingface_hub), or give a tokenizer.json") from None
    try:
        folder = huggingface_hub.snapshot_download(repo, revision=revision, allow_patterns=list(TOKENIZER_PATTERNS),
                                                   cache_dir=str(hf_hub_cache()))
    except Exception as exc:  # offline, unknown repo, gated repo: one line either way
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise InputNotFoundError(f"'{spec}' is not in {where} and could not be downloaded "
                                 f"({type(exc).__name__}: {first}); check the id, or give a tokenizer.json") from None
    if model_file(Path(folder)) is None:
        raise InputNotFoundError(f"hub repository '{repo}' has no tokenizer file ({', '.join(TOKENIZER_PATTERNS)})")
    return Path(folder)
