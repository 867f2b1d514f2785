"""`tokbench check` as a library: baselines, each kind of regression, tolerances, JUnit XML, --diff.

Every tokenizer here is trained in the test from a few sentences (offline, milliseconds); the variants are
made by editing the tokenizer.json the way a careless retrain or hand edit would.
"""

from __future__ import annotations

import gzip
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.tokenizer_builders import BUILDERS, train_bytelevel_bpe
from tokbench.check import CheckConfig, build_baseline, compare, diff_tokenizers, junit_xml, read_baseline, run_check, write_baseline
from tokbench.check.baseline import dumps, remeasure
from tokbench.check.compare import judge_metric
from tokbench.check.config import Tolerance, parse_tolerance
from tokbench.check.diff import diff_merges, longest_increasing_subsequence
from tokbench.errors import ConfigError, CorruptFileError, InputNotFoundError
from tokbench.tokenizer import load_tokenizer

# --- fixtures -------------------------------------------------------------------------------------
PARALLEL = {
    "en": ["The cat sits on the mat.", "Open the file menu.", "Save your work often.", "Version 7.4", "Press OK to continue."],
    "de": ["Die Katze sitzt auf der Matte.", "Öffnen Sie das Menü Datei.", "Speichern Sie Ihre Arbeit oft.", "Version 7.4",
           "Drücken Sie OK, um fortzufahren."],
}


@pytest.fixture
def mini_corpora(tmp_path, monkeypatch):
    """A bundled-corpus root with one small paragraph-parallel corpus 'mini' (en, de; split 'test')."""
    root = tmp_path / "corpora"
    (root / "mini").mkdir(parents=True)
    languages = {}
    for lang, iso3 in (("en", "eng"), ("de", "deu")):
        rel = f"mini/{lang}.test.jsonl.gz"
        with gzip.open(root / rel, "wt", encoding="utf-8") as f:
            for i, t in enumerate(PARALLEL[lang]):
                f.write(json.dumps({"id": f"p{i}", "text": t}, ensure_ascii=False) + "\n")
        languages[lang] = {"iso639_1": lang, "iso639_3": iso3, "splits": {"test": {"file": rel}}}
    manifest = {"corpora": {"mini": {"parallel": True, "kind": "natural", "splits": ["test"], "languages": languages}}}
    (root / "MANIFEST.json").write_text(json.dumps(manifest))
    monkeypatch.setenv("TOKBENCH_CORPORA", str(root))
    return root


@pytest.fixture
def corpus_file(tmp_path, tiny_texts):
    path = tmp_path / "texts.txt"
    path.write_text("\n".join(tiny_texts), encoding="utf-8")
    return path


@pytest.fixture
def tok_json(tiny_texts) -> dict:
    return json.loads(train_bytelevel_bpe(tiny_texts + list(PARALLEL["en"] + PARALLEL["de"])).to_str())


def save(tmp_path: Path, data: dict, name: str) -> str:
    path = tmp_path / name / "tokenizer.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


@pytest.fixture
def setup(tmp_path, tok_json, corpus_file, mini_corpora):
    """(tokenizer.json path, baseline path, config) with a baseline written for the unmodified tokenizer."""
    path = save(tmp_path, tok_json, "base")
    config = CheckConfig(corpora=(str(corpus_file), "mini:en,de@test"), max_bytes=50_000)
    baseline = tmp_path / "baseline.json"
    write_baseline(baseline, build_baseline(load_tokenizer(path), config))
    return path, baseline, config


def messages(report) -> str:
    return "\n".join(r.message for r in report.failures)


# --- a tokenizer against its own baseline -----------------------------------------------------------
def test_passes_against_its_own_baseline(setup):
    path, baseline, config = setup
    report = run_check(load_tokenizer(path), baseline, config)
    assert report.passed, messages(report)
    counts = report.counts()
    assert counts["fail"] == 0 and counts["pass"] > 50
    data = read_baseline(baseline)
    assert set(data["corpora"]) == {str(setup[2].corpora[0]), "mini:en@test", "mini:de@test"}
    de = data["corpora"]["mini:de@test"]
    assert de["premium_ref"]["spec"] == "mini:en@test"
    # 'Version 7.4' is identical in both languages and is left out (untranslated segment).
    assert de["premium_ref"]["segments"] == 4 and de["metrics"]["premium"] > 1.0
    assert data["corpora"]["mini:en@test"]["metrics"]["premium"] is None


