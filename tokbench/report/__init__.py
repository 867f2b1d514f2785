"""Reports: tables as JSON + CSV + markdown, PNG plots, all written atomically.

Every command that reports (evaluate, infer-mixture, transplant, check, demo) writes through here so
reports look and read the same.
"""

from tokbench.report.tables import markdown_table, write_table
from tokbench.report.plots import bar_chart, grouped_bar_chart

__all__ = ["markdown_table", "write_table", "bar_chart", "grouped_bar_chart"]
