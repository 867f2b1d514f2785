"""Hostile inputs: broken and malicious files, odd options and odd output paths, run through the CLI.

Every case must end in one line on stderr and exit 2 (never a traceback), write nothing outside --out and
delete nothing a user owns. The files are generated here, small, so the whole module runs in seconds.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tokbench.cli.main import app
from tokbench.cli.progress import PLAIN_PREFIX
from tokbench.transplant.checkpoint import Tensor, write_safetensors

runner = CliRunner()
TEXTS = ["the cat sat on the mat", "a dog ate the bone", "hello world, hello tokbench", "numbers 123 4567"] * 5


def one_error_line(res, code: int = 2) -> str:
    """The run failed cleanly: exit ``code``, one 'error:' line, no traceback."""
    out = res.output
    assert res.exit_code == code, (res.exit_code, out, res.exception)
    assert "Traceback" not in out, out
    # progress lines (stderr is not a terminal here) may come before the error; nothing else may
    lines = [l for l in out.strip().splitlines() if l.strip() and not l.startswith(PLAIN_PREFIX)]
    assert len(lines) == 1 and lines[0].startswith("error:"), out
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    return lines[0]


def tree(path: Path) -> dict[str, bytes]:
    """Every file under ``path`` with its bytes (to show nothing changed)."""
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file() and not p.is_symlink()}


# --- a tiny model built without torch ----------------------------------------------------------------------
def _bpe(vocab_size=80):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(TEXTS, trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"], show_progress=False))
    return tok


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("hostile") / "model"
    d.mkdir()
    tok = _bpe()
    tok.save(str(d / "tokenizer.json"))
    V = tok.get_vocab_size()
    (d / "config.json").write_text(json.dumps({"vocab_size": V, "tie_word_embeddings": True}))
    rng = np.random.default_rng(0)
    write_safetensors(d / "model.safetensors", {"model.embed_tokens.weight": Tensor.from_float32(rng.normal(size=(V, 8)).astype(np.float32), "F32")})
    return d


@pytest.fixture(scope="module")
def new_tok(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("newtok")
    _bpe(70).save(str(d / "tokenizer.json"))
    return d


def _copy_model(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True)
    for p in src.iterdir():
        (dst / p.name).write_bytes(p.read_bytes())
    return dst


def _victim(root: Path) -> Path:
    v = root / "victim.safetensors"
    write_safetensors(v, {"x": Tensor.from_float32(np.arange(6, dtype=np.float32), "F32")})
    return v


# --- 1. path traversal --------------------------------------------------------------------------------------
@pytest.mark.parametrize("shard", ["ABS", "../victim.safetensors", "sub/../../victim.safetensors", "..", "", "a\\..\\b"])
def test_index_shard_names_cannot_leave_the_folder(model, new_tok, tmp_path, shard):
    victim = _victim(tmp_path)
    before = victim.read_bytes()
    m = _copy_model(model, tmp_path / "m")
    name = str(victim) if shard == "ABS" else shard
    (m / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"model.embed_tokens.weight": name}}))
    out = tmp_path / "out"
    msg = one_error_line(runner.invoke(app, ["transplant", str(m), "-t", str(new_tok), "-o", str(out), "--method", "mean"]))
    assert "refusing" in msg or "not a plain file" in msg
    assert victim.read_bytes() == before and not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m", "victim.safetensors"]


def test_shard_symlink_out_of_the_folder_is_refused(model, new_tok, tmp_path):
    victim = _victim(tmp_path)
    m = _copy_model(model, tmp_path / "m")
    (m / "model-00001-of-00001.safetensors").symlink_to(victim)
    (m / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"x": "model-00001-of-00001.safetensors",
                                                                              "model.embed_tokens.weight": "model.safetensors"}}))
    msg = one_error_line(runner.invoke(app, ["transplant", str(m), "-t", str(new_tok), "-o", str(tmp_path / "out"), "--method", "mean"]))
    assert "outside" in msg and not (tmp_path / "out").exists()
    # the glob path (no index) follows the same rule
    (m / "model.safetensors.index.json").unlink()
    one_error_line(runner.invoke(app, ["transplant", str(m), "-t", str(new_tok), "-o", str(tmp_path / "out"), "--method", "mean"]))
    # a config.json symlinked out of the folder is not read either
    (m / "model-00001-of-00001.safetensors").unlink()
    (tmp_path / "secret.json").write_text("{}")
    (m / "config.json").unlink()
    (m / "config.json").symlink_to(tmp_path / "secret.json")
    assert "outside" in one_error_line(runner.invoke(app, ["transplant", str(m), "-t", str(new_tok), "-o", str(tmp_path / "out")]))


def test_clean_transplant_still_works_with_a_sharded_index(model, new_tok, tmp_path):
    m = _copy_model(model, tmp_path / "m")
    (m / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"model.embed_tokens.weight": "model.safetensors"}}))
    res = runner.invoke(app, ["transplant", str(m), "-t", str(new_tok), "-o", str(tmp_path / "out"), "--method", "mean"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "out" / "model.safetensors").is_file()


# --- 2. --force, partial folders, signals, permissions ------------------------------------------------------
def _train(out: Path, *extra: str):
    return runner.invoke(app, ["train", "bpe", "-c", "udhr:en", "--vocab-size", "300", "--train-bytes", "20KB", "-o", str(out), *extra])


def test_force_refuses_a_users_folder_and_files(tmp_path):
    mine = tmp_path / "mydata"
    (mine / "sub").mkdir(parents=True)
    (mine / "notes.txt").write_text("mine")
    before = tree(mine)
    assert "--force replaces only" in one_error_line(_train(mine, "--force"))
    assert tree(mine) == before and (mine / "sub").is_dir()
    f = tmp_path / "file.txt"
    f.write_text("mine")
    one_error_line(_train(f, "--force"))
    assert f.read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt", "mydata"]  # no .old, no .partial
    # a folder whose manifest.json is not tokbench's
    (mine / "manifest.json").write_text(json.dumps({"tool": "other"}))
    one_error_line(_train(mine, "--force"))
    assert (mine / "notes.txt").read_text() == "mine"


def test_force_refuses_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = _train(tmp_path / "run")
    assert first.exit_code == 0, first.output
    monkeypatch.chdir(tmp_path / "run")
    one_error_line(_train(Path("."), "--force"))
    assert (tmp_path / "run" / "tokbench.json").is_file()


def test_out_under_an_existing_file(tmp_path):
    (tmp_path / "f").write_text("x")
    msg = one_error_line(_train(tmp_path / "f" / "out"))
    assert "is a file" in msg
    assert (tmp_path / "f").read_text() == "x"


def test_force_replaces_an_earlier_output_and_keeps_a_users_dot_old(tmp_path):
    out = tmp_path / "run"
    assert _train(out).exit_code == 0
    (tmp_path / ".run.old").mkdir()
    (tmp_path / ".run.old" / "keep").write_text("mine")
    old_manifest = (out / "tokbench.json").read_text()
    res = _train(out, "--force", "--seed", "7")
    assert res.exit_code == 0, res.output
    assert (out / "tokbench.json").read_text() != old_manifest
    assert (tmp_path / ".run.old" / "keep").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".run.old", "run"]


def test_outputs_respect_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        out = tmp_path / "run"
        assert _train(out).exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    for p in out.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o644, p


def test_stale_partials_of_a_killed_run_are_cleaned_and_live_ones_kept(tmp_path):
    from tokbench.files import atomic_dir

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".run.{dead.pid}.abc123.partial"
    stale.mkdir()
    (stale / "x").write_text("half")
    live = tmp_path / f".run.{os.getppid()}.zzz.partial"
    live.mkdir()
    users = tmp_path / ".run.partial"  # not of tokbench's form: never touched
    users.mkdir()
    with atomic_dir(tmp_path / "run") as tmp:
        (tmp / "manifest.json").write_text(json.dumps({"tool": "tokbench"}))
    assert not stale.exists() and live.exists() and users.exists() and (tmp_path / "run" / "manifest.json").exists()


def test_replace_is_atomic_and_nothing_is_ever_absent(tmp_path):
    """A run that fails (or is interrupted) while building keeps the old output whole."""
    from tokbench.files import atomic_dir

    out = tmp_path / "run"
    with atomic_dir(out) as tmp:
        (tmp / "manifest.json").write_text(json.dumps({"tool": "tokbench", "n": 1}))
    with pytest.raises(KeyboardInterrupt):
        with atomic_dir(out, force=True) as tmp:
            (tmp / "manifest.json").write_text(json.dumps({"tool": "tokbench", "n": 2}))
            raise KeyboardInterrupt
    assert json.loads((out / "manifest.json").read_text())["n"] == 1
    with atomic_dir(out, force=True) as tmp:
        (tmp / "manifest.json").write_text(json.dumps({"tool": "tokbench", "n": 3}))
    assert json.loads((out / "manifest.json").read_text())["n"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_sigterm_is_handled_like_ctrl_c(tmp_path):
    """A SIGTERM'd run exits with one line, leaves no partial folder and no traceback."""
    script = (
        "import sys, time\n"
        "from tokbench.cli.common import install_signal_handlers\n"
        "from tokbench.cli.main import app\n"
        "import importlib; api = importlib.import_module('tokbench.train.api')\n"
        "real = api.TrainResult.save\n"
        "def slow(self, out, force=False, started=None):\n"
        "    from tokbench.files import atomic_dir\n"
        "    with atomic_dir(out, force) as tmp:\n"
        "        (tmp / 'half').write_text('x'); print('WRITING', flush=True); time.sleep(60)\n"
        "api.TrainResult.save = slow\n"
        "install_signal_handlers()\n"
        "app(['train', 'bpe', '-c', 'udhr:en', '--vocab-size', '300', '--train-bytes', '20KB', '-o', sys.argv[1]], prog_name='tokbench')\n"
    )
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    p = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "run")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
    deadline = time.time() + 120
    line = ""
    while "WRITING" not in line and time.time() < deadline:
        line = p.stdout.readline()
        if not line and p.poll() is not None:
            break
    assert "WRITING" in line, p.stderr.read()
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 143, err
    assert "Traceback" not in err and "terminated" in err
    assert list(tmp_path.iterdir()) == []


