"""Every ``>>>`` example in the package runs (inside the suite, so it gets the isolated cache)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import tokbench

MODULES = sorted(m.name for m in pkgutil.walk_packages(tokbench.__path__, "tokbench.") if not m.name.endswith("__main__"))


def test_every_module_is_found():
    assert {"tokbench.metrics.kernels", "tokbench.tokenizer.base", "tokbench.progress", "tokbench.cli.main"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (see the output above)"
