"""tokbench: a tokenizer workbench.

Train, evaluate, infer training mixtures of, transplant models onto, and regression-check tokenizers::

    from tokbench import load_tokenizer, train, evaluate, infer_mixture, transplant, check

These six are functions (see :mod:`tokbench.api`); each imports its machinery when called, so importing
tokbench is cheap. The library's parts stay importable as modules: ``from tokbench.train import
TrainConfig``, ``from tokbench.check import run_check``, ``tokbench.corpora``, ``tokbench.tokenizer``.
"""

import sys as _sys
import types as _types

from tokbench.version import __version__  # noqa: E402

from tokbench.api import check, evaluate, infer_mixture, load_tokenizer, train, transplant  # noqa: E402

__all__ = ["load_tokenizer", "train", "evaluate", "infer_mixture", "transplant", "check", "__version__"]


class _Package(_types.ModuleType):
    """The package object, keeping ``tokbench.train`` (and ``check``, ``transplant``) the API functions:
    importing the same-named subpackage sets the parent's attribute to the module, which would turn
    ``from tokbench import train`` into a module again once anything imported ``tokbench.train.config``.
    The subpackages stay reachable through the import system (``from tokbench.train import TrainConfig``)."""

    def __setattr__(self, name, value):
        if name in __all__ and isinstance(value, _types.ModuleType):
            return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package
