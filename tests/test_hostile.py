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
