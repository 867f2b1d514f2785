"""The verified array cache: any damaged, swapped or out-of-bounds entry is a miss; an unusable cache
folder is a warning, never a failure. Through the library and through `tokbench evaluate`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.tokenizer_builders import build_hf_bpe, build_tiktoken
from tokbench import verified_cache
from tokbench.cli.main import app
from tokbench.verified_cache import ArrayCache

runner = CliRunner()


@pytest.fixture(autouse=True)
def _fresh_warnings():
    verified_cache._warned.clear()
    verified_cache._broken.clear()
    yield
    verified_cache._warned.clear()
    verified_cache._broken.clear()


def _arrays(seed=0):
    rng = np.random.default_rng(seed)
    return {"ids": rng.integers(0, 100, 50).astype(np.int32), "offsets": np.arange(6, dtype=np.int64) * 10}


def _same(a, b):
    return sorted(a) == sorted(b) and all(np.array_equal(a[k], b[k]) and a[k].dtype == b[k].dtype for k in a)


def test_roundtrip_and_key_binding():
    c = ArrayCache("t")
    assert c.put("k1", _arrays(1), {"n": 1}) and c.put("k2", _arrays(2), {"n": 2})
    arrays, meta = c.get("k1")
    assert _same(arrays, _arrays(1)) and meta == {"n": 1}
    assert c.get("missing") is None
    # entries swapped on disk: each is now under the other's name, and both are misses
    p1, p2 = c.path("k1"), c.path("k2")
    b1, b2 = p1.read_bytes(), p2.read_bytes()
    p1.write_bytes(b2)
    p2.write_bytes(b1)
    assert c.get("k1") is None and c.get("k2") is None


@pytest.mark.parametrize("damage", ["empty", "truncated", "flipped", "garbage", "zeroed-array", "folder"])
def test_every_damage_is_a_miss(damage):
    c = ArrayCache("t")
    c.put("k", _arrays())
    p = c.path("k")
    raw = p.read_bytes()
    if damage == "empty":
        p.write_bytes(b"")
    elif damage == "truncated":
        p.write_bytes(raw[: len(raw) // 2])
    elif damage == "flipped":  # one bit inside the array data (zip stores uncompressed)
        i = raw.index(_arrays()["ids"].tobytes()[:16]) + 5
        p.write_bytes(raw[:i] + bytes([raw[i] ^ 1]) + raw[i + 1 :])
    elif damage == "garbage":
        p.write_bytes(os.urandom(len(raw)))
    elif damage == "zeroed-array":  # a valid .npz, right names, wrong numbers
        z = dict(np.load(p))
        z["ids"] = np.zeros_like(z["ids"])
        np.savez(p.with_suffix(".tmp.npz"), **z)
        os.replace(p.with_suffix(".tmp.npz"), p)
    elif damage == "folder":
        p.unlink()
        p.mkdir()
    assert c.get("k") is None


def test_check_rejects_before_use():
    c = ArrayCache("t")
    c.put("k", _arrays())
    assert c.get("k", lambda z, m: bool(z["ids"].max() < 10)) is None
    assert c.get("k", lambda z, m: bool(z["ids"].max() < 100)) is not None


def test_unusable_cache_folder_is_one_warning(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("TOKBENCH_CACHE", str(blocker / "cache"))
    c = ArrayCache("t")
    assert c.put("k", _arrays()) is False and c.get("k") is None
    assert ArrayCache("u").put("k", _arrays()) is False
    err = capsys.readouterr().err
    assert err.count("warning:") == 1 and "without it" in err


# --- the encoding cache through `tokbench evaluate` --------------------------------------------------------
@pytest.fixture
def setup(tmp_path, tiny_texts):
    text = tmp_path / "text.txt"
    text.write_text("\n".join(tiny_texts * 3) + "\n")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = build_hf_bpe(tiny_texts, tmp_path / "a")
    b = build_tiktoken(tiny_texts, tmp_path / "b")
    return text, a, b


# evaluate streams: per-shard statistics go to encoding-stats/ (the in-memory path's ids to encodings/,
# exercised through the library below)
def _eval(text, *toks, out, extra=()):
    return runner.invoke(app, ["evaluate", *map(str, toks), "-c", str(text), "--metrics", "compression,fertility", "-o", str(out), "--json", *extra])


def _numbers(res):
    assert res.exit_code == 0, res.output
    tables = json.loads(res.stdout)["tables"]
    rows = tables["compression_total"]
    out = {(r["tokenizer"], r["kind"]): (r["bytes_per_token"], r.get("tokens")) for r in rows}
    out.update({(r["tokenizer"], "fertility"): r["fertility"] for r in tables["fertility"]})
    return out


def _entries(root: Path, sub: str = "encoding-stats") -> list[Path]:
    return sorted((root / sub).glob("*.npz"))


def test_damaged_or_swapped_statistics_give_the_same_numbers(setup, tmp_path):
    text, a, b = setup
    cache = Path(os.environ["TOKBENCH_CACHE"])
    first = _numbers(_eval(text, a, b, out=tmp_path / "r1"))
    entries = _entries(cache)
    assert len(entries) == 2 and not _entries(cache, "encodings")
    # swapped entries must not swap the two tokenizers' numbers
    x, y = entries[0].read_bytes(), entries[1].read_bytes()
    entries[0].write_bytes(y)
    entries[1].write_bytes(x)
    assert _numbers(_eval(text, a, b, out=tmp_path / "r2")) == first
    # a 0-byte entry is a miss, re-encoded
    for e in _entries(cache):
        e.write_bytes(b"")
    assert _numbers(_eval(text, a, b, out=tmp_path / "r3")) == first
    # an entry forged with a valid checksum but counts that do not fit the tokenizer is a miss
    from tokbench.metrics.stream_stats import STATS

    forged = 0
    for e in _entries(cache):
        with np.load(e) as z:
            header = json.loads(z["__tokbench_header__"].tobytes())
        arrays, meta = STATS.get(header["key"])
        STATS.put(header["key"], {"counts": np.concatenate([arrays["counts"], [5]])}, dict(meta, n_tokens=meta["n_tokens"] + 5))
        forged += 1
    assert forged == 2
    assert _numbers(_eval(text, a, b, out=tmp_path / "r4")) == first


def test_damaged_or_forged_id_arrays_give_the_same_numbers(setup):
    """The in-memory path (EvalConfig(in_memory=True)) caches id arrays; damage there is a miss too."""
    from tokbench.metrics import EvalConfig, evaluate
    from tokbench.tokenizer import cache as enc_cache
    from tokbench.tokenizer import load_tokenizer

    text, a, b = setup
    cache = Path(os.environ["TOKBENCH_CACHE"])
    config = EvalConfig(metrics=("compression", "fertility"), corpora=(str(text),), in_memory=True)

    def numbers():
        res = evaluate([a, b], config)
        return [(r["tokenizer"], r["bytes_per_token"], r["tokens"]) for r in res.tables["compression_total"]]

    first = numbers()
    entries = _entries(cache, "encodings")
    assert len(entries) == 2
    x, y = entries[0].read_bytes(), entries[1].read_bytes()
    entries[0].write_bytes(y)
    entries[1].write_bytes(x)
    assert numbers() == first
    for e in _entries(cache, "encodings"):
        e.write_bytes(b"")
    assert numbers() == first
    # an entry forged with a valid checksum but ids beyond the vocabulary never reaches a kernel
    tok = load_tokenizer(a)
    forged = False
    for e in _entries(cache, "encodings"):
        with np.load(e) as z:
            header = json.loads(z["__tokbench_header__"].tobytes())
        if tok.fingerprint() in header["key"]:
            arrays = enc_cache.ENCODINGS.get(header["key"])[0]
            arrays["ids"] = arrays["ids"] + np.int32(10**6)
            enc_cache.ENCODINGS.put(header["key"], arrays)
            forged = True
    assert forged
    assert numbers() == first


def test_unwritable_cache_is_a_warning_not_a_tokenizer_failure(setup, tmp_path, monkeypatch):
    text, a, b = setup
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    monkeypatch.setenv("TOKBENCH_CACHE", str(blocker / "cache"))
    res = _eval(text, a, b, out=tmp_path / "r")
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output and json.loads(res.stdout)["failures"] == []
    assert res.stderr.count("warning: the cache") == 1
