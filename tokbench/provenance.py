"""Run manifests: what produced an artifact (tool version, parameters, inputs' hashes, seed, timing)."""

from __future__ import annotations

import platform
import sys
import time
from datetime import datetime, timezone
from typing import Any, Iterable

from tokbench.version import __version__

FORMAT_VERSION = 1


def package_versions(names: Iterable[str] = ("numpy", "numba", "tokenizers", "sentencepiece", "tiktoken", "highspy")) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for n in names:
        try:
            out[n] = version(n)
        except PackageNotFoundError:
            pass
    return out


def run_manifest(command: str, params: dict[str, Any], inputs: Iterable[Any] = (), *, seed: int | None = None,
                 started: float | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A JSON-able manifest. ``inputs`` are TextSources (their provenance()) or dicts; ``started`` is a
    ``time.perf_counter()`` value for wall time."""
    man: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "tool": "tokbench",
        "tokbench_version": __version__,
        "command": command,
        "parameters": params,
        "inputs": [i.provenance() if hasattr(i, "provenance") else i for i in inputs],
        "seed": seed,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": sys.version.split()[0],
        "platform": platform.platform(terse=True),
        "packages": package_versions(),
    }
    if started is not None:
        man["wall_time_s"] = round(time.perf_counter() - started, 3)
    if extra:
        man.update(extra)
    return man
