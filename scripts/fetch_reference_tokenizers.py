#!/usr/bin/env python
"""Fetch reference tokenizers into tokbench's cache: a thin wrapper of `tokbench fetch`.

    python scripts/fetch_reference_tokenizers.py            # the default set
    python scripts/fetch_reference_tokenizers.py --all      # every known reference tokenizer
    python scripts/fetch_reference_tokenizers.py cl100k llama3
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tokbench.cli.main import app  # noqa: E402
from tokbench.tokenizer.references import REFERENCES  # noqa: E402

if __name__ == "__main__":
    args = sys.argv[1:]
    if "--all" in args:  # every reference tokenizer (models are fetched by scripts/fetch_models.py)
        args = [a for a in args if a != "--all"] + list(REFERENCES)
    app(["fetch", *args], prog_name="fetch_reference_tokenizers.py")
