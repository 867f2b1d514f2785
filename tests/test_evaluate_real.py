"""evaluate() on real reference tokenizers and the bundled corpora (integration: needs the fetched files)."""

from __future__ import annotations

import pytest

from tokbench.corpora import load_sources
from tokbench.metrics import EvalConfig, evaluate

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def results():
    try:
        load_sources("udhr:eng")
    except Exception as exc:  # corpora not built on this checkout
        pytest.skip(f"bundled corpora unavailable: {exc}")
    cfg = EvalConfig(metrics=("compression", "fertility", "premium", "coverage"), corpora=("libreoffice:de,ja,tr@test",),
                     premium_corpus="udhr:eng,deu_1996,tur,rus,cmn_hans")
    return evaluate(["gpt2", "cl100k", "gemma3"], cfg)


def test_premium_is_one_for_the_reference_and_ordered_like_the_papers(results):
    prem = {(r["tokenizer"], r["lang"]): r["premium"] for r in results.tables["premium"]}
    assert prem[("gpt2", "eng")] == prem[("cl100k", "eng")] == 1.0
    # Petrov et al. (FLORES): GPT-2 Russian 5.74 > Turkish 2.43 > German 2.14; cl100k lowers every one of them.
    assert prem[("gpt2", "rus")] > prem[("gpt2", "tur")] > prem[("gpt2", "deu_1996")] > 1.5
    for lang in ("rus", "tur", "deu_1996", "cmn_hans"):
        assert prem[("cl100k", lang)] < prem[("gpt2", lang)]


def test_bytes_per_token_matches_the_native_encoder(results, reference_tokenizer):
    tok = reference_tokenizer("cl100k")
    src = load_sources("libreoffice:de@test")[0]
    n_tokens = sum(len(x) for x in tok._enc.encode_ordinary_batch(src.texts))
    row = next(r for r in results.tables["compression"] if r["tokenizer"] == "cl100k" and r["lang"] == "de")
    assert row["tokens"] == n_tokens
    assert row["bytes_per_token"] == pytest.approx(src.n_bytes / n_tokens)


def test_fertility_not_applicable_for_japanese_and_coverage_sane(results):
    fert = {(r["tokenizer"], r["lang"]): r for r in results.tables["fertility"]}
    assert fert[("gpt2", "ja")]["fertility"] is None
    assert fert[("gpt2", "tr")]["fertility"] > fert[("gemma3", "tr")]["fertility"] >= 1.0
    cov = {(r["tokenizer"], r["lang"]): r for r in results.tables["coverage"]}
    assert cov[("gemma3", "ja")]["byte_token_rate"] < cov[("gpt2", "ja")]["byte_token_rate"]
    assert all(r["unk_rate"] == 0 for r in results.tables["coverage"])  # byte-level: nothing is unknown