# --- 5. messages print paths verbatim -------------------------------------------------------------------------
def test_paths_and_hints_are_printed_verbatim(tmp_path, capsys):
    d = tmp_path / "a[" / "]b"
    d.mkdir(parents=True)
    missing = d / "notes [v2].txt"
    msg = one_error_line(runner.invoke(app, ["train", "bpe", "-c", str(missing), "-o", str(tmp_path / "o")]))
    assert str(missing) in msg
    from tokbench.cli.common import fail

    fail("this needs torch; install it with: pip install 'tokbench[model]' [/] [bold]x[/]")
    err = capsys.readouterr().err
    assert "pip install 'tokbench[model]' [/] [bold]x[/]" in err


# --- 4. tokenizer files: structure checked before use; Rust panics become one line ---------------------------
def _hf_spec():
    return json.loads(_bpe().to_str())


def _tt_lines():
    from tests.tokenizer_builders import _ranks_from_bpe

    return [f"{__import__('base64').b64encode(t).decode()} {r}" for t, r in _ranks_from_bpe(TEXTS).items()]


def _tekken():
    from tests.tokenizer_builders import build_tekken
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        return json.loads(Path(build_tekken(TEXTS, Path(d))).read_text())


def _mut(base, fn):
    import copy

    s = copy.deepcopy(base)
    fn(s)
    return s


