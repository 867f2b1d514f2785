"""Turn a tokenizer spec (a path, a model folder, or a reference name) into a :class:`Tokenizer`.

Specs::

    path/to/tokenizer.json        Hugging Face (or Tekken, told apart by content)
    path/to/model_dir/            HF model folder, tokbench output, or a folder with tokenizer.model
    path/to/spm.model             SentencePiece
    path/to/cl100k_base.tiktoken  tiktoken (pattern from the name, or '...tiktoken?pattern=o200k|REGEX')
    cl100k, llama3, ...           a reference tokenizer fetched into the cache
    Qwen/Qwen3-0.6B[@REVISION]    a Hugging Face hub id: the local HF cache, else the hub (tokenizer.hub)
"""

from __future__ import annotations

import json
from pathlib import Path

from tokbench.errors import CorruptFileError, InputNotFoundError, UnknownFormatError
from tokbench.files import require_regular_file
from tokbench.tokenizer.base import Tokenizer
from tokbench.tokenizer.folder import MODEL_FILES, TOKBENCH_MANIFEST, model_file
from tokbench.tokenizer.references import REFERENCES, reference_path

def load_tokenizer(spec: str | Path, name: str | None = None) -> Tokenizer:
    """Load any supported tokenizer; raises a :class:`TokbenchError` with a fix when it cannot."""
    spec = str(spec)
    options: dict[str, str] = {}
    if "?" in spec and not Path(spec).exists():
        spec, _, query = spec.partition("?")
        for part in query.split("&"):
            k, _, v = part.partition("=")
            options[k] = v
    path = Path(spec).expanduser()
    if not path.exists():
        if spec in REFERENCES:
            ref_path = reference_path(spec)
            if not ref_path.exists():
                raise InputNotFoundError(
                    f"reference tokenizer '{spec}' is not in the cache; fetch it with: tokbench fetch {spec}"
                )
            return _load_path(ref_path, name or spec, options)
        from tokbench.tokenizer.hub import parse_hub_id, resolve_hub_id

        folder = resolve_hub_id(spec)
        if folder is not None:
            return _load_path(folder, name or parse_hub_id(spec)[0], options)
        raise InputNotFoundError(
            f"no tokenizer at '{spec}'; give a tokenizer.json, a model folder, a .model/.tiktoken file, a Hugging Face "
            f"hub id (ORG/NAME) or a reference name ({', '.join(REFERENCES)})"
        )
    return _load_path(path, name, options)


def _load_path(path: Path, name: str | None, options: dict[str, str]) -> Tokenizer:
    from tokbench.tokenizer.formats.hf import HFTokenizer
    from tokbench.tokenizer.formats.sentencepiece import SentencePieceTokenizer
    from tokbench.tokenizer.formats.tiktoken import load_tekken, load_tiktoken_file

    if path.is_dir():
        f = model_file(path)
        if f is None:
            raise UnknownFormatError(f"folder {path} holds no {', '.join(MODEL_FILES)} or .tiktoken file")
        tok = _load_path(f, name or path.name, options)
        manifest = path / TOKBENCH_MANIFEST
        if manifest.exists():
            _apply_tokbench_manifest(tok, manifest)
        elif f.name == "tokenizer.json":
            cfg = path / "tokenizer_config.json"
            if cfg.exists():
                try:
                    require_regular_file(cfg, "tokenizer_config.json")
                    conf = json.loads(cfg.read_text("utf-8"))
                except (ValueError, RecursionError, CorruptFileError):
                    conf = None  # optional metadata: a broken one is ignored
                if isinstance(conf, dict):
                    tok.config = conf
        return tok
    require_regular_file(path, "tokenizer file")
    suffix = path.suffix.lower()
    with open(path, "rb") as f:
        head = f.read(4096)
    if suffix == ".tiktoken":
        return load_tiktoken_file(path, options.get("pattern"), name)
    if suffix == ".model" or path.name.startswith("tokenizer.model"):
        return SentencePieceTokenizer(path, name)
    if suffix == ".json" or head.lstrip()[:1] == b"{":
        if b"\0" in head:
            raise CorruptFileError(f"{path} is binary, not JSON")
        try:
            text = path.read_text("utf-8")
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CorruptFileError(f"{path} is not valid JSON ({str(exc)[:120]}); is the file complete?") from None
        except RecursionError:
            raise CorruptFileError(f"{path} is nested too deeply to be a tokenizer file") from None
        if isinstance(data, dict) and "vocab" in data and isinstance(data.get("config"), dict) and "pattern" in data["config"]:
            return load_tekken(path, name)
        if isinstance(data, dict) and "model" in data:
            return HFTokenizer(path, name)
        raise UnknownFormatError(f"{path} is JSON but neither a Hugging Face tokenizer.json nor a Tekken file")
    if _looks_like_tiktoken(head):
        return load_tiktoken_file(path, options.get("pattern"), name)
    raise UnknownFormatError(
        f"cannot tell the format of {path}; supported: tokenizer.json, tekken .json, SentencePiece .model, .tiktoken"
    )


