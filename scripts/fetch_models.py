#!/usr/bin/env python
"""Fetch the models tokbench's transplant tests, benchmark and demo use: a thin wrapper of
`tokbench fetch smollm2 minilm` (SmolLM2-135M-Instruct as GGUF, all-MiniLM-L6-v2)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tokbench.cli.main import app  # noqa: E402

if __name__ == "__main__":
    app(["fetch", "smollm2", "minilm", *sys.argv[1:]], prog_name="fetch_models.py")
