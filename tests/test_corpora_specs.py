"""Corpus specs over the bundled corpora: names, language codes, splits, weights, budgets, errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.test_cli_foundation import assert_clean_error
from tokbench.cli.main import app
from tokbench.corpora import corpus_info, load_source, load_sources, manifest, parse_weighted, resolve_language
from tokbench.errors import CorpusError

runner = CliRunner()


def test_every_corpus_is_listed():
    r = runner.invoke(app, ["corpora", "list", "--json"])
    assert r.exit_code == 0, r.output
    listed = {row["corpus"] for row in json.loads(r.stdout)}
    assert listed == set(manifest()["corpora"])
    assert {"udhr", "libreoffice", "code", "turkish"} <= listed
    r = runner.invoke(app, ["corpora", "list"])
    assert r.exit_code == 0 and "libreoffice" in r.output


def test_show_corpus():
    r = runner.invoke(app, ["corpora", "show", "libreoffice"])
    assert r.exit_code == 0 and "zh-cn" in r.output


@pytest.mark.parametrize(
    "corpus,code,expected",
    [("libreoffice", "en", "en-us"), ("libreoffice", "eng", "en-us"), ("libreoffice", "en-GB", "en-gb"),
     ("libreoffice", "tur", "tr"), ("libreoffice", "tr", "tr"), ("libreoffice", "zh", "zh-cn"),
     ("udhr", "tr", "tur"), ("udhr", "en", "eng"), ("udhr", "tur", "tur")],
)
def test_language_codes_resolve(corpus, code, expected):
    assert resolve_language(corpus, code) == expected


def test_libreoffice_has_33_languages_and_three_splits():
    # Debian ships 34 libreoffice-help-LANG packages, but the Slovak one's help folder is a link to the
    # Czech help: it is left out rather than labelled Slovak (see corpora/README.md).
    info = corpus_info("libreoffice")
    assert len(info["languages"]) == 33 and "sk" not in info["languages"]
    assert set(info["splits"]) == {"train", "dev", "test"}


def test_parallel_alignment_and_splits_by_document():
    en = load_source("libreoffice:en@test")
    de = load_source("libreoffice:de@test")
    assert en.parallel and de.parallel
    assert set(de.ids) <= set(en.ids), "every German segment has its English original"
    train_docs = {i.split("#")[0] for i in load_source("libreoffice:en@train").ids}
    test_docs = {i.split("#")[0] for i in en.ids}
    assert not train_docs & test_docs, "splits are by document"


def test_udhr_aligned_by_article():
    tr, en = load_source("udhr:tur"), load_source("udhr:eng")
    assert set(tr.ids) == set(en.ids) and len(en.ids) >= 30


def test_many_languages_and_budget():
    sources = load_sources("libreoffice:de,fr,tr@test", max_bytes=2000)
    assert [s.lang for s in sources] == ["de", "fr", "tr"]
    for s in sources:
        assert 2000 <= s.n_bytes < 2000 + max(len(t.encode()) for t in s.texts) + 1
    assert len(load_sources("code@test")) == 5


def test_weighted_spec():
    assert parse_weighted("libreoffice:de@train=0.6") == ("libreoffice:de@train", 0.6)
    assert parse_weighted("code:python@train") == ("code:python@train", 1.0)
    with pytest.raises(CorpusError):
        parse_weighted("udhr:tur=0")


def test_hash_changes_with_content():
    a = load_source("udhr:tur")
    assert a.sha256 == load_source("udhr:tur").sha256
    assert a.sha256 != load_source("udhr:tur", max_bytes=100).sha256


def test_unknown_language():
    assert_clean_error(runner.invoke(app, ["corpora", "sample", "libreoffice:xx@test"]), "language 'xx' is not in corpus")


def test_unknown_split():
    assert_clean_error(runner.invoke(app, ["corpora", "sample", "libreoffice:de@nosuch"]), "split 'nosuch'")


def test_unknown_corpus():
    assert_clean_error(runner.invoke(app, ["corpora", "show", "nosuch"]), "unknown corpus")


def _jsonl_reference(path, field="text"):
    """One json.loads per line: the obviously correct reader the batched one must equal."""
    out = []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if line.strip():
            rec = json.loads(line)
            rec = {"text": rec} if isinstance(rec, str) else rec
            rec.setdefault("id", f"{path.name}:{n}")
            rec["text"] = rec[field]
            out.append(rec)
    return out


def test_batched_jsonl_reader_equals_line_by_line(tmp_path):
    import random

    from tokbench.corpora.spec import _iter_jsonl

    rng = random.Random(3)
    alphabet = "ab ç\u00e9\u4e2d\"\\\n\t{}[],:"
    lines = []
    for i in range(2500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        kind = rng.random()
        lines.append(json.dumps(text) if kind < 0.2 else json.dumps({"text": text, "body": text[::-1], **({"id": f"d{i}"} if kind < 0.6 else {})}))
        if rng.random() < 0.05:
            lines.append("   ")
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    for batch in (1, 7, 4096):
        assert list(_iter_jsonl(path, batch=batch)) == _jsonl_reference(path)


@pytest.mark.parametrize("bad, what", [("{\"text\": \"x\"", "not valid JSON"), ("1, 2", "not valid JSON"),
                                       ("7", "expected an object"), ("{\"body\": \"x\"}", "no 'text' field")])
def test_batched_jsonl_reader_names_the_bad_line(tmp_path, bad, what):
    from tokbench.corpora.spec import _iter_jsonl
    from tokbench.errors import TokbenchError

    path = tmp_path / "c.jsonl"
    path.write_text("\n".join([json.dumps({"text": f"t{i}"}) for i in range(10)] + [bad, json.dumps({"text": "z"})]) + "\n", "utf-8")
    with pytest.raises(TokbenchError, match=f":11: .*{what}"):
        list(_iter_jsonl(path, batch=4))
