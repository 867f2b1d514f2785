"""Turn a model spec (an HF safetensors folder or a .gguf file) into a :class:`Checkpoint`.

The dispatcher sits above both readers, so neither reader imports the other.
"""

from __future__ import annotations

from pathlib import Path

from tokbench.errors import InputNotFoundError, UnknownFormatError
from tokbench.transplant.checkpoint import Checkpoint, load_hf_dir
from tokbench.transplant.gguf_io import load_gguf


def load_checkpoint(spec: str | Path) -> Checkpoint:
    """A model folder (safetensors) or a .gguf file."""
    path = Path(spec).expanduser()
    if not path.exists():
        raise InputNotFoundError(f"no model at '{spec}'; give a Hugging Face model folder with safetensors or a .gguf file")
    if path.is_file():
        with open(path, "rb") as f:
            magic = f.read(4)
        if magic == b"GGUF":
            return load_gguf(path)
        if path.suffix == ".safetensors":
            raise UnknownFormatError(f"{path} is a bare safetensors file; give its folder (with config.json) instead")
        raise UnknownFormatError(f"{path} is neither a GGUF file nor a model folder")
    if not path.is_dir():
        raise UnknownFormatError(f"'{path}' is neither a regular file nor a folder (a FIFO or device?); give a model folder or a .gguf file")
    return load_hf_dir(path)
