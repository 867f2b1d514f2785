"""`tokbench check` through the CLI runner: exit codes 0 (pass), 1 (regression), 2 (bad input), outputs."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from tests.test_check import PARALLEL, _variant_add_token, _variant_normaliser, save
from tests.test_cli_foundation import assert_clean_error
from tests.tokenizer_builders import train_bytelevel_bpe
from tokbench.cli.main import app
from tokbench.cli.progress import PLAIN_PREFIX

runner = CliRunner()


@pytest.fixture
def files(tmp_path, tiny_texts):
    """(tokenizer path, its JSON, corpus file, baseline path written through the CLI)."""
    data = json.loads(train_bytelevel_bpe(tiny_texts + PARALLEL["en"]).to_str())
    tok = save(tmp_path, data, "base")
    corpus = tmp_path / "texts.txt"
    corpus.write_text("\n".join(tiny_texts), encoding="utf-8")
    baseline = tmp_path / "baseline.json"
    r = runner.invoke(app, ["check", tok, "--write-baseline", str(baseline), "--corpus", str(corpus)])
    assert r.exit_code == 0, r.output
    assert "wrote baseline" in r.stdout and baseline.exists()
    return tok, data, corpus, baseline


def test_pass_exit_0_with_junit_and_json(files, tmp_path):
    tok, _, _, baseline = files
    junit, report = tmp_path / "out" / "check.xml", tmp_path / "out" / "check.json"
    r = runner.invoke(app, ["check", tok, "--baseline", str(baseline), "--junit", str(junit), "--json", str(report)])
    assert r.exit_code == 0, r.output
    assert "passed" in r.stdout
    suite = ET.parse(junit).getroot().find("testsuite")
    assert int(suite.get("failures")) == 0 and int(suite.get("tests")) > 50
    data = json.loads(report.read_text())
    assert data["passed"] is True and data["counts"]["fail"] == 0 and len(data["results"]) == int(suite.get("tests"))


def test_regression_exit_1_one_line_per_failure(files, tmp_path):
    tok, data, _, baseline = files
    _variant_normaliser(data)
    _variant_add_token(data)
    changed = save(tmp_path, data, "changed")
    junit = tmp_path / "check.xml"
    r = runner.invoke(app, ["check", changed, "-b", str(baseline), "--junit", str(junit), "--json", "-"])
    assert r.exit_code == 1, r.output
    report = json.loads(r.stdout)  # with --json - stdout carries the JSON report only
    assert report["passed"] is False
    assert 'normaliser changed: none -> {"type":"Lowercase"}' in {x["message"] for x in report["results"]}
    err = [l for l in r.stderr.splitlines() if l.strip() and not l.startswith(PLAIN_PREFIX)]
    assert len(err) == 1 and err[0].startswith("error:") and "checks failed against" in err[0] and "--write-baseline" in err[0]
    assert "Traceback" not in r.output
    assert int(ET.parse(junit).getroot().find("testsuite").get("failures")) > 0
    r = runner.invoke(app, ["check", changed, "-b", str(baseline)])
    assert r.exit_code == 1
    assert "✗ normaliser changed: none -> {\"type\":\"Lowercase\"}" in r.stdout
    assert "✗ vocabulary size changed" in r.stdout


def test_github_annotations(files, tmp_path, monkeypatch):
    tok, data, _, baseline = files
    _variant_add_token(data)
    changed = save(tmp_path, data, "changed")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    r = runner.invoke(app, ["check", changed, "-b", str(baseline)])
    assert r.exit_code == 1
    assert f"::error file={changed},title=tokbench check::vocabulary size changed" in r.stdout


def test_tolerance_option_both_ways(files, tmp_path):
    tok, _, _, baseline = files
    data = json.loads(baseline.read_text())
    (key,) = data["corpora"]
    data["corpora"][key]["metrics"]["bytes_per_token"] *= 1.02  # the tokenizer now looks 2% worse
    worse = tmp_path / "worse.json"
    worse.write_text(json.dumps(data))
    r = runner.invoke(app, ["check", tok, "-b", str(worse)])
    assert r.exit_code == 1 and "bytes_per_token on" in r.stdout and "tolerance 1%" in r.stdout
    r = runner.invoke(app, ["check", tok, "-b", str(worse), "--tolerance", "bytes_per_token=3%"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["check", tok, "-b", str(worse), "--tolerance", "bytes_per_token=0.5"])  # absolute
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize(
    "args,needle",
    [
        (["check", "{tok}", "--baseline", "{tmp}/missing.json"], "does not exist"),
        (["check", "{tok}", "--baseline", "{tmp}/corrupt.json"], "not valid JSON"),
        (["check", "{tok}", "--baseline", "{tmp}/v99.json"], "format_version 99"),
        (["check", "{tok}"], "exactly one of"),
        (["check", "{tok}", "--baseline", "{base}", "--write-baseline", "{tmp}/x.json"], "exactly one of"),
        (["check", "--baseline", "{base}"], "name the tokenizer"),
        (["check", "{tok}", "--diff", "{tok}", "{tok}"], "no TOKENIZER argument"),
        (["check", "{tok}", "--baseline", "{base}", "--tolerance", "speed=1%"], "unknown metric 'speed'"),
        (["check", "{tok}", "--baseline", "{base}", "--tolerance", "bytes_per_token"], "cannot read tolerance"),
        (["check", "{tok}", "--baseline", "{base}", "--corpus", "x.txt"], "re-measures what its baseline recorded"),
        (["check", "{tmp}/nope.json", "--baseline", "{base}"], "no tokenizer at"),
        (["check", "{tok}", "--write-baseline", "{tmp}/x.json", "--corpus", "{tmp}/nothing.txt"], "no corpus or file"),
        (["check", "{tok}", "--write-baseline", "{tmp}/x.json", "--max-bytes", "lots"], "cannot read size"),
        (["check", "--diff", "{tok}", "{tmp}/nope.json"], "no tokenizer at"),
    ],
    ids=["missing", "corrupt", "other-version", "no-mode", "two-modes", "no-tokenizer", "diff-with-tokenizer",
         "unknown-metric", "bad-tolerance", "corpus-on-check", "bad-tokenizer", "bad-corpus", "bad-size", "diff-bad"],
)
def test_bad_input_exit_2_one_line(files, tmp_path, args, needle):
    tok, _, _, baseline = files
    (tmp_path / "corrupt.json").write_text('{"format_version": 1, "vocab": {')
    v99 = json.loads(baseline.read_text())
    v99["format_version"] = 99
    (tmp_path / "v99.json").write_text(json.dumps(v99))
    argv = [a.format(tok=tok, tmp=tmp_path, base=baseline) for a in args]
    assert_clean_error(runner.invoke(app, argv), needle, 2)


def test_write_baseline_probes_only_and_replace(files, tmp_path):
    tok, _, _, _ = files
    path = tmp_path / "probes_only.json"
    r = runner.invoke(app, ["check", tok, "-w", str(path), "--no-corpora"])
    assert r.exit_code == 0 and "0 corpus sources" in r.stdout
    assert json.loads(path.read_text())["corpora"] == {}
    r = runner.invoke(app, ["check", tok, "-w", str(path), "--no-corpora"])
    assert r.exit_code == 0 and "kept (unchanged) baseline" in r.stdout
    path.write_text(path.read_text().replace('"probe_set"', '"probe_set_old"'))
    r = runner.invoke(app, ["check", tok, "-w", str(path), "--no-corpora"])
    assert r.exit_code == 0 and "replaced baseline" in r.stdout
    assert runner.invoke(app, ["check", tok, "-b", str(path)]).exit_code == 0


def test_diff_command(files, tmp_path):
    tok, data, _, _ = files
    data["model"]["merges"] = data["model"]["merges"][1:]
    _variant_add_token(data)
    new = save(tmp_path, data, "new")
    r = runner.invoke(app, ["check", "--diff", tok, new])
    assert r.exit_code == 0, r.output
    assert "1 added, 0 removed" in r.stdout and "'zzqqx'" in r.stdout
    assert "1 removed, 0 reordered" in r.stdout and "first difference at rank 0" in r.stdout
    assert "probes encoded differently" in r.stdout and "old:" in r.stdout and "new:" in r.stdout
    r = runner.invoke(app, ["check", "--diff", tok, new, "--json", "-"])
    assert r.exit_code == 0
    d = json.loads(r.stdout)
    assert d["merges"]["removed"] == 1 and d["vocab"]["added"] == 1


def test_help_has_example():
    r = runner.invoke(app, ["check", "--help"])
    assert r.exit_code == 0 and "--write-baseline" in r.stdout and "--diff" in r.stdout and "Example" in r.stdout
