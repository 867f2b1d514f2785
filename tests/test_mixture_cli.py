"""`tokbench infer-mixture` through the CLI runner: a small real run and every bad input."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.test_cli_foundation import assert_clean_error
from tests.tokenizer_builders import build_hf_bpe, build_hf_unigram
from tokbench.cli.main import app

runner = CliRunner()

EN = "The cat sat on the mat. The dog sat on the log. Then the cat and the dog went to the market together.\n"
DE = "Die Katze sitzt auf der Matte. Der Hund liegt auf dem Boden. Dann gehen beide zusammen auf den Markt.\n"


@pytest.fixture
def files(tmp_path, tiny_texts):
    (tmp_path / "en.txt").write_text(EN * 120)
    (tmp_path / "de.txt").write_text(DE * 120)
    (tmp_path / "small.txt").write_text("tiny\n")
    (tmp_path / "bpe").mkdir()
    tok = build_hf_bpe(tiny_texts + [EN, DE] * 5, tmp_path / "bpe")
    uni = build_hf_unigram(tiny_texts, tmp_path)
    return tmp_path, tok, uni


def test_run_writes_report_and_json(files):
    d, tok, _ = files
    out = d / "report"
    r = runner.invoke(app, ["infer-mixture", tok, "-c", f"en={d / 'en.txt'}", "-c", f"de={d / 'de.txt'}",
                            "--merges", "50", "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    shares = {c["category"]: c["proportion"] for c in data["categories"]}
    assert set(shares) == {"en", "de"} and sum(shares.values()) == pytest.approx(1.0)
    for key in ("constraints_added", "lp_resolves", "solve_seconds"):
        assert key in data["solver"]
    for name in ("report.md", "mixture.csv", "mixture.json", "mixture.png", "result.json", "manifest.json"):
        assert (out / name).exists(), name
    # the same command again refuses to overwrite, then --force works
    r2 = runner.invoke(app, ["infer-mixture", tok, "-c", f"en={d / 'en.txt'}", "-c", f"de={d / 'de.txt'}",
                             "--merges", "50", "--out", str(out)])
    assert r2.exit_code == 2


def test_help_has_example():
    r = runner.invoke(app, ["infer-mixture", "--help"])
    assert r.exit_code == 0 and "simulate" in r.output
    r = runner.invoke(app, ["infer-mixture", "run", "--help"])
    assert r.exit_code == 0 and "Example" in r.output


def test_non_bpe_tokenizer(files):
    d, _, uni = files
    r = runner.invoke(app, ["infer-mixture", uni, "-c", f"en={d / 'en.txt'}", "-c", f"de={d / 'de.txt'}", "--no-report"])
    assert_clean_error(r, "BPE")


def test_merges_beyond_the_list(files):
    d, tok, _ = files
    r = runner.invoke(app, ["infer-mixture", tok, "-c", f"en={d / 'en.txt'}", "-c", f"de={d / 'de.txt'}",
                            "--merges", "999999", "--no-report"])
    assert_clean_error(r, "beyond the merge list")


def test_duplicate_category_names(files):
    d, tok, _ = files
    r = runner.invoke(app, ["infer-mixture", tok, "-c", f"en={d / 'en.txt'}", "-c", f"en={d / 'de.txt'}", "--no-report"])
    assert_clean_error(r, "given twice")


def test_too_little_text(files):
    d, tok, _ = files
    r = runner.invoke(app, ["infer-mixture", tok, "-c", f"en={d / 'en.txt'}", "-c", f"s={d / 'small.txt'}",
                            "--merges", "50", "--no-report"])
    assert_clean_error(r, "at least 10,000 bytes")


def test_one_category_and_missing_file(files):
    d, tok, _ = files
    r = runner.invoke(app, ["infer-mixture", tok, "-c", f"en={d / 'en.txt'}", "--merges", "50", "--no-report"])
    assert_clean_error(r, "at least 2 categories")
    r = runner.invoke(app, ["infer-mixture", tok, "-c", f"en={d / 'nope.txt'}", "-c", f"de={d / 'de.txt'}", "--no-report"])
    assert_clean_error(r, "nope.txt")


def test_skip_merges_uses_only_the_later_merges(tmp_path):
    # Replaying K merges without constraints and inferring from the next M must (a) refuse K + M beyond the
    # merge list with a clear line and (b) give a result whose TC and merge count cover only the later merges.
    from tokbench.errors import ConfigError
    from tokbench.mixture.config import MixtureConfig
    from tokbench.mixture.infer import Category, infer_mixture
    from tokbench.mixture.simulate import train_bytelevel_bpe
    from tests.test_mixture import HAND_BUILT

    tb = train_bytelevel_bpe([t for texts in HAND_BUILT.values() for t in texts], 144, tmp_path)
    total = len(tb.model_merges())
    cats = [Category(name, texts) for name, texts in HAND_BUILT.items()]
    res = infer_mixture(tb, cats, MixtureConfig(merges=total - 20, skip_merges=20, min_bytes=10))
    assert res.merges == total - 20 and res.skipped == 20 and res.lp.converged
    assert abs(res.proportions.sum() - 1) < 1e-9
    with pytest.raises(ConfigError, match="goes beyond the merge list"):
        infer_mixture(tb, cats, MixtureConfig(merges=total, skip_merges=1, min_bytes=10))


def test_merges_default_is_the_whole_list_when_shorter(files):
    # The tiny BPE has far fewer than 30,000 merges: the default uses all of them and says so.
    d, tok, _ = files
    r = runner.invoke(app, ["infer-mixture", tok, "-c", f"en={d / 'en.txt'}", "-c", f"de={d / 'de.txt'}",
                            "--no-report", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert 0 < data["merges"] == data["merges_in_list"] < 30_000
    r = runner.invoke(app, ["infer-mixture", tok, "-c", f"en={d / 'en.txt'}", "-c", f"de={d / 'de.txt'}", "--no-report"])
    assert r.exit_code == 0 and f"all {data['merges']:,} merges" in r.stdout


def test_json_stdout_is_only_json_in_a_real_process(files):
    # HiGHS prints a banner from C++ straight to file descriptor 1, which the CLI runner cannot see: run a
    # real process and parse its whole stdout.
    import subprocess
    import sys

    d, tok, _ = files
    code = "import sys; from tokbench.cli.main import main; sys.argv[0] = 'tokbench'; main()"
    p = subprocess.run([sys.executable, "-c", code, "infer-mixture", tok, "-c", f"en={d / 'en.txt'}",
                        "-c", f"de={d / 'de.txt'}", "--merges", "50", "--no-report", "--json"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["merges"] == 50


def test_run_says_first_whether_the_lp_is_optimal(files):
    d, tok, _ = files
    out = d / "rep"
    r = runner.invoke(app, ["infer-mixture", tok, "-c", f"en={d / 'en.txt'}", "-c", f"de={d / 'de.txt'}",
                            "--merges", "50", "--time-limit", "30", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert r.stdout.lstrip().startswith("LP optimal (certified")
    md = (out / "report.md").read_text().splitlines()
    assert md[0].startswith("# ") and md[2].startswith("**LP optimal (certified")
    r = runner.invoke(app, ["infer-mixture", tok, "-c", f"en={d / 'en.txt'}", "-c", f"de={d / 'de.txt'}",
                            "--time-limit", "0", "--no-report"])
    assert_clean_error(r, "--time-limit")


def test_both_lp_methods_agree_from_the_cli(files):
    d, tok, _ = files
    args = ["infer-mixture", tok, "-c", f"en={d / 'en.txt'}", "-c", f"de={d / 'de.txt'}", "--merges", "50", "--bootstrap", "0",
            "--no-report", "--json"]
    got = {}
    for method in ("intervals", "steps"):
        r = runner.invoke(app, args + ["--lp-solver", method])
        assert r.exit_code == 0, r.output
        data = json.loads(r.stdout)
        assert data["solver"]["converged"]
        got[method] = data["solver"]["objective"]
    assert got["intervals"] == pytest.approx(got["steps"], rel=1e-5, abs=1e-5)
    assert_clean_error(runner.invoke(app, args + ["--lp-solver", "simplex"]), "--lp-solver")


def test_intervals_in_json_table_and_report(files):
    d, tok, _ = files
    out = d / "rep-b"
    args = ["infer-mixture", tok, "-c", f"en={d / 'en.txt'}", "-c", f"de={d / 'de.txt'}", "--merges", "50", "--bootstrap", "3"]
    r = runner.invoke(app, args + ["--no-report", "--json", "--seed", "7"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["bootstrap"]["replicates"] == 3 and data["bootstrap"]["seed"] == 7
    for c in data["categories"]:
        assert 0 <= c["low"] <= c["proportion"] + 1e-12 and c["proportion"] <= c["high"] + 1e-12 <= 1 + 1e-12
    r = runner.invoke(app, args + ["--out", str(out)])
    assert r.exit_code == 0 and "90%_interval" in r.stdout
    assert "90%_interval" in (out / "report.md").read_text() and "bootstrap intervals" in (out / "report.md").read_text()
    r = runner.invoke(app, args[:-1] + ["1", "--no-report"])
    assert_clean_error(r, "--bootstrap")
    for opt, bad in (("--bootstrap-over", "pages"), ("--interval", "bca"), ("--merge-draw", "all"), ("--bootstrap-block", "0")):
        assert_clean_error(runner.invoke(app, args + ["--no-report", opt, bad]), opt)
    r = runner.invoke(app, args + ["--no-report", "--json", "--bootstrap-over", "both", "--interval", "normal"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)["bootstrap"]
    assert data["over"] == "both" and data["method"] == "normal" and len(data["replicate_proportions"]) == 3


def test_engine_options_are_checked(files):
    d, tok, _ = files
    base = ["infer-mixture", tok, "-c", f"en={d / 'en.txt'}", "-c", f"de={d / 'de.txt'}", "--merges", "50", "--no-report"]
    assert_clean_error(runner.invoke(app, [*base, "--engine", "spark"]), "choose local or ray")
    assert_clean_error(runner.invoke(app, [*base, "--workers", "2"]), "--engine ray")
    assert_clean_error(runner.invoke(app, [*base, "--engine", "ray", "--workers", "0"]), "at least 1")


def test_manifest_records_what_the_stream_read(files):
    d, tok, _ = files
    out = d / "capped"
    r = runner.invoke(app, ["infer-mixture", tok, "-c", f"en={d / 'en.txt'}", "-c", f"de={d / 'de.txt'}",
                            "--merges", "50", "--max-bytes", "10001", "--bootstrap", "0", "--out", str(out)])
    assert r.exit_code == 0, r.output
    inputs = json.loads((out / "manifest.json").read_text())["inputs"]
    from tokbench.corpora import load_source

    for item, name in zip(inputs, ("en", "de")):
        src = load_source(str(d / f"{name}.txt"), max_bytes=10_001)
        assert item["bytes"] == 10_001 and item["sha256"] == src.sha256 and item["segments"] == len(src.texts)
