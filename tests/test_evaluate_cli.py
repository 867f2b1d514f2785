"""`tokbench evaluate` through the CLI runner, on a small fake bundled corpus (offline, seconds)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.tokenizer_builders import build_hf_bpe, build_sentencepiece
from tokbench.cli.main import app

PARALLEL = {
    "en-us": ["The cat sleeps on the mat.", "Open the file menu.", "Save your work often.", "Only in English."],
    "de": ["Die Katze schläft auf der Matte.", "Öffnen Sie das Menü Datei.", "Save your work often."],
    "tr": ["Kedi paspasın üstünde uyuyor.", "Dosya menüsünü açın.", "Çalışmanızı sık sık kaydedin."],
    "ja": ["猫はマットの上で寝ています。", "ファイルメニューを開きます。", "作業をこまめに保存してください。"],
}
TURKISH = ["Kitaplarımızdan birini okudun mu?", "Evlerimizde kedi var.", "Merhaba dünya, nasılsınız?"]
ISO = {"en-us": ("en", "eng"), "de": ("de", "deu"), "tr": ("tr", "tur"), "ja": ("ja", "jpn")}


def _write(root: Path, corpus: str, lang: str, split: str, texts: list[str], ids: list[str] | None = None) -> dict:
    rel = f"{corpus}/{lang}.{split}.jsonl.gz"
    (root / corpus).mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"id": i, "text": t}, ensure_ascii=False) for i, t in zip(ids or [f"p{k}" for k in range(len(texts))], texts)]
    with gzip.open(root / rel, "wt", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return {"file": rel}


@pytest.fixture
def corpora(tmp_path, monkeypatch):
    """A bundled-corpora folder: 'par' (parallel, 4 languages), 'mono' (not parallel), 'turkish'."""
    root = tmp_path / "corpora"
    langs = {}
    for lang, texts in PARALLEL.items():
        # 'de' lacks p3 and 'p2' is left in English (untranslated): neither counts for the premium.
        langs[lang] = {"iso639_1": ISO[lang][0], "iso639_3": ISO[lang][1], "preferred": True,
                       "splits": {"test": _write(root, "par", lang, "test", texts)}}
    mono = {"en": {"iso639_1": "en", "iso639_3": "eng", "splits": {"test": _write(root, "mono", "en", "test", PARALLEL["en-us"])}}}
    turkish = {"tr": {"iso639_1": "tr", "iso639_3": "tur", "splits": {"test": _write(root, "turkish", "tr", "test", TURKISH)}}}
    manifest = {"corpora": {
        "par": {"parallel": True, "kind": "natural", "splits": ["test"], "languages": langs},
        "mono": {"parallel": False, "kind": "natural", "splits": ["test"], "languages": mono},
        "turkish": {"parallel": False, "kind": "natural", "splits": ["test"], "languages": turkish},
    }}
    (root / "MANIFEST.json").write_text(json.dumps(manifest))
    monkeypatch.setenv("TOKBENCH_CORPORA", str(root))
    from tokbench.corpora import bundled

    bundled._load_manifest.cache_clear()
    yield root
    bundled._load_manifest.cache_clear()


@pytest.fixture
def toks(tmp_path, tiny_texts):
    texts = tiny_texts + [t for v in PARALLEL.values() for t in v] + TURKISH
    (tmp_path / "bpe").mkdir()
    (tmp_path / "spm").mkdir()
    return build_hf_bpe(texts, tmp_path / "bpe"), build_sentencepiece(texts, tmp_path / "spm")


def _run(*args):
    return CliRunner().invoke(app, ["evaluate", *args])


BASE = ["--corpus", "par@test", "--premium-corpus", "par@test", "--reference-lang", "en"]


def test_evaluate_writes_report(corpora, toks, tmp_path):
    out = tmp_path / "rep"
    r = _run(*toks, *BASE, "--metrics", "compression,fertility,premium,coverage", "--out", str(out))
    assert r.exit_code == 0, r.output
    for f in ("report.md", "manifest.json", "results.json", "summary.csv", "compression.csv", "premium.json",
              "fertility.csv", "coverage.csv", "scripts.csv", "bytes_per_token.png", "premium.png", "fertility.png"):
        assert (out / f).exists(), f
    md = (out / "report.md").read_text()
    assert "Rényi" in md and "a = 2.5" in md and "not applicable" in md
    premium = json.loads((out / "premium.json").read_text())
    by = {(r["tokenizer"], r["lang"]): r for r in premium}
    tok_name = premium[0]["tokenizer"]
    assert by[(tok_name, "en-us")]["premium"] == 1.0  # against itself
    de = by[(tok_name, "de")]
    assert de["segments"] == 2 and de["dropped_identical"] == 1  # p3 missing, p2 untranslated
    fert = {r["lang"]: r for r in json.loads((out / "fertility.json").read_text()) if r["tokenizer"] == tok_name}
    assert fert["ja"]["fertility"] is None and fert["de"]["fertility"] >= 1.0
    man = json.loads((out / "manifest.json").read_text())
    assert man["command"] == "evaluate" and all(len(i["sha256"]) == 64 for i in man["inputs"])


def test_second_run_uses_the_cache(corpora, toks, tmp_path):
    args = [toks[0], *BASE, "--metrics", "compression,premium", "--json"]
    first = _run(*args, "--out", str(tmp_path / "a"))
    second = _run(*args, "--out", str(tmp_path / "b"))
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    j1, j2 = json.loads(first.stdout), json.loads(second.stdout)
    # par@test serves both compression and premium: its 4 languages are encoded once in the first run
    assert j1["cache"] == {"hits": 4, "misses": 4} and j2["cache"] == {"hits": 8, "misses": 0}
    assert j1["tables"]["premium"] == j2["tables"]["premium"]


def test_tr_metric_with_wordfreq_oracle(corpora, toks, tmp_path):
    pytest.importorskip("wordfreq")
    r = _run(toks[0], "--metrics", "tr", "--tr-corpus", "turkish@test", "--tr-corpus", "par:de@test",
             "--oracle", "tr=wordfreq", "--oracle", "de=wordfreq",
             "--out", str(tmp_path / "tr"), "--json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)["tables"]["tr"]
    assert {(x["lang"], x["oracle"]) for x in rows} >= {("de", "wordfreq"), ("tr", "wordfreq")}
    for x in rows:
        assert 0 <= x["tr_pct_types"] <= 100


def test_failed_tokenizer_among_several_exit_1(corpora, toks, tmp_path):
    out = tmp_path / "rep"
    r = _run(toks[0], str(tmp_path / "nope.json"), *BASE, "--metrics", "compression", "--out", str(out))
    assert r.exit_code == 1
    assert "failed to load" in r.output and "Traceback" not in r.output
    assert "nope.json" in (out / "report.md").read_text()
    assert (out / "compression.csv").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--metrics", "compression,bogus"], "unknown metric"),
        (["--metrics", "premium", "--premium-corpus", "mono@test"], "not parallel"),
        (["--metrics", "premium", "--reference-lang", "fr"], "not in corpus"),
        (["--metrics", "compression", "--corpus", "nosuch.txt"], "no corpus or file"),
        (["--metrics", "compression", "--max-bytes", "lots"], "cannot read size"),
    ],
)
def test_bad_input_one_line_exit_2(corpora, toks, tmp_path, args, message):
    base = ["--corpus", "par@test", "--premium-corpus", "par@test", "--out", str(tmp_path / "x")]
    r = _run(toks[0], *base, *args)
    assert r.exit_code == 2, r.output
    assert message in r.output and "Traceback" not in r.output
    assert len([l for l in r.output.splitlines() if l.strip()]) == 1
    assert not (tmp_path / "x").exists()


def test_existing_output_needs_force(corpora, toks, tmp_path):
    out = tmp_path / "rep"
    out.mkdir()
    r = _run(toks[0], *BASE, "--metrics", "compression", "--out", str(out))
    assert r.exit_code == 2 and "--force" in r.output
    # --force replaces only an earlier report (a folder carrying tokbench's manifest), never a user's folder
    r = _run(toks[0], *BASE, "--metrics", "compression", "--out", str(out), "--force")
    assert r.exit_code == 2 and "--force replaces only" in r.output
    out.rmdir()
    assert _run(toks[0], *BASE, "--metrics", "compression", "--out", str(out)).exit_code == 0
    r = _run(toks[0], *BASE, "--metrics", "compression", "--out", str(out), "--force")
    assert r.exit_code == 0, r.output


def test_unavailable_oracle_is_a_warning_not_a_failure(corpora, toks, tmp_path, monkeypatch):
    from tokbench.errors import MissingDependencyError
    from tokbench.metrics import lexicon

    class Broken(lexicon.Oracle):
        name, has_morphemes, description = "broken", False, "cannot load"

        def __init__(self, lang):
            self.lang = lang

        def _judge(self, words):
            raise MissingDependencyError("the broken oracle needs data that is not here; install it")

    monkeypatch.setitem(lexicon.ORACLES, "broken", Broken)
    out = tmp_path / "rep"
    r = _run(toks[0], "--metrics", "tr", "--tr-corpus", "turkish@test", "--oracle", "tr=broken,wordfreq", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert "warning" in r.output and "broken" in r.output
    rows = json.loads((out / "tr.json").read_text())
    assert {x["oracle"] for x in rows} == {"wordfreq"}
    assert "Left out" in (out / "report.md").read_text()


def test_table_view_prints_the_report_line_once(corpora, toks, tmp_path):
    """The table view (no --json): tables of the results on stdout, then one `report:` line naming the
    report, whether or not there were warnings; with --json that line goes to stderr."""
    out = tmp_path / "rep"
    r = _run(toks[0], *BASE, "--metrics", "compression,premium", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert r.stdout.count("report:") == 1 and str(out / "report.md") in r.stdout.replace("\n", "")
    assert "Summary" in r.stdout and "Bytes per token" in r.stdout  # the tables themselves
    assert r.stdout.rstrip().splitlines()[-1].startswith("report:")  # after the tables
    r = _run(toks[0], *BASE, "--metrics", "compression", "--out", str(tmp_path / "j"), "--json")
    assert r.exit_code == 0 and "report:" not in r.stdout and r.stderr.count("report:") == 1
    json.loads(r.stdout)
