"""Tokenizers of every format behind one interface.

>>> from tokbench.tokenizer import load_tokenizer      # doctest: +SKIP
>>> tok = load_tokenizer("cl100k")                      # doctest: +SKIP
>>> enc = tok.encode_batch(["Merhaba dünya", "Hello"])   # doctest: +SKIP
>>> enc.ids, enc.doc_offsets, enc.starts, enc.ends      # doctest: +SKIP
"""

from tokbench.tokenizer.base import Encoded, Tokenizer, utf8_prefix
from tokbench.tokenizer.load import load_tokenizer
from tokbench.tokenizer.references import REFERENCES, available_references

__all__ = ["Encoded", "Tokenizer", "load_tokenizer", "utf8_prefix", "REFERENCES", "available_references"]
