"""Read and write model checkpoints without torch: Hugging Face safetensors folders (sharded or not).

safetensors is read with tokbench's own small parser (8-byte header length, JSON header, raw data) over a
memory map, so any dtype (bf16 included, which numpy lacks) is carried through as raw bytes: tensors the
transplant does not touch are written back bit for bit. Only the vocabulary matrices are converted to
float32 and back. GGUF files are read by ``gguf_io`` into the same :class:`Checkpoint`;
:func:`tokbench.transplant.load.load_checkpoint` picks the reader.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from tokbench.errors import CorruptFileError, InputNotFoundError

#: safetensors dtype -> (numpy storage dtype, bytes per element). bf16 is stored as uint16.
DTYPES: dict[str, np.dtype] = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "BF16": np.dtype("<u2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U8": np.dtype("u1"), "BOOL": np.dtype("?"), "U16": np.dtype("<u2"), "U32": np.dtype("<u4"), "U64": np.dtype("<u8"),
    "F8_E4M3": np.dtype("u1"), "F8_E5M2": np.dtype("u1"),
}

#: Names of the input-embedding matrix in common architectures (first match wins).
INPUT_EMBEDDING_NAMES = ("model.embed_tokens.weight", "transformer.wte.weight", "model.embeddings.word_embeddings.weight",
                         "gpt_neox.embed_in.weight", "embed_tokens.weight", "model.language_model.embed_tokens.weight")
#: Names of an untied output head.
OUTPUT_HEAD_NAMES = ("lm_head.weight", "embed_out.weight", "output.weight")


@dataclass
class Tensor:
    """One tensor: its safetensors dtype name, shape and raw little-endian bytes (a memory-map slice or an
    in-memory array in the storage dtype)."""

    dtype: str
    shape: tuple[int, ...]
    data: np.ndarray  # storage dtype (see DTYPES), any shape with the right number of bytes

    def to_float32(self) -> np.ndarray:
        """(shape) float32 copy of the values."""
        a = np.asarray(self.data).reshape(self.shape)
        if self.dtype == "BF16":
            return (a.astype(np.uint32) << 16).view(np.float32)
        if self.dtype in ("F32", "F16", "F64"):
            return a.astype(np.float32)
        raise UnknownFormatError(f"tensor dtype {self.dtype} cannot be read as floats; only F32/F16/BF16/F64 matrices can be transplanted")

    @staticmethod
    def from_float32(values: np.ndarray, dtype: str) -> "Tensor":
        """Store float32 ``values`` in ``dtype`` (bf16 rounds to nearest even, like torch)."""
        values = np.ascontiguousarray(values, dtype=np.float32)
        if dtype == "BF16":
            u = values.view(np.uint32).astype(np.uint64)
            rounded = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
            data = rounded
        else:
            data = values.astype(DTYPES[dtype])
        return Tensor(dtype, tuple(values.shape), data)

    @property
    def nbytes(self) -> int:
        return int(np.asarray(self.data).nbytes)


@dataclass
class Checkpoint:
    """A model: its HF config, tensors by name, and which file (shard) each tensor came from.

    ``shards`` keeps the input's file layout (name -> tensor names) so the output is sharded the same way.
    """

    config: dict
    tensors: dict[str, Tensor]
    shards: dict[str, list[str]]
    source: Path
    source_kind: str  # 'safetensors' | 'gguf'
    metadata: dict[str, str] = field(default_factory=dict)
    extra_files: dict[str, bytes] = field(default_factory=dict)  # e.g. generation_config.json
    tokenizer_json: dict | None = None  # the old tokenizer rebuilt from GGUF metadata
    tokenizer_config: dict = field(default_factory=dict)  # its special tokens by role (GGUF)

    @property
    def vocab_size(self) -> int:
        return int(self.config.get("vocab_size") or self.tensors[self.input_embedding_name()].shape[0])

    def input_embedding_name(self) -> str:
        for n in INPUT_EMBEDDING_NAMES:
            if n in self.tensors:
                return n
        cands = [n for n, t in self.tensors.items() if len(t.shape) == 2 and "embed" in n and "pos" not in n]
        if len(cands) == 1:
            return cands[0]
        raise CorruptFileError(
            f"{self.source}: no input-embedding matrix found (looked for {', '.join(INPUT_EMBEDDING_NAMES[:3])}, ...); "
            "is this a complete language-model checkpoint?"
        )

    def output_head_name(self) -> str | None:
        """The untied output head's tensor name, or None when the model ties it to the input embeddings."""
        if self.tied:
            return None
        for n in OUTPUT_HEAD_NAMES:
            if n in self.tensors:
                return n
        return None

    @property
    def tied(self) -> bool:
        present = any(n in self.tensors for n in OUTPUT_HEAD_NAMES)
        # A file without a head is tied whatever the config says; a head present but declared tied is
        # rewritten from the (new) input embeddings so it stays tied.
        return (not present) or bool(self.config.get("tie_word_embeddings", False))


