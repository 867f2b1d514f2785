"""The top-level API: `from tokbench import load_tokenizer, train, evaluate, infer_mixture, transplant, check`."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import tokbench
from tokbench import check, evaluate, infer_mixture, load_tokenizer, train, transplant

TEXTS = ["The quick brown fox jumps over the lazy dog.", "Merhaba dünya! Kitaplarımızdan birini okudun mu?",
         "Der schnelle braune Fuchs springt über den faulen Hund.", "def add(a, b): return a + b  # 123"]


def test_the_six_names_are_functions_even_after_their_subpackages_are_imported():
    import tokbench.check.config  # noqa: F401  (importing a same-named subpackage must not replace them)
    import tokbench.train.config  # noqa: F401
    import tokbench.transplant.config  # noqa: F401
    from tokbench.train import TrainConfig  # the modules stay importable

    assert TrainConfig().kind == "bpe"
    for f in (load_tokenizer, train, evaluate, infer_mixture, transplant, check):
        assert inspect.isfunction(f) and f.__doc__
    assert tokbench.train is train and tokbench.check is check and tokbench.transplant is transplant


def test_import_is_cheap():
    code = ("import sys, tokbench; heavy = [m for m in ('numba', 'numpy', 'tokenizers', 'tiktoken', 'torch', 'typer') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _lines():  # a generator: train() must not need a list
    for _ in range(30):
        yield from TEXTS


def test_train_from_an_iterable_of_strings_and_evaluate_objects(tmp_path):
    res = train(_lines(), kind="bpe", vocab_size=300, min_frequency=1)
    assert res.vocab_size == 300 and res.usage[0]["spec"] == "<texts>"
    hf = res.tokenizer  # a tokenizers.Tokenizer
    assert type(hf).__module__.startswith("tokenizers")
    f = tmp_path / "t.txt"
    f.write_text("\n".join(TEXTS), encoding="utf-8")
    out = evaluate(hf, metrics="compression", sources=[str(f)], use_cache=False)
    row = out.tables["compression_total"][0]
    assert row["tokens"] == sum(len(hf.encode(t).ids) for t in TEXTS)


def test_train_writes_a_folder_and_takes_specs(tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("\n".join(TEXTS * 20), encoding="utf-8")
    res = train([f"{f}=1.0"], kind="char", vocab_size=300, out=tmp_path / "tok")
    assert (tmp_path / "tok" / "tokenizer.json").exists() and res.usage[0]["spec"] == str(f)
    assert load_tokenizer(tmp_path / "tok").vocab_size == res.vocab_size


def test_evaluate_takes_a_tiktoken_encoding(tmp_path):
    tiktoken = pytest.importorskip("tiktoken")
    ranks = {bytes([i]): i for i in range(256)}
    for pair in (b"th", b"he", b"the", b" t", b"er", b"in"):
        ranks[pair] = len(ranks)
    enc = tiktoken.Encoding(name="tiny", pat_str=r"""'s|'t| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+""",
                            mergeable_ranks=ranks, special_tokens={"<|endoftext|>": len(ranks)})
    tok = load_tokenizer(enc)
    assert tok.name == "tiny" and tok.vocab_size == len(ranks) + 1
    f = tmp_path / "t.txt"
    f.write_text("\n".join(TEXTS), encoding="utf-8")
    res = evaluate([enc], metrics=["compression"], sources=str(f), use_cache=False)
    assert res.tables["compression_total"][0]["tokens"] == sum(len(enc.encode_ordinary(t)) for t in TEXTS)


def test_load_tokenizer_refuses_other_objects_in_one_line():
    from tokbench.errors import ConfigError

    with pytest.raises(ConfigError, match="cannot use a builtins.int as a tokenizer"):
        load_tokenizer(3)
    with pytest.raises(ConfigError, match="no training text"):
        train([], kind="bpe", vocab_size=300)
    with pytest.raises(ConfigError, match="item 1 is a bytes"):
        train(["text", b"bytes"], kind="bpe", vocab_size=300)


def test_infer_mixture_on_in_memory_categories():
    en = ["the cat sat on the mat and then the dog sat there too"] * 40
    de = ["die katze sitzt auf der matte und der hund sitzt dort auch"] * 40
    res = train(en * 3 + de, kind="bpe", vocab_size=320, min_frequency=2)
    out = infer_mixture(res.tokenizer, {"en": en, "de": de}, merges=40, min_bytes=1000)
    shares = dict(zip(out.names, out.proportions))
    assert abs(sum(shares.values()) - 1) < 1e-6 and shares["en"] > shares["de"]


def test_check_writes_and_checks_a_baseline(tmp_path):
    res = train(_lines(), kind="bpe", vocab_size=300, min_frequency=1, out=tmp_path / "tok")
    f = tmp_path / "t.txt"
    f.write_text("\n".join(TEXTS), encoding="utf-8")
    data = check(tmp_path / "tok", tmp_path / "b.json", write=True, corpora=[str(f)])
    assert data["vocab"]["size"] == res.vocab_size and (tmp_path / "b.json").exists()
    report = check(tmp_path / "tok", tmp_path / "b.json")
    assert report.passed, [r.message for r in report.failures]


def test_a_transformers_fast_tokenizer_is_taken_as_it_is(tmp_path):
    transformers = pytest.importorskip("transformers")
    res = train(_lines(), kind="bpe", vocab_size=300, min_frequency=1)
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=res.tokenizer)
    tok = load_tokenizer(fast)
    text = "Merhaba dünya! The quick brown fox."
    assert tok.encode_batch([text]).ids.tolist() == fast(text, add_special_tokens=False)["input_ids"]
