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
from typing import Callable

import numpy as np

from tokbench.errors import CorruptFileError, InputNotFoundError, UnknownFormatError

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
        if self.dtype in ("BF16", "F32", "F16", "F64"):
            return self._float32(a)
        raise UnknownFormatError(f"tensor dtype {self.dtype} cannot be read as floats; only F32/F16/BF16/F64 matrices can be transplanted")

    def matrix(self, what: str) -> np.ndarray:
        """The values as a finite (rows, dim) float32 matrix, or one clear error (a vocabulary matrix that is
        not 2-D or holds inf/NaN would give silently wrong rows)."""
        if len(self.shape) != 2 or self.shape[0] < 1 or self.shape[1] < 1:
            raise CorruptFileError(f"the {what} has shape {list(self.shape)}; a (vocabulary, hidden size) matrix is needed")
        m = self.to_float32()
        if not np.isfinite(m).all():
            raise CorruptFileError(f"the {what} holds {int((~np.isfinite(m)).sum()):,} non-finite values (inf/NaN); the checkpoint is damaged")
        return m

    def _float32(self, a: np.ndarray) -> np.ndarray:
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


# --- safetensors ---------------------------------------------------------------------------------------
MAX_HEADER = 100_000_000  # like the safetensors library: a larger header is not a real one


def read_safetensors(path: Path) -> tuple[dict[str, Tensor], dict[str, str]]:
    """Tensors of one .safetensors file as memory-mapped raw slices, and its ``__metadata__``.

    The header is validated like the safetensors library does before any byte is used: a JSON object of
    entries with a known dtype, a shape of non-negative integers and ``data_offsets`` [begin, end] with
    0 <= begin <= end <= data size and end - begin = product(shape) x item size.
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) != 8:
                raise CorruptFileError(f"{path} is too short to be a safetensors file; is the download complete?")
            (n,) = struct.unpack("<Q", head)
            if n > MAX_HEADER or 8 + n > size:
                raise CorruptFileError(f"{path} does not start with a valid safetensors header; is it really .safetensors and complete?")
            header = json.loads(f.read(n).decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise CorruptFileError(f"{path} has an unreadable safetensors header; is the file complete?") from None
    if not isinstance(header, dict):
        raise CorruptFileError(f"{path}: the safetensors header is not a JSON object")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise CorruptFileError(f"{path}: the safetensors __metadata__ must map strings to strings")
    base = 8 + n
    data_size = size - base
    specs: dict[str, tuple[str, tuple[int, ...], int, int]] = {}
    for name, info in header.items():
        if not isinstance(info, dict):
            raise CorruptFileError(f"{path}: header entry {name!r} is not an object")
        dt, shape, offs = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if not isinstance(dt, str):
            raise CorruptFileError(f"{path}: tensor {name!r} has no dtype")
        if dt not in DTYPES:
            raise UnknownFormatError(f"{path}: tensor {name!r} has dtype {dt!r}, which tokbench cannot carry")
        if not isinstance(shape, list) or not all(type(d) is int and 0 <= d < 2**48 for d in shape):
            raise CorruptFileError(f"{path}: tensor {name!r} has an invalid shape {shape!r}")
        if (not isinstance(offs, list) or len(offs) != 2 or not all(type(o) is int for o in offs)
                or not 0 <= offs[0] <= offs[1] <= data_size):
            raise CorruptFileError(f"{path}: tensor {name!r} has invalid data_offsets {offs!r} (the data holds {data_size} bytes); is the file truncated?")
        count = 1
        for d in shape:
            count *= d
        if count * DTYPES[dt].itemsize != offs[1] - offs[0]:
            raise CorruptFileError(f"{path}: tensor {name!r} declares shape {shape} ({dt}) but holds {offs[1] - offs[0]} bytes")
        specs[name] = (dt, tuple(shape), offs[0], offs[1])
    mm = np.memmap(path, dtype=np.uint8, mode="r") if size else np.zeros(0, np.uint8)
    out = {name: Tensor(dt, shape, mm[base + b : base + e].view(DTYPES[dt])) for name, (dt, shape, b, e) in specs.items()}
    return out, meta


def _read_json_object(path: Path, what: str) -> dict:
    """A JSON object from a small metadata file, or one clear error."""
    if not path.is_file():
        raise CorruptFileError(f"{path} is not a regular file")
    if path.stat().st_size > 50_000_000:
        raise CorruptFileError(f"{path} is too large to be a {what}")
    try:
        obj = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise CorruptFileError(f"{path} is not UTF-8 text; is it really a {what}?") from None
    except (ValueError, RecursionError) as exc:
        raise CorruptFileError(f"{path} is not valid JSON ({one_line(exc)})") from None
    if not isinstance(obj, dict):
        raise CorruptFileError(f"{path} must hold a JSON object ({what})")
    return obj


def one_line(exc: object) -> str:
    return " ".join(str(exc).split())[:300]


def _allowed_roots(folder: Path) -> list[Path]:
    """Where a model folder's weight files may really live: inside the folder, or, for a Hugging Face cache
    snapshot (``.../models--X/snapshots/REV``), in that repository's cache folder (whose ``blobs`` the
    snapshot's symlinks point into)."""
    real = folder.resolve()
    roots = [real]
    if real.parent.name == "snapshots" and real.parent.parent.name.startswith("models--"):
        roots.append(real.parent.parent)
    return roots