def test_same_tokenizer_from_another_path_passes(setup, tmp_path, tok_json):
    _, baseline, config = setup
    copy = save(tmp_path, tok_json, "copy")
    assert run_check(load_tokenizer(copy), baseline, config).passed


@pytest.mark.parametrize("kind", ["hf-unigram", "hf-wordpiece-dir", "sentencepiece-bpe", "tiktoken", "tekken"])
def test_every_format_passes_against_its_own_baseline(kind, tmp_path, tiny_texts, corpus_file):
    spec = BUILDERS[kind](tiny_texts, tmp_path / kind if kind.endswith("dir") else tmp_path)
    tok = load_tokenizer(spec)
    config = CheckConfig(corpora=(str(corpus_file),))
    write_baseline(tmp_path / "b.json", build_baseline(tok, config))
    report = run_check(load_tokenizer(spec), tmp_path / "b.json", config)
    assert report.passed, messages(report)


# --- each regression fails with the right message ------------------------------------------------------
def _variant_remove_merge(d):
    d["model"]["merges"] = d["model"]["merges"][1:]


def _variant_add_token(d):
    top = max(d["model"]["vocab"].values())
    d["added_tokens"].append({"id": top + 1, "content": "zzqqx", "single_word": False, "lstrip": False, "rstrip": False,
                              "normalized": True, "special": False})


def _variant_add_special(d):
    top = max(d["model"]["vocab"].values())
    d["added_tokens"].append({"id": top + 1, "content": "<|im_start|>", "single_word": False, "lstrip": False,
                              "rstrip": False, "normalized": False, "special": True})


def _variant_normaliser(d):
    d["normalizer"] = {"type": "Lowercase"}


def _variant_pretokenizer(d):
    d["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": True}, d["pre_tokenizer"]]}


@pytest.mark.parametrize(
    "variant,expected",
    [
        (_variant_remove_merge, ["merge list changed: {m} -> {m1} merges", "behaviour fingerprint changed"]),
        (_variant_add_token, ["vocabulary size changed: {v} -> {v1} (+1 tokens)"]),
        (_variant_add_special, ["vocabulary size changed", "special tokens changed: added <|im_start|>="]),
        (_variant_normaliser, ['normaliser changed: none -> {{"type":"Lowercase"}}', "behaviour fingerprint changed",
                               "golden 'english' changed"]),
        (_variant_pretokenizer, ["pre-tokenizer changed:", "Digits", "probe 'digits' encodes differently",
                                 "golden 'numbers' changed"]),
    ],
    ids=["remove-merge", "add-token", "add-special-token", "normaliser", "pre-tokenizer"],
)
def test_each_regression_fails_with_its_message(setup, tmp_path, tok_json, variant, expected):
    _, baseline, config = setup
    m, v = len(tok_json["model"]["merges"]), max(tok_json["model"]["vocab"].values()) + 1
    variant(tok_json)
    report = run_check(load_tokenizer(save(tmp_path, tok_json, "variant")), baseline, config)
    assert not report.passed
    text = messages(report)
    for needle in expected:
        assert needle.format(m=m, m1=m - 1, v=v, v1=v + 1) in text, text


def test_removed_merge_shows_the_golden_tokens_that_changed(setup, tmp_path, tok_json):
    _, baseline, config = setup
    first = tok_json["model"]["merges"][0]
    merged = "".join(first) if isinstance(first, list) else first.replace(" ", "")
    _variant_remove_merge(tok_json)
    report = run_check(load_tokenizer(save(tmp_path, tok_json, "variant")), baseline, config)
    golden = [r for r in report.failures if r.category == "golden"]
    assert golden, messages(report)
    # e.g. "golden 'german' changed at token 6: ['en', 'w', ...]... -> ['e', 'n', 'w', ...]... (54 -> 57 tokens)"
    assert all("changed at token" in r.message and " tokens)" in r.message for r in golden)
    assert any(f"'{merged}'" in r.message.split("at token", 1)[1].split(" -> ")[0] for r in golden), messages(report)


