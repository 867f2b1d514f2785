"""Which files make a tokenizer folder: the one list the loader, the encoding cache's key, the hub
lookup and the transplant's search for a model's own tokenizer all read."""

from __future__ import annotations

from pathlib import Path

#: tokbench's own manifest beside a tokenizer it trained.
TOKBENCH_MANIFEST = "tokbench.json"

#: A folder's tokenizer file, in order of preference (the first present is loaded; else a *.tiktoken).
MODEL_FILES = ("tokenizer.json", "tekken.json", "tokenizer.model", "spm.model")
#: Files beside the model file that change what the folder's tokenizer does.
SIDE_FILES = (TOKBENCH_MANIFEST, "tokenizer_config.json")


def model_file(folder: Path) -> Path | None:
    """The file a tokenizer folder is loaded from, or None when it holds no tokenizer."""
    for name in MODEL_FILES:
        if (folder / name).is_file():
            return folder / name
    tiktoken_files = sorted(folder.glob("*.tiktoken"))
    return tiktoken_files[0] if tiktoken_files else None


def tokenizer_files(folder: Path) -> list[Path]:
    """Every file that decides the behaviour of ``folder``'s tokenizer (model file first); [] for none."""
    model = model_file(folder)
    if model is None:
        return []
    return [model] + [folder / n for n in SIDE_FILES if (folder / n).is_file()]
