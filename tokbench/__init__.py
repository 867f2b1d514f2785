"""tokbench: a tokenizer workbench.

Train, evaluate, infer training mixtures of, transplant models onto, and regression-check tokenizers.
The library is usable without the CLI; see :mod:`tokbench.tokenizer` and :mod:`tokbench.corpora`.
"""

__version__ = "0.1.0"