def test_lost_round_trip_fails(setup, tmp_path, tok_json):
    _, baseline, config = setup
    tok_json["decoder"] = None  # ids decode to the byte-level alphabet ('Ġ') instead of the text
    report = run_check(load_tokenizer(save(tmp_path, tok_json, "nodecoder")), baseline, config)
    text = messages(report)
    assert "round trip lost on probe 'english'" in text
    assert "round trip lost on mini:de@test: 5 segments do not decode back (baseline 0)" in text
    assert "decoder changed" in text


def test_changed_corpus_is_reported_not_compared(setup, corpus_file):
    path, baseline, config = setup
    corpus_file.write_text(corpus_file.read_text("utf-8") + "\nOne more line.", encoding="utf-8")
    report = run_check(load_tokenizer(path), baseline, config)
    (fail,) = report.failures
    assert fail.category == "corpus" and "changed since the baseline" in fail.message and "--write-baseline" in fail.message


def test_renumbered_vocabulary_is_explained(setup, tmp_path, tok_json):
    _, baseline, config = setup
    vocab = tok_json["model"]["vocab"]
    the = vocab["The"]
    other = next(t for t, i in vocab.items() if i not in (the, 0) and t != "The")
    vocab["The"], vocab[other] = vocab[other], the
    report = run_check(load_tokenizer(save(tmp_path, tok_json, "renumbered")), baseline, config)
    text = messages(report)
    assert f"golden 'english' has the same tokens under other ids (re-numbered vocabulary): token 0 'The' was id {the}" in text
    assert "vocabulary tokens changed" in text


def test_library_version_change_is_reported_not_failed(setup):
    path, baseline, config = setup
    data = read_baseline(baseline)
    data["packages"]["tokenizers"] = "0.0.1"
    current, errors = remeasure(load_tokenizer(path), data)
    report = compare(data, current, config=config, load_errors=errors)
    assert report.passed
    (r,) = [r for r in report.results if r.name == "package:tokenizers"]
    assert r.status == "changed" and r.message.startswith("tokenizers library 0.0.1 -> ")


def test_missing_corpus_fails_that_source_only(setup, corpus_file):
    path, baseline, config = setup
    corpus_file.unlink()
    report = run_check(load_tokenizer(path), baseline, config)
    (fail,) = report.failures
    assert fail.category == "corpus" and "cannot be loaded" in fail.message


# --- tolerances -------------------------------------------------------------------------------------
def _with_metric(baseline: Path, key: str, metric: str, factor: float) -> dict:
    data = read_baseline(baseline)
    data["corpora"][key]["metrics"][metric] *= factor
    return data


@pytest.mark.parametrize(
    "metric,factor,tolerances,status",
    [
        ("bytes_per_token", 1.005, {}, "pass"),            # 0.5% fewer bytes/token now: inside the default 1%
        ("bytes_per_token", 1.02, {}, "fail"),             # 2% worse: outside
        ("bytes_per_token", 1.02, {"bytes_per_token": Tolerance(0.03)}, "pass"),
        ("bytes_per_token", 1.02, {"bytes_per_token": Tolerance(0.01, relative=False)}, "fail"),
        ("bytes_per_token", 0.9, {}, "improved"),          # more bytes per token than the baseline: better
        ("fertility", 1 / 1.005, {}, "pass"),              # lower is better for fertility
        ("fertility", 1 / 1.05, {}, "fail"),
        ("fertility", 1.05, {}, "improved"),
        ("premium", 1 / 1.015, {}, "pass"),                # default premium tolerance is 2%
        ("premium", 1 / 1.03, {"premium": Tolerance(0.05)}, "pass"),
        ("premium", 1 / 1.03, {}, "fail"),
    ],
)
def test_tolerance_is_honoured_both_ways(setup, metric, factor, tolerances, status):
    path, baseline, _ = setup
    key = "mini:de@test"
    old = _with_metric(baseline, key, metric, factor)
    tok = load_tokenizer(path)
    current, errors = remeasure(tok, old)
    report = compare(old, current, config=CheckConfig(tolerances=tolerances), load_errors=errors)
    (r,) = [r for r in report.results if r.category == f"metric:{metric}" and r.name == key]
    assert r.status == status, r.message
    assert report.passed == (status != "fail")
    if status == "fail":
        assert r.message.startswith(f"{metric} on {key}: ") and "worse by" in r.message and "tolerance" in r.message


