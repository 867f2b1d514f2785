"""Regression gates on tokenizer files: baselines, re-measurement, comparison and diffs.

>>> from tokbench.check import build_baseline, write_baseline, run_check      # doctest: +SKIP
>>> write_baseline("tok.baseline.json", build_baseline(tok))                 # doctest: +SKIP
>>> report = run_check(tok, "tok.baseline.json")                             # doctest: +SKIP
>>> report.passed, [r.message for r in report.failures]                      # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from tokbench.check.baseline import build_baseline, read_baseline, remeasure, write_baseline
from tokbench.check.compare import CheckReport, CheckResult, compare
from tokbench.check.config import BASELINE_FORMAT_VERSION, METRICS, CheckConfig, Tolerance, parse_tolerance, parse_tolerances
from tokbench.check.diff import diff_tokenizers
from tokbench.check.junit import junit_xml, write_junit, write_report_json
from tokbench.errors import CorruptFileError


def run_check(tok, baseline_path: str | Path, config: CheckConfig = CheckConfig(), advance=None) -> CheckReport:
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


__all__ = [
    "BASELINE_FORMAT_VERSION", "METRICS", "CheckConfig", "CheckReport", "CheckResult", "Tolerance",
    "build_baseline", "compare", "diff_tokenizers", "junit_xml", "parse_tolerance", "parse_tolerances",
    "read_baseline", "remeasure", "run_check", "write_baseline", "write_junit", "write_report_json",
]