B64 = __import__("base64").b64encode


def hostile_tokenizers(root: Path) -> dict[str, Path]:
    """One file per class of broken tokenizer file the loaders must refuse."""
    hf, lines, tk = _hf_spec(), _tt_lines(), _tekken()
    files: dict[str, tuple[str, bytes]] = {
        "hf-empty-vocab": ("tokenizer.json", json.dumps(_mut(hf, lambda s: s["model"].update(vocab={}, merges=[])))),
        "hf-duplicate-ids": ("tokenizer.json", json.dumps(_mut(hf, lambda s: s["model"]["vocab"].update({k: 0 for k in list(s["model"]["vocab"])[:4]})))),
        "hf-id-2^32": ("tokenizer.json", json.dumps(_mut(hf, lambda s: s["model"]["vocab"].update({"zz": 2**32 - 2})))),
        "hf-negative-id": ("tokenizer.json", json.dumps(_mut(hf, lambda s: s["model"]["vocab"].update({"zz": -1})))),
        "hf-bad-merge": ("tokenizer.json", json.dumps(_mut(hf, lambda s: s["model"].update(merges=["abc", 5])))),
        "hf-added-huge-id": ("tokenizer.json", json.dumps(_mut(hf, lambda s: s.update(added_tokens=[{"id": 10**12, "content": "<x>"}])))),
        "wordlevel-empty": ("tokenizer.json", json.dumps({"model": {"type": "WordLevel", "vocab": {}, "unk_token": "<unk>"}})),
        "unigram-empty": ("tokenizer.json", json.dumps({"model": {"type": "Unigram", "vocab": [], "unk_id": None}})),
        "unigram-nan-score": ("tokenizer.json", json.dumps({"model": {"type": "Unigram", "vocab": [["a", float("nan")]], "unk_id": None}}).replace("NaN", "NaN")),
        "hf-not-utf8": ("tokenizer.json", b'{"model": \xff}'),
        "hf-deep": ("tokenizer.json", b'{"model":' + b"[" * 100000 + b"]" * 100000 + b"}"),
        "hf-number": ("tokenizer.json", b"5"),
        "tiktoken-cut": ("cl100k_cut.tiktoken", "\n".join(lines[:100]) + "\n"),
        "tiktoken-duplicate-rank": ("cl100k_dup.tiktoken", "\n".join(lines + [B64(b"zzqq").decode() + " 5"]) + "\n"),
        "tiktoken-duplicate-token": ("cl100k_dt.tiktoken", "\n".join(lines + [lines[300].split()[0] + " 99999"]) + "\n"),
        "tiktoken-rank-gap": ("cl100k_gap.tiktoken", "\n".join(lines + [B64(b"zzqq").decode() + " 5000000"]) + "\n"),
        "tiktoken-400-digit-rank": ("cl100k_big.tiktoken", "\n".join(lines + [B64(b"zzqq").decode() + " " + "9" * 400]) + "\n"),
        "tiktoken-empty": ("cl100k_empty.tiktoken", ""),
        "tekken-duplicate-rank": ("tekken.json", json.dumps(_mut(tk, lambda s: s["vocab"][5].update(rank=4)))),
        "tekken-duplicate-bytes": ("tekken.json", json.dumps(_mut(tk, lambda s: s["vocab"][5].update(token_bytes=s["vocab"][4]["token_bytes"])))),
        "tekken-vocab-not-list": ("tekken.json", json.dumps(_mut(tk, lambda s: s.update(vocab="abc")))),
        "tekken-entries-not-objects": ("tekken.json", json.dumps(_mut(tk, lambda s: s.update(vocab=[1, 2])))),
        "tekken-negative-specials": ("tekken.json", json.dumps(_mut(tk, lambda s: s["config"].update(default_num_special_tokens=-5)))),
        "tekken-huge-vocab-size": ("tekken.json", json.dumps(_mut(tk, lambda s: s["config"].update(default_vocab_size=10**12)))),
        "tekken-bad-base64": ("tekken.json", json.dumps(_mut(tk, lambda s: s["vocab"][5].update(token_bytes="!!!")))),
        "tekken-special-rank-out-of-range": ("tekken.json", json.dumps(_mut(tk, lambda s: s["special_tokens"][0].update(rank=10**9)))),
        "sentencepiece-garbage": ("tokenizer.model", bytes(range(256)) * 3),
    }
    out = {}
    for name, (fname, data) in files.items():
        p = root / name / fname
        p.parent.mkdir(parents=True)
        p.write_bytes(data.encode() if isinstance(data, str) else data)
        out[name] = p
    fifo = root / "fifo" / "tokenizer.json"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    out["fifo"] = fifo
    return out