def safe_member(folder: Path, name: object, what: str = "file") -> Path:
    """``folder / name`` for a name read from a file's contents, refused unless it names a plain file
    inside ``folder``: no absolute path, no ``..``, no separators, no symlink out of the folder."""
    if (not isinstance(name, str) or not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name
            or Path(name).is_absolute() or ":" in name[:2]):
        raise CorruptFileError(f"{folder}: the {what} name {name!r} is not a plain file name inside the folder; refusing to follow it")
    path = folder / name
    if path.exists() or path.is_symlink():
        real = path.resolve()
        if not any(real == r or r in real.parents for r in _allowed_roots(folder)):
            raise CorruptFileError(f"{path} points outside {folder} (to {real}); refusing to follow it")
        if not real.is_file():
            raise CorruptFileError(f"{path} is not a regular file")
    return path


def write_safetensors(path: Path, tensors: dict[str, Tensor], metadata: dict[str, str] | None = None) -> None:
    """Write tensors (sorted by name, 8-byte aligned header) into ``path`` (inside an atomic output dir)."""
    if path.is_symlink():
        raise CorruptFileError(f"refusing to write through the symlink {path}")
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
    config = _read_json_object(safe_member(path, "config.json"), "model config.json")
    index = path / "model.safetensors.index.json"
    if index.exists() or index.is_symlink():
        weight_map = _read_json_object(safe_member(path, index.name), "safetensors index").get("weight_map", {})
        if not isinstance(weight_map, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in weight_map.items()):
            raise CorruptFileError(f"{index}: weight_map must map tensor names to shard file names")
        files = sorted(set(weight_map.values()))
    else:
        files = sorted(p.name for p in path.glob("*.safetensors"))
    for fname in files:  # every name read from the index is checked before anything is opened or written
        safe_member(path, fname, "shard")
    if not files:
        raise InputNotFoundError(
            f"{path} has no .safetensors weights (a pytorch_model.bin checkpoint must be converted to safetensors first)"
        )
    tensors: dict[str, Tensor] = {}
    shards: dict[str, list[str]] = {}
    metadata: dict[str, str] = {}
    for fname in files:
        fpath = safe_member(path, fname, "shard")
        if not fpath.exists():
            raise InputNotFoundError(f"shard {fname} listed in the index is missing from {path}")
        ts, meta = read_safetensors(fpath)
        tensors.update(ts)
        shards[fname] = list(ts)
        metadata.update(meta)
    extra = {}
    for name in ("generation_config.json",):
        if (path / name).exists():
            extra[name] = safe_member(path, name).read_bytes()
    return Checkpoint(config, tensors, shards, path, "safetensors", metadata, extra)


def save_checkpoint(ckpt: Checkpoint, out: Path, replaced: dict[str, Tensor], config: dict,
                    advance: Callable[[int], None] | None = None) -> list[str]:
    """Write ``ckpt`` into folder ``out`` with ``replaced`` tensors swapped in (same shard layout).

    Tensors not in ``replaced`` are written from their original bytes. Returns the file names written.
    """
    tensors = dict(ckpt.tensors)
    tensors.update(replaced)
    shards = {k: list(v) for k, v in ckpt.shards.items()}
    written: list[str] = []
    weight_map: dict[str, str] = {}
    total = 0
    for fname, names in shards.items():
        part = {n: tensors[n] for n in names if n in tensors}
        write_safetensors(safe_member(out, fname, "shard"), part, {"format": "pt", **{k: v for k, v in ckpt.metadata.items() if k != "format"}})
        written.append(fname)
        for n in part:
            weight_map[n] = fname
            total += part[n].nbytes
        if advance:
            advance(1)
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
        safe_member(out, name).write_bytes(data)
    return written

