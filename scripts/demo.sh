#!/usr/bin/env bash
# Install tokbench and run its demo on the bundled corpora: train, evaluate, infer a mixture, check.
#   bash scripts/demo.sh              # full demo (a few minutes on 2 cores)
#   bash scripts/demo.sh --quick      # smaller vocabularies, about a minute
set -euo pipefail
TOKBENCH_EXTRAS="" source "$(dirname "$0")/setup_env.sh"
# Real tokenizers to compare against (best effort: the demo runs without them).
tokbench fetch || echo "(reference tokenizers not fetched; the demo continues without them)" >&2
tokbench demo "$@"