@pytest.fixture(scope="module")
def bad_tokenizers(tmp_path_factory):
    return hostile_tokenizers(tmp_path_factory.mktemp("badtok"))


def test_every_hostile_tokenizer_is_one_line(bad_tokenizers, tmp_path):
    for name, path in bad_tokenizers.items():
        res = runner.invoke(app, ["inspect", str(path), "hello world"])
        msg = one_error_line(res)
        assert "unexpected" not in msg and "Rust library" not in msg, (name, msg)


def test_one_broken_tokenizer_is_a_failure_row_in_evaluate(bad_tokenizers, model, tmp_path):
    text = tmp_path / "t.txt"
    text.write_text("\n".join(TEXTS) + "\n")
    good = str(model)  # its tokenizer.json
    for name in ("wordlevel-empty", "tiktoken-duplicate-rank", "tekken-duplicate-rank", "hf-duplicate-ids", "tiktoken-cut"):
        out = tmp_path / f"r-{name}"
        res = runner.invoke(app, ["evaluate", str(bad_tokenizers[name]), good, "-c", str(text), "--metrics", "compression", "-o", str(out), "--json"])
        assert res.exit_code == 1, (name, res.output)
        assert "Traceback" not in res.output
        data = json.loads(res.stdout)
        assert [f["tokenizer"] for f in data["failures"]] == [str(bad_tokenizers[name])]
        assert len(data["tables"]["compression_total"]) == 1  # the good one ran