def test_absolute_tolerance_on_rates():
    cfg = CheckConfig()
    assert judge_metric("unk_rate", 0.0, 0.0009, cfg)[0] == "pass"
    assert judge_metric("unk_rate", 0.0, 0.0011, cfg)[0] == "fail"
    assert judge_metric("byte_fallback_rate", 0.10, 0.09, cfg)[0] == "improved"
    assert judge_metric("fertility", None, None, cfg)[0] == "skipped"
    assert judge_metric("premium", 1.5, None, cfg)[0] == "fail"


def test_parse_tolerance():
    assert parse_tolerance("bytes_per_token=1%") == ("bytes_per_token", Tolerance(0.01, True))
    assert parse_tolerance("unk_rate=0.002") == ("unk_rate", Tolerance(0.002, False))
    for bad in ("bytes_per_token", "speed=1%", "fertility=-1%", "premium=abc"):
        with pytest.raises(ConfigError):
            parse_tolerance(bad)


# --- files --------------------------------------------------------------------------------------------
def test_baseline_file_is_diff_friendly(setup):
    _, baseline, _ = setup
    text = baseline.read_text("utf-8")
    data = json.loads(text)
    assert data["format_version"] == 1 and data["probe_set"]
    # every golden id list sits on one line, keys are sorted
    ids_lines = [l for l in text.splitlines() if l.strip().startswith('"ids": [')]
    assert len(ids_lines) == len(data["golden"]) and all(l.rstrip().endswith(("],", "]")) for l in ids_lines)
    assert list(data) == sorted(data)
    assert dumps(data) + "\n" == text


def test_dumps_round_trips_any_json():
    obj = {"z": [1, 2.5, None, "a\nb"], "a": {"nested": [{"x": 1}, {"y": []}], "empty": {}}, "u": "日本"}
    assert json.loads(dumps(obj)) == obj


def test_bad_baselines_are_refused(tmp_path, setup):
    path, baseline, config = setup
    with pytest.raises(InputNotFoundError, match="does not exist"):
        read_baseline(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format_version": 1, "vocab": ')
    with pytest.raises(CorruptFileError, match="not valid JSON"):
        read_baseline(bad)
    other = tmp_path / "other.json"
    data = json.loads(baseline.read_text("utf-8"))
    data["format_version"] = 99
    other.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="format_version 99"):
        read_baseline(other)
    broken = json.loads(baseline.read_text("utf-8"))
    del broken["behaviour"]["probes"]["digits"]["text"]
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    with pytest.raises(CorruptFileError, match="malformed"):
        run_check(load_tokenizer(path), tmp_path / "broken.json", config)
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"format_version": 1, "vocab": {}}))
    with pytest.raises(CorruptFileError, match="lacks"):
        read_baseline(partial)


def test_junit_xml_is_well_formed(setup, tmp_path, tok_json):
    _, baseline, config = setup
    _variant_normaliser(tok_json)
    report = run_check(load_tokenizer(save(tmp_path, tok_json, "variant")), baseline, config)
    root = ET.fromstring(junit_xml(report, 1.5))
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == len(report.results) == int(suite.get("tests"))
    failures = [c for c in cases if c.find("failure") is not None]
    assert len(failures) == len(report.failures) == int(suite.get("failures")) > 0
    assert all(c.find("failure").get("message") for c in failures)
    assert int(suite.get("skipped")) == sum(c.find("skipped") is not None for c in cases)
    names = {(c.get("classname"), c.get("name")) for c in cases}
    assert ("tokbench.check.pipeline", "normalizer") in names


