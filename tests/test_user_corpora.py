"""A user's own text with a language (`my.txt:tr`) and a user's parallel corpus (FLORES-style folder,
TSV, JSONL), through the corpus-spec grammar, the library and the `tokbench evaluate` CLI (offline)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.tokenizer_builders import build_hf_bpe
from tokbench.cli.main import app
from tokbench.corpora import load_sources
from tokbench.corpora.spec import load_parallel
from tokbench.errors import CorpusError

EN = ["The cat sleeps on the mat.", "Open the file menu.", "Save your work often.", "Close the window."]
DE = ["Die Katze schläft auf der Matte.", "Öffnen Sie das Menü Datei.", "Speichern Sie oft.", "Schließen Sie das Fenster."]
TR = ["Kedi paspasın üstünde uyuyor.", "Dosya menüsünü açın.", "Çalışmanızı sık sık kaydedin.", "Pencereyi kapatın."]


@pytest.fixture
def flores(tmp_path):
    d = tmp_path / "flores" / "dev"
    d.mkdir(parents=True)
    for code, texts in (("eng_Latn", EN), ("deu_Latn", DE), ("tur_Latn", TR)):
        (d / f"{code}.dev").write_text("\n".join(texts) + "\n", encoding="utf-8")
    (d / "README").write_text("not a language\n")
    return d


@pytest.fixture
def tok(tmp_path, tiny_texts):
    (tmp_path / "bpe").mkdir()
    return build_hf_bpe(tiny_texts + EN + DE + TR, tmp_path / "bpe")


def test_lang_suffix_on_a_local_file(tmp_path):
    f = tmp_path / "my_turkish.txt"
    f.write_text("\n".join(TR), encoding="utf-8")
    [src] = load_sources(f"{f}:tr")
    assert src.lang == "tr" and src.texts == TR and src.label == f"{f}:tr"
    [plain] = load_sources(str(f))
    assert plain.lang is None and plain.texts == TR


def test_a_colon_in_a_file_name_is_part_of_the_name(tmp_path):
    odd = tmp_path / "notes:v2.txt"
    odd.write_text("eins\nzwei\n", encoding="utf-8")
    [src] = load_sources(str(odd))
    assert src.lang is None and src.texts == ["eins", "zwei"]
    named_like_lang = tmp_path / "a:tr"   # the whole spec exists: a file, no language
    named_like_lang.write_text("x\n")
    assert load_sources(str(named_like_lang))[0].lang is None
    assert load_sources(f"{named_like_lang}:de")[0].lang == "de"


def test_field_and_lang_together(tmp_path):
    f = tmp_path / "notes.jsonl"
    f.write_text("\n".join(json.dumps({"body": t}) for t in DE), encoding="utf-8")
    [src] = load_sources(f"{f}#body:de")
    assert src.lang == "de" and src.texts == DE


def test_flores_folder_is_parallel(flores):
    sources = load_parallel(str(flores))
    assert sorted(s.lang for s in sources) == ["deu_Latn", "eng_Latn", "tur_Latn"]
    assert all(s.parallel and s.ids == ["1", "2", "3", "4"] for s in sources)
    two = load_parallel(f"{flores}:eng_Latn,de")   # any spelling of a language picks its file
    assert [s.lang for s in two] == ["eng_Latn", "deu_Latn"]
    [one] = load_sources(str(flores / "deu_Latn.dev") + ":de")   # one FLORES file as plain text
    assert one.texts == DE and one.lang == "de"
    # anywhere a spec is read (evaluate --corpus, corpora sample), the folder is one source per language
    assert sorted(s.lang for s in load_sources(str(flores))) == ["deu_Latn", "eng_Latn", "tur_Latn"]
    assert [s.lang for s in load_sources(f"{flores}:tur_Latn")] == ["tur_Latn"]


def test_tsv_and_jsonl_parallel(tmp_path):
    tsv = tmp_path / "pairs.tsv"
    tsv.write_text("id\ten\tde\n" + "".join(f"s{i}\t{e}\t{d}\n" for i, (e, d) in enumerate(zip(EN, DE))), encoding="utf-8")
    en, de = load_sources(str(tsv))   # a .tsv is parallel wherever a spec is read
    assert (en.lang, de.lang) == ("en", "de") and de.ids == ["s0", "s1", "s2", "s3"] and de.texts == DE
    jl = tmp_path / "pairs.jsonl"
    jl.write_text("\n".join(json.dumps({"id": i, "en": e, "tr": t}) for i, (e, t) in enumerate(zip(EN, TR))), encoding="utf-8")
    by = {s.lang: s for s in load_parallel(str(jl))}
    assert by["tr"].texts == TR and by["en"].ids == ["0", "1", "2", "3"]


@pytest.mark.parametrize("content, message", [
    ("en\tde\nonly one cell\n", "1 cells, the header has 2"),
    ("source\ttarget\na\tb\n", "not a language code"),
    ("en\n" "a\n", "needs two or more"),
    ("", "is empty"),
])
def test_bad_tsv(tmp_path, content, message):
    f = tmp_path / "bad.tsv"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(Exception, match=message):
        load_sources(str(f))


def test_misaligned_folder_and_unknown_language(flores):
    with pytest.raises(CorpusError, match="'fr_CA' is not in"):
        load_parallel(f"{flores}:eng_Latn,fr_CA")
    (flores / "fra_Latn.dev").write_text("Un.\nDeux.\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="not aligned"):
        load_parallel(str(flores))


def _run(*args):
    return CliRunner().invoke(app, ["evaluate", *args])


def test_cli_tr_and_fertility_on_a_users_file(tmp_path, tok):
    pytest.importorskip("wordfreq")
    f = tmp_path / "my_turkish.txt"
    f.write_text("\n".join(TR), encoding="utf-8")
    r = _run(tok, "--metrics", "tr,fertility", "--corpus", f"{f}:tr", "--tr-corpus", f"{f}:tr",
             "--oracle", "tr=wordfreq", "--out", str(tmp_path / "rep"), "--json")
    assert r.exit_code == 0, r.output
    tables = json.loads(r.stdout)["tables"]
    assert [(x["lang"], x["oracle"]) for x in tables["tr"]] == [("tr", "wordfreq")]
    assert tables["fertility"][0]["lang"] == "tr" and tables["fertility"][0]["fertility"] >= 1.0


def test_cli_premium_on_a_flores_folder(tmp_path, tok, flores):
    r = _run(tok, "--metrics", "premium", "--premium-corpus", str(flores), "--out", str(tmp_path / "rep"), "--json")
    assert r.exit_code == 0, r.output
    rows = {x["lang"]: x for x in json.loads(r.stdout)["tables"]["premium"]}
    assert rows["eng_Latn"]["premium"] == 1.0 and rows["eng_Latn"]["reference"] == "eng_Latn"
    assert rows["deu_Latn"]["segments"] == 4 and rows["deu_Latn"]["premium"] > 0


def test_cli_corpus_and_sample_read_a_flores_folder_per_language(tmp_path, tok, flores):
    r = _run(tok, "--metrics", "compression,fertility", "--corpus", str(flores), "--out", str(tmp_path / "rep"), "--json")
    assert r.exit_code == 0, r.output
    assert {x["lang"] for x in json.loads(r.stdout)["tables"]["fertility"]} == {"eng_Latn", "deu_Latn", "tur_Latn"}
    r = CliRunner().invoke(app, ["corpora", "sample", f"{flores}:deu_Latn", "--json"])
    assert r.exit_code == 0, r.output
    [src] = json.loads(r.stdout)
    assert src["lang"] == "deu_Latn" and src["sample"][0]["text"] == DE[0]


def test_cli_premium_on_a_tsv_with_two_letter_codes(tmp_path, tok):
    tsv = tmp_path / "pairs.tsv"
    tsv.write_text("en\ttr\n" + "".join(f"{e}\t{t}\n" for e, t in zip(EN, TR)), encoding="utf-8")
    r = _run(tok, "--metrics", "premium", "--premium-corpus", str(tsv), "--out", str(tmp_path / "rep"), "--json")
    assert r.exit_code == 0, r.output   # the default reference 'eng' finds the column 'en'
    assert {x["lang"] for x in json.loads(r.stdout)["tables"]["premium"]} == {"en", "tr"}


@pytest.mark.parametrize("args, message", [
    (["--metrics", "tr", "--tr-corpus", "{txt}"], "has no language; attach one with ':LANG'"),
    (["--metrics", "premium", "--premium-corpus", "{txt}"], "is not parallel text"),
    (["--metrics", "premium", "--premium-corpus", "{flores}", "--reference-lang", "fr"], "reference language 'fr' is not among"),
    (["--metrics", "compression", "--corpus", "{txt}:de,tr"], "gives 2 languages to one text"),
])
def test_cli_bad_user_corpora_exit_2_one_line(tmp_path, tok, flores, args, message):
    txt = tmp_path / "plain.txt"
    txt.write_text("\n".join(TR), encoding="utf-8")
    args = [a.format(txt=txt, flores=flores) for a in args]
    r = _run(tok, *args, "--out", str(tmp_path / "rep"))
    assert r.exit_code == 2, r.output
    assert message in r.output and "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1


def test_library_evaluate_takes_specs_for_every_family(tmp_path, tok, flores):
    from tokbench.metrics import EvalConfig, evaluate

    f = tmp_path / "de.txt"
    f.write_text("\n".join(DE), encoding="utf-8")
    res = evaluate([tok], EvalConfig(metrics=("compression", "premium"), use_cache=False),
                   sources=[f"{f}:de"], premium_sources=str(flores))
    assert res.tables["compression"][0]["lang"] == "de"
    assert {r["lang"] for r in res.tables["premium"]} == {"eng_Latn", "deu_Latn", "tur_Latn"}
