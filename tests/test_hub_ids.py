"""Hugging Face hub ids resolve from a local HF cache laid out as huggingface_hub writes it (offline)."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from tests.tokenizer_builders import build_hf_bpe
from tokbench.cli.main import app
from tokbench.tokenizer import load_tokenizer
from tokbench.tokenizer.hub import parse_hub_id

COMMIT = "0123456789abcdef0123456789abcdef01234567"
OLD = "fedcba9876543210fedcba9876543210fedcba98"


@pytest.fixture
def hf_cache(tmp_path, monkeypatch, tiny_texts):
    """models--Org--Tiny-Tok with main -> COMMIT and v1 -> OLD; blobs are symlinked like the real layout."""
    cache = tmp_path / "hf" / "hub"
    repo = cache / "models--Org--Tiny-Tok"
    (repo / "blobs").mkdir(parents=True)
    (repo / "refs").mkdir()
    built = tmp_path / "built"
    built.mkdir()
    src = build_hf_bpe(tiny_texts, built)
    blob = repo / "blobs" / "aaaa"
    shutil.copy(src, blob)
    for commit in (COMMIT, OLD):
        snap = repo / "snapshots" / commit
        snap.mkdir(parents=True)
        (snap / "tokenizer.json").symlink_to(blob)
    (repo / "refs" / "main").write_text(COMMIT)
    (repo / "refs" / "v1").write_text(OLD)
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache


def test_parse_hub_id_rejects_paths_that_leave_the_cache():
    assert parse_hub_id("Qwen/Qwen3-0.6B") == ("Qwen/Qwen3-0.6B", "main")
    for bad in ("../x", "a/..", "a/b/c", "/abs/path", "a/.hidden", "a/b@../../x", "gpt2"):
        assert parse_hub_id(bad) is None, bad


def test_hub_id_loads_offline_named_by_repo_id(hf_cache):
    tok = load_tokenizer("Org/Tiny-Tok")
    assert tok.name == "Org/Tiny-Tok" and COMMIT in str(tok.source)
    assert tok.decode(tok.encode_batch(["hello world"]).ids.tolist()) == "hello world"
    assert OLD in str(load_tokenizer("Org/Tiny-Tok@v1").source)
    assert OLD in str(load_tokenizer(f"Org/Tiny-Tok@{OLD}").source)


def test_hf_hub_cache_variable_wins(hf_cache, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(hf_cache))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "elsewhere"))
    assert load_tokenizer("Org/Tiny-Tok").name == "Org/Tiny-Tok"


def test_cli_reports_name_the_repo_id(hf_cache, tmp_path):
    r = CliRunner().invoke(app, ["inspect", "Org/Tiny-Tok", "hello", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["summary"]["name"] == "Org/Tiny-Tok"
    f = tmp_path / "t.txt"
    f.write_text("hello world\nthe quick brown fox\n")
    for _ in range(2):  # the second run reads the tokenizer's facts from the encoding cache
        r = CliRunner().invoke(app, ["evaluate", "Org/Tiny-Tok", "--metrics", "compression", "--corpus", str(f),
                                     "--out", str(tmp_path / "rep"), "--force", "--json"])
        assert r.exit_code == 0, r.output
        assert [t["name"] for t in json.loads(r.stdout)["tokenizers"]] == ["Org/Tiny-Tok"]
    assert "Org/Tiny-Tok" in (tmp_path / "rep" / "report.md").read_text()


@pytest.mark.parametrize("spec, message", [
    ("Org/Missing", "is not in the Hugging Face cache"),
    ("Org/Tiny-Tok@nobranch", "is not in the Hugging Face cache"),
])
def test_missing_hub_id_offline_is_one_line_exit_2(hf_cache, spec, message):
    r = CliRunner().invoke(app, ["inspect", spec, "x"])
    assert r.exit_code == 2 and message in r.output and "HF_HUB_OFFLINE" in r.output
    assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output


def test_a_local_folder_shadows_a_hub_id(hf_cache, tmp_path, monkeypatch, tiny_texts):
    (tmp_path / "Org" / "Tiny-Tok").mkdir(parents=True)
    build_hf_bpe(tiny_texts[:4], tmp_path / "Org" / "Tiny-Tok")
    monkeypatch.chdir(tmp_path)
    assert "snapshots" not in str(load_tokenizer("Org/Tiny-Tok").source)


def test_infer_mixture_default_report_folder_is_one_folder_for_a_hub_id(hf_cache, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "en.txt").write_text("the quick brown fox jumps over the lazy dog\n" * 300)
    (tmp_path / "de.txt").write_text("der schnelle braune fuchs springt über den faulen hund\n" * 300)
    r = CliRunner().invoke(app, ["infer-mixture", "Org/Tiny-Tok", "-c", "en=en.txt", "-c", "de=de.txt", "--merges", "20",
                                 "--bootstrap", "0"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "reports" / "mixture-Org--Tiny-Tok" / "report.md").exists()


def test_download_fetches_only_tokenizer_files_then_works_offline(tmp_path, tiny_texts, monkeypatch):
    """The online path for real: huggingface_hub against a local stand-in of the hub's HTTP API."""
    pytest.importorskip("huggingface_hub")
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.hub_server import COMMIT, serve
    from tests.tokenizer_builders import train_bytelevel_bpe

    files = {"tokenizer.json": train_bytelevel_bpe(tiny_texts).to_str().encode(), "config.json": b"{}",
             "model.safetensors": b"\0" * 1000, "modeling_custom.py": b"raise SystemExit('code ran')"}
    server, url, log = serve("Org/Net", files)
    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    env.update(HF_ENDPOINT=url, HF_HUB_CACHE=str(tmp_path / "hub"), HF_HUB_DISABLE_TELEMETRY="1",
               TOKBENCH_CACHE=str(tmp_path / "tb"), PYTHONPATH=str(root))

    def inspect(spec, **extra):
        return subprocess.run([sys.executable, "-m", "tokbench.cli.main", "inspect", spec, "hello world", "--json"],
                              env={**env, **extra}, capture_output=True, text=True, timeout=300)

    try:
        r = inspect("Org/Net")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["summary"]["name"] == "Org/Net"
        fetched = {p.rsplit("/", 1)[-1] for m, p in log if "/resolve/" in p}
        assert fetched == {"tokenizer.json"}   # never the weights, never code
        snap = tmp_path / "hub" / "models--Org--Net" / "snapshots" / COMMIT
        assert sorted(p.name for p in snap.iterdir()) == ["tokenizer.json"]
        log.clear()
        r = inspect("Org/Net", HF_HUB_OFFLINE="1")   # now from the cache, no request at all
        assert r.returncode == 0 and not log, (r.stderr, log)
        r = inspect("Org/Missing")
        assert r.returncode == 2 and "could not be downloaded" in r.stderr and "Traceback" not in r.stderr
        assert len([l for l in r.stderr.splitlines() if l.startswith("error:")]) == 1
    finally:
        server.shutdown()