def test_junit_escapes_characters_xml_cannot_hold():
    from tokbench.check.compare import CheckReport, CheckResult

    report = CheckReport("t\x01", "b.json", [CheckResult("golden", "x", "fail", "token '\x0b' <&> changed")])
    root = ET.fromstring(junit_xml(report))
    assert "\\x0b" in root.find("testsuite/testcase/failure").get("message")


# --- diff ---------------------------------------------------------------------------------------------
def test_longest_increasing_subsequence():
    import random

    rng = random.Random(0)
    for _ in range(50):
        vals = rng.sample(range(100), rng.randint(0, 30))
        idx = longest_increasing_subsequence(vals)
        assert all(vals[a] < vals[b] for a, b in zip(idx, idx[1:]))
        # brute force length by DP
        best = [1] * len(vals)
        for i in range(len(vals)):
            for j in range(i):
                if vals[j] < vals[i]:
                    best[i] = max(best[i], best[j] + 1)
        assert len(idx) == max(best, default=0)


def test_diff_merges_by_hand():
    old = [("a", "b"), ("c", "d"), ("e", "f"), ("g", "h")]
    new = [("c", "d"), ("a", "b"), ("e", "f"), ("x", "y")]
    d = diff_merges(old, new)
    assert (d["added"], d["removed"], d["reordered"], d["first_difference"]) == (1, 1, 1, 0)
    assert d["removed_sample"] == [{"rank": 3, "merge": "g h"}]


def test_diff_tokenizers(tmp_path, tok_json):
    old = load_tokenizer(save(tmp_path, tok_json, "old"))
    first = tok_json["model"]["merges"][0]
    _variant_remove_merge(tok_json)
    _variant_add_token(tok_json)
    _variant_normaliser(tok_json)
    new = load_tokenizer(save(tmp_path, tok_json, "new"))
    d = diff_tokenizers(old, new)
    assert d["vocab"]["added"] == 1 and d["vocab"]["added_sample"][0]["token"] == "zzqqx" and d["vocab"]["removed"] == 0
    assert d["merges"]["removed"] == 1 and d["merges"]["removed_sample"][0]["rank"] == 0
    assert d["merges"]["removed_sample"][0]["merge"] == (" ".join(first) if isinstance(first, list) else first)
    assert [c["component"] for c in d["pipeline"]] == ["normalizer"]
    english = next(p for p in d["probes"] if p["probe"] == "english")
    assert english["old_tokens"] != english["new_tokens"] and english["new_tokens"][0] in ("t", "th", "the")
    assert diff_tokenizers(old, old)["probes"] == [] and diff_tokenizers(old, old)["pipeline"] == []


# --- a real tokenizer ---------------------------------------------------------------------------------
@pytest.mark.integration
def test_real_reference_tokenizer_passes_its_own_baseline(reference_tokenizer, tmp_path):
    """GPT-2 (tiktoken r50k) against a baseline written for it; the bundled corpora when they exist."""
    from tokbench.corpora.bundled import corpora_root

    tok = reference_tokenizer("gpt2")
    bundled = (corpora_root() / "MANIFEST.json").exists()
    config = CheckConfig() if bundled else CheckConfig(corpora=())
    path = tmp_path / "gpt2.baseline.json"
    write_baseline(path, build_baseline(tok, config))
    data = read_baseline(path)
    assert data["vocab"]["size"] == 50257 and data["vocab"]["special_tokens"] == {"<|endoftext|>": 50256}
    # special-token look-alikes in plain text are encoded as text, never as the special id
    assert 50256 not in data["golden"]["special_lookalike"]["ids"]
    assert data["golden"]["english"]["tokens"][:3] == ["The", "Ġquick", "Ġbrown"]
    assert all(p["roundtrip"] for p in data["behaviour"]["probes"].values())
    report = run_check(reference_tokenizer("gpt2"), path, config)
    assert report.passed, messages(report)
    if bundled:
        de = data["corpora"]["libreoffice:de@test"]["metrics"]
        assert de["premium"] > 1.3 and de["unk_rate"] == 0.0
