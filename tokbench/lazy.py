"""Package attributes imported on first use (PEP 562).

A package that re-exports its library (``from tokbench.check import run_check``) would otherwise load
its kernels whenever anything imports its config, and ``tokbench --help`` would pay for Numba.
"""

from __future__ import annotations

import importlib
import sys
from typing import Callable


def lazy_attributes(package: str, where: dict[str, str]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: attribute ``name`` is imported from the submodule
    ``where[name]`` the first time it is asked for, then kept in the package.

    >>> getattr_, dir_ = lazy_attributes("tokbench.tokenizer", {"Encoded": "base"})
    >>> getattr_("Encoded").__name__, "Encoded" in dir_()
    ('Encoded', True)
    """

    def __getattr__(name: str) -> object:
        sub = where.get(name)
        if sub is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{sub}"), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(where))

    return __getattr__, __dir__
