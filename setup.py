"""Package layout for setuptools; all metadata is in pyproject.toml.

The bundled corpora are kept in the repository's top-level ``corpora/`` folder (built and checked by
scripts/build_corpora.py and tests/test_manifest.py) and installed as package data under
``tokbench/bundled_corpora/``, so a non-editable install (wheel or sdist) works from any folder.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["tokbench", "tokbench.*"]) + ["tokbench.bundled_corpora"],
    package_dir={"tokbench.bundled_corpora": "corpora"},
    package_data={"tokbench.bundled_corpora": ["MANIFEST.json", "README.md", "*/*.jsonl.gz", "*/LICENSES/*.txt"]},
)