def test_a_pattern_that_skips_or_matches_nothing_is_refused(tmp_path):
    from tests.tokenizer_builders import build_tiktoken

    spec = build_tiktoken(TEXTS, tmp_path).partition("?")[0]
    for pattern in ["(a)\\1", ".*.*", "((", "(?<=a+)b"]:
        one_error_line(runner.invoke(app, ["inspect", f"{spec}?pattern={pattern}", "hello aa"]))


# --- corpora, options, baselines, checkpoints, output files ---------------------------------------------------
@pytest.fixture(scope="module")
def corpus_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("corp")
    files = {
        "lone-surrogate.jsonl": b'{"text": "a\\ud800b"}\n',
        "deep.jsonl": b'{"text": ' + b"[" * 100000 + b"]" * 100000 + b"}\n",
        "binary.txt": bytes(range(256)) * 20,
        "not-an-object.jsonl": b"5\n",
    }
    out = {}
    for name, data in files.items():
        (root / name).write_bytes(data)
        out[name] = str(root / name)
    os.mkfifo(root / "fifo.txt")
    out["fifo"] = str(root / "fifo.txt")
    good = root / "good.txt"
    good.write_text("\n".join(TEXTS * 3) + "\n")
    out.update({"udhr-comma": "udhr:,", "weight-1e999": f"{good}=1e999", "weight-0": f"{good}=0"})
    return out


