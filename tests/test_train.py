"""tokbench train: every kind, SuperBPE's stages, mixing, output files, and the CLI's bad-input paths."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tokbench.corpora.source import TextSource
from tokbench.tokenizer.bytelevel import symbols_to_bytes
from tokbench.train import KINDS, TrainConfig, train
from tokbench.train.caps import count_words
from tokbench.train.mixture import mix_by_bytes
from tokbench.train.stage2_reference import merge_word

LEX = ["the", "cat", "sat", "on", "mat", "a", "dog", "of", "and", "in", "to", "is", "it", "for", "with", "that"]


def synthetic_lines(n: int = 400, seed: int = 0) -> list[str]:
    """English-like lines with repeated phrases (superwords to find), numbers and 'Label: value' pairs."""
    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        words = [rng.choice(LEX) for _ in range(rng.randint(4, 12))]
        if rng.random() < 0.3:
            words.insert(0, "Note:")
        if rng.random() < 0.3:
            words.append(str(rng.randint(0, 99999)))
        lines.append(" ".join(words) + rng.choice([".", "!", "...", ""]))
    return lines


def source(texts, label="syn") -> TextSource:
    return TextSource(label, "file", label, None, [str(i) for i in range(len(texts))], list(texts))


MULTILINGUAL = [
    "Merhaba dünya! Kitaplarımızdan birini okudun mu?",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "Быстрая коричневая лиса прыгает через ленивую собаку.",
    "日本語のテキストも扱えます。中文也可以。",
    "def add(a, b):\n    return a + b  # 123 4567",
    "Emoji 🤖👩‍👩‍👧 and tabs\tand   runs of spaces.",
]


@pytest.fixture(scope="module")
def corpus():
    return source(synthetic_lines() + MULTILINGUAL * 20)


def cfg(kind, **kw) -> TrainConfig:
    kw.setdefault("max_bytes", None)
    kw.setdefault("min_frequency", 1)
    return TrainConfig(kind, **kw)


def merges_of(tok) -> list[tuple[str, str]]:
    return [tuple(m) if not isinstance(m, str) else tuple(m.split(" ", 1)) for m in json.loads(tok.to_str())["model"]["merges"]]


# --- SuperBPE -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def superbpe(corpus):
    return train(cfg("superbpe", vocab_size=700, transition=500), [corpus])


def test_superbpe_stage1_equals_plain_bpe(corpus, superbpe):
    bpe = train(cfg("bpe", vocab_size=500), [corpus]).tokenizer
    m1 = merges_of(bpe)
    assert superbpe.info["stage1_merges"] == len(m1) > 100
    assert merges_of(superbpe.tokenizer)[: len(m1)] == m1
    v_bpe = bpe.get_vocab()
    v_sup = superbpe.tokenizer.get_vocab()
    assert all(v_sup[t] == i for t, i in v_bpe.items())
    assert superbpe.vocab_size == 700 and superbpe.info["stage2_merges"] == 200


def test_superbpe_encoding_replays_its_merges(superbpe, tmp_path):
    """Stock tokenizers' encoding of the saved model == applying the merges in order ourselves."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(superbpe.save(tmp_path / "sup") / "tokenizer.json"))
    vocab = tok.get_vocab()
    merges = [(vocab[a], vocab[b], vocab[a + b]) for a, b in merges_of(tok)]
    for text in synthetic_lines(40, seed=99) + ["Merhaba dünya: 1234567 the cat sat on the mat."]:
        expected = []
        for piece, _ in tok.pre_tokenizer.pre_tokenize_str(text):
            ids = [vocab[c] for c in piece]
            for a, b, new in merges:
                if a in ids:
                    ids = merge_word(ids, a, b, new)
            expected.extend(ids)
        assert tok.encode(text, add_special_tokens=False).ids == expected
        assert tok.decode(expected) == text


def test_superbpe_has_superwords_and_respects_caps(superbpe):
    toks = [symbols_to_bytes(t) for t in superbpe.tokenizer.get_vocab() if t != "<|endoftext|>"]
    assert max(count_words(t) for t in toks) >= 2  # it did learn superwords
    assert all(count_words(t) <= 4 for t in toks)
    assert not any(b": " in t for t in toks)


