"""One vocabulary of options across every command, -h everywhere, flags without type noise, shell
completion, and usage errors as one line: all through the CLI runner, over the whole command tree."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import defaultdict

import pytest
import typer
from typer.testing import CliRunner

from tokbench.cli.main import app

runner = CliRunner()
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _commands():
    """(path, click command) for every group and command, the root included."""
    root = typer.main.get_command(app)
    out = []

    def walk(cmd, path):
        out.append((path, cmd))
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, path + [name])

    walk(root, [])
    return out


def _options(cmd):
    return [p for p in cmd.params if getattr(p, "param_type_name", "") == "option" and not p.hidden]


COMMANDS = _commands()
IDS = [" ".join(p) or "(root)" for p, _ in COMMANDS]


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=IDS)
def test_dash_h_works_everywhere_and_help_has_no_type_noise(path):
    r = runner.invoke(app, [*path, "-h"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    text = ANSI.sub("", r.output)
    assert "Usage" in text and "-h" in text
    assert "<bool>" not in text and "<list[" not in text, text


def test_short_flags_mean_one_thing_everywhere():
    longs_of = defaultdict(set)
    for path, cmd in COMMANDS:
        for p in _options(cmd):
            longs = [o for o in p.opts if o.startswith("--")]
            for short in (o for o in p.opts if re.fullmatch(r"-[A-Za-z]", o)):
                longs_of[short].update(longs)
    assert longs_of["-o"] == {"--out"} and longs_of["-f"] == {"--force"}
    assert longs_of["-c"] <= {"--corpus", "--category"}
    for short, longs in longs_of.items():
        if short != "-c":
            assert len(longs) == 1, (short, longs)


def test_every_out_and_force_has_its_short_flag():
    for path, cmd in COMMANDS:
        for p in _options(cmd):
            if "--out" in p.opts:
                assert "-o" in p.opts, path
            if "--force" in p.opts:
                assert "-f" in p.opts, path
            if "--corpus" in p.opts:
                assert "-c" in p.opts, path


def test_one_text_budget_name_per_meaning_stated_in_help():
    seen = set()
    for path, cmd in COMMANDS:
        for p in _options(cmd):
            names = [o for o in p.opts if o.endswith("-bytes")]
            for name in names:
                seen.add(name)
                assert name in ("--max-bytes", "--train-bytes"), (path, name)
                if name == "--max-bytes":
                    assert "from each source" in p.help, (path, p.help)
                else:
                    assert "whole mixture" in p.help, (path, p.help)
    assert seen == {"--max-bytes", "--train-bytes"}


def test_shell_completion_is_installable(tmp_path):
    # In a real process, as a user runs it: inside one long pytest process the in-process runner's
    # --show-completion exited 1 now and then (Typer's completion state is process-global), which a
    # fresh `tokbench` never meets.
    # The shell is named, never detected: Typer otherwise asks shellingham, which walks the parent processes
    # and fails ("Shell not supported") when pytest runs under no shell. Typer's own switch for this makes
    # `--show-completion`/`--install-completion` take the shell as their value.
    env = {**os.environ, "HOME": str(tmp_path), "SHELL": "/bin/bash", "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    cmd = [sys.executable, "-m", "tokbench"]
    r = subprocess.run([*cmd, "--show-completion", "bash"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0 and "_TOKBENCH_COMPLETE" in r.stdout, r.stderr
    r = subprocess.run([*cmd, "--install-completion", "bash"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    installed = list(tmp_path.rglob("*tokbench*"))
    assert installed and "_TOKBENCH_COMPLETE" in installed[0].read_text()


@pytest.mark.parametrize("args, needle", [
    (["train", "bpe", "-o", "x", "--bogus"], "No such option: --bogus"),
    (["train", "bpe", "-o", "x", "--vocab-size", "many"], "Invalid value for '--vocab-size'"),
    (["evaluate", "gpt2", "--force", "true", "-o", "x"], "--force"),
    (["transplant", "eval", "."], "name the text to measure on"),
])
def test_usage_errors_are_one_line_exit_2(tmp_path, monkeypatch, args, needle):
    monkeypatch.chdir(tmp_path)
    if args[:2] == ["transplant", "eval"]:
        (tmp_path / "config.json").write_text("{}")
    r = runner.invoke(app, args)
    assert r.exit_code == 2, r.output
    lines = [l for l in r.output.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in r.output, r.output
    if needle != "--force":
        assert needle in lines[0]


def test_flags_take_no_value():
    # `--force true` is a flag followed by a stray argument: refused in one line, never read as a bool
    r = runner.invoke(app, ["demo", "--quick", "true"])
    assert r.exit_code == 2 and "unexpected extra argument" in r.output.lower()


def test_old_names_still_work_hidden(tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("\n".join(["the quick brown fox jumps over the lazy dog"] * 400), encoding="utf-8")
    r = runner.invoke(app, ["train", "char", "-c", str(f), "-v", "300", "--max-bytes", "4KB", "-o", str(tmp_path / "a"), "--json"])
    assert r.exit_code == 0, r.output
    assert "now --train-bytes" in r.stderr
    assert json.loads(r.stdout)["training_bytes"] <= 4000
    r = runner.invoke(app, ["train", "char", "-c", str(f), "-v", "300", "--train-bytes", "4KB", "-o", str(tmp_path / "b"), "--json"])
    assert r.exit_code == 0 and r.stderr == "" or "warning" not in r.stderr
    assert json.loads(r.stdout)["training_bytes"] <= 4000
    help_text = ANSI.sub("", runner.invoke(app, ["train", "-h"], env={"COLUMNS": "200"}).output)
    assert "--train-bytes" in help_text and "--max-bytes" not in help_text
