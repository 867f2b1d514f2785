"""`tokbench demo`: the committed example report is what the command produces today."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tokbench.cli.main import app

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.integration
@pytest.mark.slow
def test_demo_reproduces_the_committed_report(tmp_path):
    """Runs the default demo (about 3 minutes on 2 cores) with the reference tokenizers and SmolLM2 that
    scripts/test.sh fetches, and compares report.md line by line with reports/demo/report.md."""
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    fresh = (out / "report.md").read_text("utf-8").splitlines()
    committed = (ROOT / "reports" / "demo" / "report.md").read_text("utf-8").splitlines()
    assert fresh == committed, "reports/demo/report.md is stale: regenerate it with `tokbench demo`"
    for png in ("evaluate/bytes_per_token.png", "evaluate/premium.png", "mixture/mixture.png"):
        assert (out / png).stat().st_size > 1000


def test_demo_refuses_to_replace_a_foreign_folder(tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    result = CliRunner().invoke(app, ["demo", "--quick", "--out", str(foreign)])
    assert result.exit_code == 2 and "already exists" in result.output
    assert (foreign / "notes.txt").read_text() == "keep me"