# --- safetensors ----------------------------------------------------------------------------------------
def read_safetensors(path: Path) -> tuple[dict[str, Tensor], dict[str, str]]:
    """Tensors of one .safetensors file as memory-mapped raw slices, and its ``__metadata__``."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) != 8:
                raise CorruptFileError(f"{path} is too short to be a safetensors file; is the download complete?")
            (n,) = struct.unpack("<Q", head)
            if n > 100_000_000:
                raise CorruptFileError(f"{path} does not start with a safetensors header; is it really .safetensors?")
            header = json.loads(f.read(n))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise CorruptFileError(f"{path} has an unreadable safetensors header; is the file complete?") from None
    meta = header.pop("__metadata__", None) or {}
    mm = np.memmap(path, dtype=np.uint8, mode="r")
    base = 8 + n
    out: dict[str, Tensor] = {}
    for name, info in header.items():
        dt = info["dtype"]
        if dt not in DTYPES:
            raise UnknownFormatError(f"{path}: tensor {name} has dtype {dt}, which tokbench cannot carry")
        b, e = info["data_offsets"]
        if base + e > mm.shape[0]:
            raise CorruptFileError(f"{path} is truncated (tensor {name} runs past the end); re-download it")
        out[name] = Tensor(dt, tuple(info["shape"]), mm[base + b : base + e].view(DTYPES[dt]))
    return out, meta


def write_safetensors(path: Path, tensors: dict[str, Tensor], metadata: dict[str, str] | None = None) -> None:
    """Write tensors (sorted by name, 8-byte aligned header) into ``path`` (inside an atomic output dir)."""
    header: dict = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    offset = 0
    names = sorted(tensors)
    for name in names:
        t = tensors[name]
        header[name] = {"dtype": t.dtype, "shape": list(t.shape), "data_offsets": [offset, offset + t.nbytes]}
        offset += t.nbytes
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for name in names:
            data = np.ascontiguousarray(tensors[name].data)
            f.write(memoryview(data).cast("B"))


def load_hf_dir(path: Path) -> Checkpoint:
    """An HF model folder with config.json and model.safetensors or a sharded index."""
    path = Path(path)
    cfg_path = path / "config.json"
    if not cfg_path.exists():
        raise InputNotFoundError(f"{path} has no config.json; give a Hugging Face model folder or a .gguf file")
    try:
        config = json.loads(cfg_path.read_text("utf-8"))
    except json.JSONDecodeError as exc:
        raise CorruptFileError(f"{cfg_path} is not valid JSON ({exc})") from None
    index = path / "model.safetensors.index.json"
    if index.exists():
        weight_map = json.loads(index.read_text("utf-8")).get("weight_map", {})
        files = sorted(set(weight_map.values()))
    else:
        files = sorted(p.name for p in path.glob("*.safetensors"))
    if not files:
        raise InputNotFoundError(
            f"{path} has no .safetensors weights (a pytorch_model.bin checkpoint must be converted to safetensors first)"
        )
    tensors: dict[str, Tensor] = {}
    shards: dict[str, list[str]] = {}
    metadata: dict[str, str] = {}
    for fname in files:
        fpath = path / fname
        if not fpath.exists():
            raise InputNotFoundError(f"shard {fname} listed in the index is missing from {path}")
        ts, meta = read_safetensors(fpath)
        tensors.update(ts)
        shards[fname] = list(ts)
        metadata.update(meta)
    extra = {}
    for name in ("generation_config.json",):
        if (path / name).exists():
            extra[name] = (path / name).read_bytes()
    return Checkpoint(config, tensors, shards, path, "safetensors", metadata, extra)


def save_checkpoint(ckpt: Checkpoint, out: Path, replaced: dict[str, Tensor], config: dict,
                    progress: Callable[[int], None] | None = None) -> list[str]:
    """Write ``ckpt`` into folder ``out`` with ``replaced`` tensors swapped in (same shard layout).

    Tensors not in ``replaced`` are written from their original bytes. Returns the file names written.
    """
    tensors = dict(ckpt.tensors)
    tensors.update(replaced)
    shards = {k: list(v) for k, v in ckpt.shards.items()}
    # A tied model whose file still holds a head: keep the head equal to the new embeddings.
    written: list[str] = []
    weight_map: dict[str, str] = {}
    total = 0
    for fname, names in shards.items():
        part = {n: tensors[n] for n in names if n in tensors}
        write_safetensors(out / fname, part, {"format": "pt", **{k: v for k, v in ckpt.metadata.items() if k != "format"}})
        written.append(fname)
        for n in part:
            weight_map[n] = fname
            total += part[n].nbytes
        if progress:
            progress(1)
    if len(shards) > 1:
        from tokbench.files import write_json_atomic

        write_json_atomic(out / "model.safetensors.index.json", {"metadata": {"total_size": total}, "weight_map": weight_map})
        written.append("model.safetensors.index.json")
    from tokbench.files import write_json_atomic

    write_json_atomic(out / "config.json", config)
    written.append("config.json")
    for name, data in ckpt.extra_files.items():
        if name == "generation_config.json":
            continue  # rewritten by the caller with the new special-token ids
        (out / name).write_bytes(data)
    return written


def iter_float_names(ckpt: Checkpoint, names: Iterable[str]) -> list[str]:
    return [n for n in names if n in ckpt.tensors]