def test_hostile_corpora_are_one_line_in_every_command(corpus_files, model, tmp_path):
    good = str(model)
    for name, spec in corpus_files.items():
        if not name.startswith("weight"):
            one_error_line(runner.invoke(app, ["evaluate", good, "-c", spec, "--metrics", "compression", "-o", str(tmp_path / f"e-{name}")]))
            one_error_line(runner.invoke(app, ["infer-mixture", good, "-c", f"a={spec}", "-c", "b=udhr:deu", "--merges", "20", "--no-report"]))
        one_error_line(runner.invoke(app, ["train", "bpe", "-c", spec, "-v", "300", "-o", str(tmp_path / f"t-{name}")]))
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [
    ["train", "superbpe", "-v", "400", "--transition", "nan"],
    ["train", "bpe", "-v", "300", "--max-bytes", "9" * 400],
    ["train", "bpe", "-v", "nan"],
    ["train", "bpe", "-v", "-5"],
    ["train", "bpe", "-v", "9" * 100],
    ["train", "bpe", "-v", "300", "--min-frequency", "9" * 100],
    ["train", "char-bpe", "-v", "300", "--max-token-chars", "9" * 100],
])
def test_hostile_option_values(args, tmp_path):
    msg = one_error_line(runner.invoke(app, [*args, "-c", "udhr:en", "-o", str(tmp_path / "o")]))
    assert "unexpected" not in msg
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("opt,value", [("--scale", "inf"), ("--scale", "nan"), ("--scale", "1e308"), ("--ridge", "inf"),
                                       ("--ridge", "1e308"), ("--delta", "nan"), ("--rank-decay", "inf")])
def test_transplant_never_writes_non_finite_rows(model, new_tok, tmp_path, opt, value):
    out = tmp_path / "o"
    res = runner.invoke(app, ["transplant", str(model), "-t", str(new_tok), "-o", str(out), "--k", "4", opt, value])
    if res.exit_code == 0:  # accepted: then every written number is finite
        from tokbench.transplant.checkpoint import read_safetensors

        for t in read_safetensors(out / "model.safetensors")[0].values():
            assert np.isfinite(t.to_float32()).all()
    else:
        one_error_line(res)
        assert not out.exists()


def test_baseline_with_bad_fields(model, tmp_path):
    bl = tmp_path / "b.json"
    assert runner.invoke(app, ["check", str(model), "-w", str(bl), "-c", "udhr:en"]).exit_code == 0
    data = json.loads(bl.read_text())
    for key, value in [("corpora", 5), ("corpora", [5]), ("golden", {"english": 5}), ("behaviour", {"probes": 3}), ("vocab", None), ("settings", {"corpora": 3})]:
        (tmp_path / "bad.json").write_text(json.dumps(dict(data, **{key: value})))
        res = runner.invoke(app, ["check", str(model), "-b", str(tmp_path / "bad.json")])
        assert res.exit_code in (1, 2) and "Traceback" not in res.output, (key, res.output)
        if res.exit_code == 2:
            assert "unexpected" not in one_error_line(res)
    for raw in [b"", b"[]", b"\xff\xfe", b"[" * 100000]:
        (tmp_path / "bad.json").write_bytes(raw)
        one_error_line(runner.invoke(app, ["check", str(model), "-b", str(tmp_path / "bad.json")]))


def _st(path: Path, header, data: bytes = b"\0" * 64):
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    path.write_bytes(__import__("struct").pack("<Q", len(raw)) + raw + data)


E = "model.embed_tokens.weight"


@pytest.mark.parametrize("case", ["shape-mismatch", "no-dtype", "header-list", "negative-offsets", "reversed-offsets",
                                  "past-the-end", "header-length-huge", "metadata-not-strings", "config-not-utf8",
                                  "config-list", "index-not-object", "weight-map-list", "empty-file", "1d-embedding",
                                  "nan-embedding"])
