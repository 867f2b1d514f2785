"""Train tokenizers: BPE, SuperBPE, char, char-BPE, Unigram, WordPiece and SentencePiece.

``train(TrainConfig(kind, vocab_size=...), sources)`` returns a :class:`TrainResult` whose ``save(dir)``
writes a ``tokenizer.json`` that stock `tokenizers` and `transformers` load unchanged, plus a
``tokbench.json`` manifest. One module per algorithm; SuperBPE's stage 2 is tokbench's own Numba kernel
(:mod:`tokbench.train.stage2_kernel`) proven equal to :mod:`tokbench.train.stage2_reference`.
"""

from tokbench.lazy import lazy_attributes
from tokbench.train.config import KINDS, Kind, TrainConfig

# The trainers load on first use: the CLI reads the config without them.
__getattr__, __dir__ = lazy_attributes(__name__, {"TrainResult": "api", "train": "api", "train_to_dir": "api"})

__all__ = ["KINDS", "Kind", "TrainConfig", "TrainResult", "train", "train_to_dir"]