def _looks_like_tiktoken(head: bytes) -> bool:
    lines = head.splitlines()[:3]
    try:
        return bool(lines) and all(len(l.split()) == 2 and l.split()[1].isdigit() for l in lines)
    except Exception:
        return False


def _apply_tokbench_manifest(tok: Tokenizer, manifest: Path) -> None:
    """tokbench's own output: the manifest names the kind ('char', 'superbpe', ...) and provenance."""
    require_regular_file(manifest, "tokbench manifest")
    try:
        info = json.loads(manifest.read_text("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise CorruptFileError(f"{manifest} is not valid JSON ({str(exc)[:120]})") from None
    if not isinstance(info, dict):
        raise CorruptFileError(f"{manifest} must hold a JSON object")
    tok.format = "tokbench"
    tok.tokbench_manifest = info
    tok.trained_kind = info.get("kind")
    if info.get("kind") == "char":
        tok.model_kind = "char"


def as_tokenizer(obj, name: str | None = None) -> Tokenizer:
    """A tokbench :class:`Tokenizer` from a spec or from a tokenizer object of another library.

    Takes a spec (``str``/``Path``), a tokbench Tokenizer, a ``tokenizers.Tokenizer`` (what
    ``AutoTokenizer``'s ``.backend_tokenizer`` is) or a tiktoken ``Encoding``
    (``tiktoken.get_encoding("cl100k_base")``); anything else is an error naming what works.
    """
    if isinstance(obj, Tokenizer) or type(obj).__module__.startswith("tokbench."):  # incl. cached views
        return obj
    if isinstance(obj, (str, Path)):
        return load_tokenizer(obj, name)
    cls = type(obj)
    where = f"{cls.__module__}.{cls.__qualname__}"
    backend = getattr(obj, "backend_tokenizer", None)  # a transformers fast tokenizer wraps one
    if backend is not None and not where.startswith("tokenizers."):
        return as_tokenizer(backend, name or getattr(obj, "name_or_path", None) or None)
    if where.startswith("tokenizers.") and hasattr(obj, "to_str"):
        from tokbench.tokenizer.formats.hf import HFTokenizer

        label = name or "tokenizers.Tokenizer"
        return HFTokenizer(Path(f"<{label}>"), label, raw=obj.to_str().encode("utf-8"))
    if where.startswith("tiktoken.") and hasattr(obj, "_mergeable_ranks"):
        from tokbench.tokenizer.formats.tiktoken import TiktokenTokenizer

        # tiktoken keeps an Encoding's definition in these attributes (its own pickling reads them too).
        return TiktokenTokenizer(name or obj.name, f"tiktoken:{obj.name}", dict(obj._mergeable_ranks), obj._pat_str,
                                 dict(obj._special_tokens))
    from tokbench.errors import ConfigError

    raise ConfigError(f"cannot use a {where} as a tokenizer; give a spec (path, reference name, hub id), a "
                      "tokenizers.Tokenizer, a transformers fast tokenizer or a tiktoken Encoding")
