"""Regression gates on tokenizer files: baselines, re-measurement, comparison and diffs.

>>> from tokbench.check import build_baseline, write_baseline, run_check      # doctest: +SKIP
>>> write_baseline("tok.baseline.json", build_baseline(tok))                 # doctest: +SKIP
>>> report = run_check(tok, "tok.baseline.json")                             # doctest: +SKIP
>>> report.passed, [r.message for r in report.failures]                      # doctest: +SKIP
"""

from __future__ import annotations

from tokbench.check.config import BASELINE_FORMAT_VERSION, METRICS, CheckConfig, Tolerance, parse_tolerance, parse_tolerances
from tokbench.lazy import lazy_attributes

# Measuring needs the metric kernels (Numba): loaded on first use, so the CLI reads the config without them.
__getattr__, __dir__ = lazy_attributes(__name__, {
    "build_baseline": "baseline", "read_baseline": "baseline", "remeasure": "baseline", "write_baseline": "baseline",
    "CheckReport": "compare", "CheckResult": "compare", "compare": "compare", "diff_tokenizers": "diff",
    "junit_xml": "junit", "write_junit": "junit", "write_report_json": "junit", "run_check": "run",
})

__all__ = [
    "BASELINE_FORMAT_VERSION", "METRICS", "CheckConfig", "CheckReport", "CheckResult", "Tolerance",
    "build_baseline", "compare", "diff_tokenizers", "junit_xml", "parse_tolerance", "parse_tolerances",
    "read_baseline", "remeasure", "run_check", "write_baseline", "write_junit", "write_report_json",
]
