# Sourced by scripts/demo.sh and scripts/test.sh: use the active virtual environment, or create and
# activate ./.venv, then install tokbench (editable) with the extras named in TOKBENCH_EXTRAS.
# torch is installed first, on its own, so that pip never resolves a GPU build for the `model` extra:
# TOKBENCH_TORCH names the requirement (default: torch==2.13.0, a CPU build on the project's machines;
# elsewhere install the CPU build of torch yourself first and it is kept).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ -z "${VIRTUAL_ENV:-}" ]; then
  if [ ! -x .venv/bin/python ]; then
    echo "creating virtual environment .venv" >&2
    python3 -m venv .venv
  fi
  # shellcheck disable=SC1091
  . .venv/bin/activate
fi
python -m pip install -q --disable-pip-version-check --upgrade pip
if [[ ",${TOKBENCH_EXTRAS:-}," == *",model,"* ]] && ! python -c "import torch" 2>/dev/null; then
  echo "installing ${TOKBENCH_TORCH:-torch==2.13.0} (CPU build) first" >&2
  python -m pip install -q --disable-pip-version-check "${TOKBENCH_TORCH:-torch==2.13.0}"
fi
# pip rejects an empty extras list (".[]"), so name extras only when there are some.
if [ -n "${TOKBENCH_EXTRAS:-}" ]; then target=".[${TOKBENCH_EXTRAS}]"; else target="."; fi
python -m pip install -q --disable-pip-version-check -e "$target"
