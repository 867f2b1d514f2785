"""Run a regression gate: re-measure a tokenizer as its baseline was measured, and compare."""

from __future__ import annotations

from pathlib import Path

from tokbench.check.baseline import read_baseline, remeasure
from tokbench.check.compare import CheckReport, compare
from tokbench.check.config import CheckConfig
from tokbench.errors import CorruptFileError
from tokbench.progress import Advance


def run_check(tok, baseline_path: str | Path, config: CheckConfig = CheckConfig(), advance: Advance | None = None) -> CheckReport:
    """Re-measure ``tok`` as its baseline was measured and compare; never raises on a failed check
    (look at ``report.passed``), only on bad input."""
    baseline = read_baseline(baseline_path)
    try:
        current, errors = remeasure(tok, baseline, advance)
        return compare(baseline, current, config=config, load_errors=errors, tokenizer=tok.name, baseline_path=str(baseline_path))
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        # A hand-edited or truncated baseline whose top level looks right but whose entries do not.
        raise CorruptFileError(
            f"baseline '{baseline_path}' is malformed ({type(exc).__name__}: {str(exc)[:80]}); rewrite it with --write-baseline"
        ) from None