def test_superbpe_without_caps_crosses_them():
    lines = ["Note: the cat sat on the mat and the dog"] * 50
    res = train(cfg("superbpe", vocab_size=340, transition=300, caps=False), [source(lines)])
    toks = [symbols_to_bytes(t) for t in res.tokenizer.get_vocab() if t != "<|endoftext|>"]
    assert any(count_words(t) > 4 for t in toks) and any(b": " in t for t in toks)


def test_superbpe_fewer_tokens_than_bpe(corpus):
    test = synthetic_lines(100, seed=5)
    sup = train(cfg("superbpe", vocab_size=700, transition=500), [corpus]).tokenizer
    bpe = train(cfg("bpe", vocab_size=700), [corpus]).tokenizer
    n_sup = sum(len(e.ids) for e in sup.encode_batch(test, add_special_tokens=False))
    n_bpe = sum(len(e.ids) for e in bpe.encode_batch(test, add_special_tokens=False))
    assert n_sup < 0.9 * n_bpe


@pytest.mark.parametrize("recipe", ["paper", "2025"])
def test_superbpe_recipes_split_digits(recipe):
    from tokbench.train.pretokenizers import stage2_pretokenizer

    pieces = [p for p, _ in stage2_pretokenizer(recipe).pre_tokenize_str("in 1234567 ways")]
    assert "1" in pieces and "234" in pieces and "567" in pieces if recipe == "paper" else "123" in pieces
    assert any("Ġ" in p[1:] for p in pieces) or recipe == "2025"


