"""`tokbench inspect`: boundaries on every terminal and when piped, ids on request, each character once,
stdin, and several tokenizers lined up (offline, real tokenizers built from a few sentences)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.tokenizer_builders import build_hf_bpe, build_sentencepiece, build_tiktoken
from tokbench.cli.main import app
from tokbench.tokenizer import load_tokenizer
from tokbench.tokenizer.cells import token_cells

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
ROBOT = "a🤖b"


@pytest.fixture(scope="module")
def toks(tmp_path_factory):
    texts = ["The quick brown fox jumps over the lazy dog.", "Merhaba dünya! Kitaplarımızdan birini okudun mu?",
             "日本語のテキスト", "Emoji 🤖 and more"] * 3
    d = tmp_path_factory.mktemp("toks")
    for sub in ("bpe", "tt", "spm"):
        (d / sub).mkdir()
    return {"bpe": build_hf_bpe(texts, d / "bpe"), "tiktoken": build_tiktoken(texts, d / "tt"),
            "spm": build_sentencepiece(texts, d / "spm")}


@pytest.mark.parametrize("kind", ["bpe", "tiktoken", "spm"])
def test_cells_show_each_character_once_on_every_format(toks, kind):
    tok = load_tokenizer(toks[kind])
    for text in (ROBOT, "x日本語ü 👩\u200d👩\u200d👧", "  tabs\tand\nlines  ", "Kitaplarımızdan"):
        enc = tok.encode_batch([text])
        cells = token_cells(text, enc.ids.tolist(), enc.starts.tolist(), enc.ends.tolist())
        assert "".join(c.text for c in cells) == text, (kind, text, cells)
        assert [i for c in cells for i in c.ids] == enc.ids.tolist()
        assert all(c.start < c.end for c in cells)


def test_piped_output_has_separators_and_each_character_once(toks):
    r = runner.invoke(app, ["inspect", toks["bpe"], ROBOT])
    assert r.exit_code == 0, r.output
    seg = r.output.strip().splitlines()[-1]
    assert seg.count("🤖") == 1 and seg.startswith("|a|") and seg.endswith("|b|")
    assert re.search(r"\|🤖×[2-4]\|", seg), seg   # the byte tokens of one character, counted


def test_no_color_on_a_terminal_still_separates(toks):
    env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "1", "TERM": "xterm-256color", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "tokbench.cli.main", "inspect", toks["bpe"], "ab cd"],
                         capture_output=True, text=True, env=env, check=True).stdout
    assert "\x1b[4" not in out   # no background colours
    assert out.strip().splitlines()[-1].count("|") >= 3


@pytest.mark.parametrize("term, colorterm", [("xterm-256color", ""), ("screen", ""), ("xterm", ""), ("xterm-256color", "truecolor")])
def test_neighbouring_tokens_get_different_backgrounds_on_every_terminal(toks, term, colorterm):
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLORTERM")}
    env.update(FORCE_COLOR="1", TERM=term, PYTHONPATH=str(ROOT), COLUMNS="200")
    if colorterm:
        env["COLORTERM"] = colorterm
    out = subprocess.run([sys.executable, "-m", "tokbench.cli.main", "inspect", toks["bpe"], "The quick brown fox jumps"],
                         capture_output=True, text=True, env=env, check=True).stdout
    line = out.strip().splitlines()[-1]
    backgrounds = re.findall(r"\x1b\[(4[0-7]|48;5;\d+|48;2;[\d;]+)m", line)
    assert len(backgrounds) >= 4, repr(line)
    assert all(a != b for a, b in zip(backgrounds, backgrounds[1:])), backgrounds
    assert "|" not in re.sub(r"\x1b\[[\d;]*m", "", line)   # colours alone mark the boundaries


def test_ids_on_request(toks):
    tok = load_tokenizer(toks["bpe"])
    ids = tok.encode_batch(["hello world"]).ids.tolist()
    plain = runner.invoke(app, ["inspect", toks["bpe"], "hello world"]).output
    with_ids = runner.invoke(app, ["inspect", toks["bpe"], "hello world", "--ids"]).output
    assert f"[{ids[0]}]" not in plain.splitlines()[-1]
    assert all(f"{i}" in with_ids.splitlines()[-1] for i in ids)


def test_stdin_with_dash_or_no_text(toks):
    r = runner.invoke(app, ["inspect", toks["bpe"], "-", "--json"], input="Merhaba dünya\n")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert "".join(c["text"] for c in data["cells"]) == "Merhaba dünya"   # echo's newline dropped
    r = runner.invoke(app, ["inspect", toks["bpe"], "--json"], input="piped text")
    assert "".join(c["text"] for c in json.loads(r.stdout)["cells"]) == "piped text"
    r = runner.invoke(app, ["inspect", toks["bpe"], "--text", "-", "--json"], input="via option")
    assert "".join(c["text"] for c in json.loads(r.stdout)["cells"]) == "via option"


def test_several_tokenizers_line_up(toks):
    text = "Merhaba dünya 🤖 日本語"
    r = runner.invoke(app, ["inspect", toks["bpe"], toks["tiktoken"], toks["spm"], text])
    assert r.exit_code == 0, r.output
    rows = [l for l in r.output.splitlines() if "|" in l]
    assert len(rows) == 3
    # every row prints the same characters in the same columns
    starts = [row.index("|") for row in rows]
    assert len(set(starts)) == 1 and len({len(row) for row in rows}) == 1
    for row in rows:
        body = row[starts[0]:]
        assert body.replace("|", "").replace("·", "") == text
    r = runner.invoke(app, ["inspect", toks["bpe"], toks["tiktoken"], text, "--json"])
    data = json.loads(r.stdout)
    assert data["text"] == text and len(data["tokenizers"]) == 2


def test_several_tokenizers_wrap_together(toks, monkeypatch):
    from tokbench.cli import inspect as inspect_cli

    monkeypatch.setattr(inspect_cli.console, "width", 60)
    text = "The quick brown fox jumps over the lazy dog. " * 6
    r = runner.invoke(app, ["inspect", toks["bpe"], toks["tiktoken"], text])
    rows = [l for l in r.output.splitlines() if "|" in l]
    assert len(rows) >= 6 and len(rows) % 2 == 0
    assert all(len(l) <= 60 for l in rows)
    for a, b in zip(rows[::2], rows[1::2]):   # each wrapped pair is aligned
        assert a.index("|") == b.index("|") and len(a) == len(b)


@pytest.mark.parametrize("args, message", [
    (["{bpe}", "-", "{bpe}"], "'-' (read the text from stdin) goes last"),
    (["no/such/tok.json", "{bpe}"], "no tokenizer at"),
])
def test_bad_input_one_line_exit_2(toks, args, message):
    r = runner.invoke(app, ["inspect", *[a.format(**toks) for a in args]])
    assert r.exit_code == 2 and message in r.output
    assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output


def test_empty_stdin_is_one_line(toks):
    r = runner.invoke(app, ["inspect", toks["bpe"], "-"], input="")
    assert r.exit_code == 2 and "stdin is empty" in r.output and len(r.output.strip().splitlines()) == 1