def test_hostile_checkpoints(model, new_tok, tmp_path, case):
    m = _copy_model(model, tmp_path / "m")
    st = m / "model.safetensors"
    headers = {
        "shape-mismatch": {E: {"dtype": "F32", "shape": [1000, 8], "data_offsets": [0, 64]}},
        "no-dtype": {E: {"shape": [2, 8], "data_offsets": [0, 64]}},
        "header-list": [1, 2],
        "negative-offsets": {E: {"dtype": "F32", "shape": [2, 8], "data_offsets": [-64, 0]}},
        "reversed-offsets": {E: {"dtype": "F32", "shape": [2, 8], "data_offsets": [64, 0]}},
        "past-the-end": {E: {"dtype": "F32", "shape": [4, 8], "data_offsets": [0, 128]}},
        "metadata-not-strings": {"__metadata__": {"a": 5}, E: {"dtype": "F32", "shape": [2, 8], "data_offsets": [0, 64]}},
        "1d-embedding": {E: {"dtype": "F32", "shape": [16], "data_offsets": [0, 64]}},
    }
    if case in headers:
        _st(st, headers[case])
    elif case == "header-length-huge":
        st.write_bytes(__import__("struct").pack("<Q", 2**60) + b"{}")
    elif case == "empty-file":
        st.write_bytes(b"")
    elif case == "nan-embedding":
        V = json.loads((m / "config.json").read_text())["vocab_size"]
        write_safetensors(st, {E: Tensor.from_float32(np.full((V, 8), np.nan, np.float32), "F32")})
    elif case == "config-not-utf8":
        (m / "config.json").write_bytes(b'\xff\xfe{"vocab_size": 3}')
    elif case == "config-list":
        (m / "config.json").write_text("[1]")
    elif case == "index-not-object":
        (m / "model.safetensors.index.json").write_text("[1]")
    elif case == "weight-map-list":
        (m / "model.safetensors.index.json").write_text(json.dumps({"weight_map": [1]}))
    out = tmp_path / "o"
    msg = one_error_line(runner.invoke(app, ["transplant", str(m), "-t", str(new_tok), "-o", str(out), "--method", "mean"]))
    assert "unexpected" not in msg and not out.exists()


def test_transplant_eval_loads_safetensors_only(tmp_path):
    pytest.importorskip("transformers")
    d = tmp_path / "binonly"
    d.mkdir()
    (d / "config.json").write_text(json.dumps({"model_type": "llama"}))
    (d / "pytorch_model.bin").write_bytes(b"not loaded")
    (tmp_path / "t.txt").write_text("hello\n")
    msg = one_error_line(runner.invoke(app, ["transplant", "eval", str(d), "--text", str(tmp_path / "t.txt")]))
    assert "safetensors" in msg


def test_single_output_files_refuse_folders_and_devices(model, tmp_path):
    bl = tmp_path / "b.json"
    assert runner.invoke(app, ["check", str(model), "-w", str(bl), "-c", "udhr:en"]).exit_code == 0
    (tmp_path / "afolder").mkdir()
    os.mkfifo(tmp_path / "fifo")  # stands for a device: a run as root once replaced /dev/null with a regular file
    for target in [tmp_path / "afolder", tmp_path / "fifo", tmp_path / "b.json" / "x"]:
        for args in (["-b", str(bl), "--junit", str(target)], ["-w", str(target), "-c", "udhr:en"]):
            res = runner.invoke(app, ["check", str(model), *args])
            assert res.exit_code == 2, (args, res.output[-300:])
            one_error_line(res)


def test_a_tokenizer_that_panics_mid_evaluation_is_one_failure_row(model, tmp_path):
    """A Rust panic (a BaseException) while encoding one tokenizer's corpus leaves the others measured."""
    from tokbench.metrics.config import EvalConfig
    from tokbench.metrics.evaluation import PROBE_TEXT, evaluate
    from tokbench.tokenizer import load_tokenizer

    class FakePanic(BaseException):  # what pyo3_runtime.PanicException derives from
        pass

    good = load_tokenizer(str(model))
    bad = load_tokenizer(str(model))
    bad.name = "panics"
    real = bad.encode_batch

    def encode_batch(texts, *, spans=True):
        if list(texts) != [PROBE_TEXT]:
            raise FakePanic("range end index 2 out of range for slice of length 0")
        return real(texts, spans=spans)

    bad.encode_batch = encode_batch
    text = tmp_path / "t.txt"
    text.write_text("\n".join(TEXTS) + "\n")
    res = evaluate([bad, good], EvalConfig(metrics=("compression",), corpora=(str(text),), use_cache=False))
    assert [f["tokenizer"] for f in res.failures] == ["panics"] and "FakePanic" in res.failures[0]["error"]
    assert {r["tokenizer"] for r in res.tables["compression_total"]} == {good.name}
    assert [t["name"] for t in res.tokenizers] == [good.name]
