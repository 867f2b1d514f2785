"""Package layout for setuptools; all metadata is in pyproject.toml.

The bundled corpora are kept in the repository's top-level ``corpora/`` folder (built and checked by
scripts/build_corpora.py and tests/test_manifest.py) and installed as package data under
``tokbench/bundled_corpora/``, so a non-editable install (wheel or sdist) works from any folder. Each
corpus folder whose name Python could import is declared a (data-only) package, which keeps setuptools
from warning about it; the files of any other folder (``gnome-help``) go with the nearest such package.
"""

from pathlib import Path

from setuptools import find_packages, setup

CORPORA = Path(__file__).resolve().parent / "corpora"
DATA_ROOT = "tokbench.bundled_corpora"


def _corpora_packages() -> dict[str, list[str]]:
    """{package name: [file paths relative to its folder]} for every file under corpora/."""
    packages: dict[str, list[str]] = {DATA_ROOT: []}
    for path in sorted(CORPORA.rglob("*")):
        if path.is_dir() or "__pycache__" in path.parts:
            continue
        parts = path.relative_to(CORPORA).parts
        folders = parts[:-1]
        depth = 0
        while depth < len(folders) and folders[depth].isidentifier():
            depth += 1
        name = ".".join((DATA_ROOT, *folders[:depth]))
        packages.setdefault(name, []).append("/".join(parts[depth:]))
    return packages


DATA = _corpora_packages()

setup(
    packages=find_packages(include=["tokbench", "tokbench.*"]) + sorted(DATA),
    package_dir={DATA_ROOT: "corpora"},
    package_data=DATA,
)