# --- char-bpe ---------------------------------------------------------------------------------------
def test_stock_max_token_length_is_off_by_one(corpus):
    """The fact char-bpe corrects: tokenizers' max_token_length=N yields tokens of at most N-1 symbols."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator(corpus.texts, trainers.BpeTrainer(vocab_size=600, max_token_length=3, show_progress=False,
                                                              initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    assert max(len(t) for t in tok.get_vocab()) == 2


@pytest.mark.parametrize("n", [3, 4])
def test_char_bpe_max_token_chars(corpus, n):
    res = train(cfg("char-bpe", vocab_size=600, max_token_chars=n), [corpus])
    lengths = [len(symbols_to_bytes(t).decode("utf-8", "replace")) for t in res.tokenizer.get_vocab() if t != "<|endoftext|>"]
    assert max(lengths) == n


# --- every kind ------------------------------------------------------------------------------------
VOCAB = {"char": 400, "unigram": 300, "wordpiece": 300}


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_saves_loads_and_round_trips(kind, corpus, tmp_path, tiny_texts):
    from tokenizers import Tokenizer

    from tokbench.tokenizer import load_tokenizer

    res = train(cfg(kind, vocab_size=VOCAB.get(kind, 600), transition=450), [corpus])
    out = res.save(tmp_path / kind)
    files = sorted(p.name for p in out.iterdir())
    assert {"tokenizer.json", "tokbench.json", "tokenizer_config.json", "special_tokens_map.json"} <= set(files)
    assert ("tokenizer.model" in files) == kind.startswith("sp-")
    stock = Tokenizer.from_file(str(out / "tokenizer.json"))
    tok = load_tokenizer(out)
    assert tok.trained_kind == kind
    assert tok.model_kind == {"char": "char", "char-bpe": "bpe", "superbpe": "bpe", "sp-bpe": "bpe",
                              "sp-unigram": "unigram"}.get(kind, kind)
    man = json.loads((out / "tokbench.json").read_text())
    assert man["kind"] == kind and man["inputs"][0]["sha256"] == corpus.sha256 and man["seed"] == 0
    for text in tiny_texts:
        assert tok.encode(text) == stock.encode(text, add_special_tokens=False).ids
        if tok.lossless:
            assert tok.decode(tok.encode(text)) == text
    assert tok.lossless == (kind not in ("unigram", "wordpiece"))


@pytest.mark.parametrize("kind", KINDS)
def test_transformers_loads_the_output(kind, corpus, tmp_path, tiny_texts):
    transformers = pytest.importorskip("transformers")
    res = train(cfg(kind, vocab_size=VOCAB.get(kind, 600), transition=450), [corpus])
    out = res.save(tmp_path / kind)
    auto = transformers.AutoTokenizer.from_pretrained(str(out))
    fast = transformers.PreTrainedTokenizerFast(tokenizer_file=str(out / "tokenizer.json"))
    for text in tiny_texts:
        ids = res.tokenizer.encode(text, add_special_tokens=False).ids
        assert auto.encode(text, add_special_tokens=False) == ids == fast.encode(text, add_special_tokens=False)
        if kind not in ("wordpiece", "unigram"):  # not lossless
            assert auto.decode(ids) == text


def bundled_test_text() -> list[str]:
    """A slice of the bundled test splits (several scripts and code), when the corpora are present."""
    from tokbench.corpora import load_sources
    from tokbench.errors import TokbenchError

    try:
        srcs = load_sources("libreoffice:en-us,de,tr,ru,ja,zh-cn,hi,km@test") + load_sources("code@test")
    except TokbenchError:
        pytest.skip("bundled corpora not built")
    return [t for s in srcs for t in s.texts[:40]]


@pytest.mark.parametrize("kind", KINDS)
def test_lossless_kinds_round_trip_the_bundled_test_text(kind, corpus):
    texts = bundled_test_text()
    res = train(cfg(kind, vocab_size=VOCAB.get(kind, 600), transition=450), [corpus])
    if kind in ("unigram", "wordpiece"):
        return  # not lossless (no byte fallback): nothing to promise
    tok = res.tokenizer
    for text, enc in zip(texts, tok.encode_batch(texts, add_special_tokens=False)):
        assert tok.decode(enc.ids, skip_special_tokens=False) == text


@pytest.mark.parametrize("kind", ["sp-bpe", "sp-unigram"])
def test_sentencepiece_conversion_matches_sentencepiece(kind, corpus, tiny_texts):
    import sentencepiece as spm

    res = train(cfg(kind, vocab_size=600), [corpus])
    sp = spm.SentencePieceProcessor(model_proto=res.extra_files["tokenizer.model"])
    for text in tiny_texts + synthetic_lines(20, seed=3):
        assert res.tokenizer.encode(text, add_special_tokens=False).ids == sp.encode(text)


def test_char_unk_mode(corpus):
    res = train(cfg("char", vocab_size=60, char_fallback="unk"), [corpus])
    unk = res.tokenizer.token_to_id("<unk>")
    assert unk is not None and unk in res.tokenizer.encode("日本語 zzz").ids
    assert res.vocab_size == 60


# --- mixing -----------------------------------------------------------------------------------------
def test_mix_by_bytes_follows_weights_and_seed():
    a = source(["a" * 10] * 100, "a")
    b = source(["bb" * 5] * 100, "b")
    m = mix_by_bytes([a, b], [3, 1], budget=400, seed=1)
    assert [u["bytes_used"] for u in m.usage] == [300, 100]
    assert mix_by_bytes([a, b], [3, 1], budget=400, seed=1).texts == m.texts
    c = source([f"{i:03d}xxxxxxx" for i in range(100)], "c")
    assert mix_by_bytes([c], [1], 200, seed=1).texts != mix_by_bytes([c], [1], 200, seed=2).texts


def test_mix_caps_each_source_at_its_share_and_never_repeats():
    small = source(["x" * 10] * 3, "small")
    big = source(["y" * 10] * 100, "big")
    m = mix_by_bytes([small, big], [1, 1], budget=200, seed=0)
    assert [u["bytes_used"] for u in m.usage] == [30, 100]
    exact = mix_by_bytes([small, big], [1, 1], budget=200, seed=0, exact=True)
    assert [u["bytes_used"] for u in exact.usage] == [30, 30] and exact.usage[0]["budget"] == 60
    assert mix_by_bytes([small], [1], budget=200, seed=0).usage[0]["bytes_used"] == 30


def test_mix_without_budget_takes_everything_or_the_exact_fillable_budget():
    a = source(["a" * 10] * 10, "a")  # 100 bytes
    b = source(["b" * 10] * 50, "b")  # 500 bytes
    assert [u["bytes_used"] for u in mix_by_bytes([a, b], [1, 1], budget=None).usage] == [100, 500]
    assert [u["bytes_used"] for u in mix_by_bytes([a, b], [1, 1], budget=None, exact=True).usage] == [100, 100]


# --- CLI --------------------------------------------------------------------------------------------
runner = CliRunner()


def cli(*args):
    from tokbench.cli.main import app

    return runner.invoke(app, ["train", *map(str, args)])


@pytest.fixture
def text_file(tmp_path):
    p = tmp_path / "train.txt"
    p.write_text("\n".join(synthetic_lines(200)), encoding="utf-8")
    return p


def assert_clean_failure(res, out: Path, fragment: str):
    assert res.exit_code == 2, res.output
    lines = [l for l in res.output.splitlines() if l.strip()]
    assert len(lines) == 1 and "Traceback" not in res.output, res.output
    assert fragment in res.output
    assert not any(p.name.endswith(".partial") for p in out.parent.iterdir())


def test_cli_trains_superbpe_and_reports_json(text_file, tmp_path):
    out = tmp_path / "sup"
    res = cli("superbpe", "--corpus", text_file, "-v", 400, "--transition", 320, "--min-frequency", 1, "-o", out, "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["kind"] == "superbpe" and data["info"]["transition_vocab"] == 320
    assert data["parameters"]["vocab_size"] == 400 and data["inputs"][0]["bytes_used"] > 0
    assert set(data["stages_s"]) >= {"stage1", "stage2_merge"}
    assert (out / "tokenizer.json").exists()


def test_cli_weighted_mixture(tmp_path, text_file):
    other = tmp_path / "code.txt"
    other.write_text("\n".join(f"def f{i}(x):\n    return x + {i}" for i in range(300)), encoding="utf-8")
    out = tmp_path / "mix"
    res = cli("bpe", "-c", f"{text_file}=0.75", "-c", f"{other}=0.25", "-v", 400, "--train-bytes", "4KB", "-o", out, "--json")
    assert res.exit_code == 0, res.output
    used = [u["bytes_used"] for u in json.loads(res.stdout)["inputs"]]
    assert 2900 <= used[0] <= 3100 and 950 <= used[1] <= 1100


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["bpe", "-v", 100], "smaller than the alphabet"),
        (["superbpe", "-v", 400, "--transition", 400], "must be smaller than --vocab-size"),
        (["superbpe", "-v", 400, "--transition", 0.5], "smaller than the byte-level alphabet"),
        (["bogus", "-v", 400], "unknown kind"),
        (["superbpe", "-v", 400, "--superbpe-recipe", "1999"], "unknown --superbpe-recipe"),
        (["bpe", "-v", 400, "--train-bytes", "lots"], "cannot read size"),
    ],
)
def test_cli_bad_parameters(args, fragment, text_file, tmp_path):
    out = tmp_path / "out"
    res = cli(*args, "-c", text_file, "-o", out)
    assert_clean_failure(res, out, fragment)
    assert not out.exists()


def test_cli_empty_corpus(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    out = tmp_path / "out"
    assert_clean_failure(cli("bpe", "-c", empty, "-o", out), out, "empty")
    assert not out.exists()


def test_cli_output_exists_without_force(text_file, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert_clean_failure(cli("bpe", "-c", text_file, "-v", 300, "-o", out), out, "--force")
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    # --force never deletes a user's folder: it replaces only an earlier tokbench output
    assert_clean_failure(cli("bpe", "-c", text_file, "-v", 300, "-o", out, "--force"), out, "--force replaces only")
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    (out / "keep.txt").unlink()
    out.rmdir()
    assert cli("bpe", "-c", text_file, "-v", 300, "-o", out).exit_code == 0
    res = cli("bpe", "-c", text_file, "-v", 300, "-o", out, "--force")
    assert res.exit_code == 0 and (out / "tokenizer.json").exists()


def test_cli_missing_corpus(tmp_path):
    out = tmp_path / "out"
    assert_clean_failure(cli("bpe", "-c", tmp_path / "nope.txt", "-o", out), out, "nope.txt")


@pytest.mark.parametrize("recipe", ["2025", "paper"])
def test_superbpe_replay_in_tokenizers_equals_replay_in_the_kernel(corpus, recipe):
    from tokbench.train.superbpe import train_superbpe

    c = cfg("superbpe", vocab_size=700, transition=500, superbpe_recipe=recipe)
    fast, info_fast = train_superbpe(corpus.texts, c, replay="tokenizers")
    slow, info_slow = train_superbpe(corpus.texts, c, replay="kernel")
    assert fast.to_str() == slow.to_str()
    assert info_fast["stage2_symbols"] < info_slow["stage2_symbols"]


def test_python_split_equals_tokenizers_split_below_the_safe_code_point():
    import regex
    from tokenizers import Regex, pre_tokenizers

    from tokbench.train.pretokenizers import RECIPE_2025
    from tokbench.train.superbpe import PY_SAFE_BELOW, python_can_split, split_isolated

    pt = pre_tokenizers.Split(Regex(RECIPE_2025), behavior="isolated")
    pat = regex.compile(RECIPE_2025)
    texts = [f"a{chr(c)}{chr(c)} b1234{chr(c)}  x.{chr(c)}" for c in range(1, ord(PY_SAFE_BELOW))]
    rng = random.Random(0)
    alphabet = " \t\n.,:;!?-'\"()0123456789abcXYZéßşığüöçЖжλ٣" + "".join(chr(c) for c in range(0x530, 0x660))
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(3000)]
    fast = 0
    for t in texts:
        if python_can_split(t):
            fast += 1
            assert split_isolated(pat, t) == [p for p, _ in pt.pre_tokenize_str(t)], repr(t)
    # The fast path must still cover most text (Latin, Greek, Cyrillic, Armenian, Arabic...).
    assert fast > 0.8 * len(texts)
    assert python_can_split("Merhaba dünya, Привет мир, مرحبا 123") and not python_can_split("日本語")


def test_replay_pieces_equals_merging_each_word():
    """The piece-wise replay equals replaying the merges on whole stage-2 pre-tokens, also for gpt4o
    tokens that contain newlines after punctuation and for contractions next to quotes."""
    import numpy as np

    from tokbench.train.bpe import train_bytelevel_bpe
    from tokbench.train.replay import pack_words, replay_pieces
    from tokbench.tokenizer.formats.hf import parse_merges as _merge_pairs
    from tokbench.train.superbpe import count_pretokens_fast

    texts = synthetic_lines(200, seed=4) + MULTILINGUAL * 5 + ["don't 'sun' it's  a\n\nb.\n  x", "Hi.\nHo!\n\n", "a\tb  c   d"] * 20
    for pre in ("gpt2", "gpt4o"):
        tok = train_bytelevel_bpe(texts, 600, pretokenizer=pre, special_tokens=["<|endoftext|>"], min_frequency=1)
        spec = json.loads(tok.to_str())
        vocab = spec["model"]["vocab"]
        vb = [None] * len(vocab)
        for s_, i in vocab.items():
            if s_ != "<|endoftext|>":
                vb[i] = symbols_to_bytes(s_)
        merges = [(vocab[a], vocab[b], vocab[a + b]) for a, b in _merge_pairs(spec["model"])]
        counts = count_pretokens_fast(texts, "2025")
        words = list(counts)
        buf, off = pack_words(words)
        sym, wcnt = replay_pieces(buf, off, np.array(list(counts.values()), dtype=np.int32), spec, vb, batch=100)
        got = [w for w in "".join(chr(0) if x == -2 else chr(x + 1) for x in sym.tolist()).split(chr(0)) if w]
        from tokbench.tokenizer.bytelevel import bytes_to_symbols

        for w, g in zip(words, got):
            ids = [vocab[c] for c in bytes_to_symbols(w.encode("utf-8"))]
            for a, b, new in merges:
                if a in ids:
                    ids = merge_word(ids, a, b, new)
            assert [ord(c) - 1 for c in g] == ids, repr(w)


def test_dedupe_pieces_is_exact_through_table_growth():
    import numpy as np

    from tokbench.train.replay import dedupe_pieces, pack_words

    rng = random.Random(3)
    words = [" ".join("".join(rng.choice("abcdefghij") for _ in range(rng.randint(1, 7))) for _ in range(rng.randint(1, 6)))
             for _ in range(20000)]
    buf, off = pack_words(words)
    crossable = np.ones((256, 256), dtype=np.bool_)
    crossable[:, ord(" ")] = False  # cut before every space
    inverse, first, rep_start, rep_len = dedupe_pieces(buf, off, crossable)
    data = buf.tobytes()
    uniq = [data[a : a + n] for a, n in zip(rep_start.tolist(), rep_len.tolist())]
    assert len(uniq) == len(set(uniq)) > 35000  # the table doubled several times from 65,536 slots
    for w, word in enumerate(words):
        pieces = [uniq[u] for u in inverse[first[w] : first[w + 1]]]
        assert b"".join(pieces) == word.encode() and all(p[:1] == b" " for p in pieces[1:])
