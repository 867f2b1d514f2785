"""Every `--json` prints exactly one JSON document on stdout, checked in a real subprocess.

The CLI-runner tests of each command read ``result.stdout`` too, but a runner only sees what Python
writes to ``sys.stdout``: a C library writing to file descriptor 1 (HiGHS's banner, issue 13) is not
caught there. Here each command runs as ``python -m tokbench.cli.main ... --json`` and its whole stdout
must parse as one JSON value (``json.loads`` refuses trailing text); logs and progress belong on stderr.
Transplant's --json is read by tests/test_transplant.py (it needs a model built by that module).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tokenizer_builders import build_hf_bpe

ROOT = Path(__file__).resolve().parents[1]
EN = "The cat sat on the mat. The dog sat on the log. Then the cat and the dog went to the market together.\n"
DE = "Die Katze sitzt auf der Matte. Der Hund liegt auf dem Boden. Dann gehen beide zusammen auf den Markt.\n"


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    d = tmp_path_factory.mktemp("json")
    (d / "en.txt").write_text(EN * 120)
    (d / "de.txt").write_text(DE * 120)
    (d / "bpe").mkdir()
    tok = build_hf_bpe([EN, DE] * 5 + ["Merhaba dünya!", "日本語のテキスト"], d / "bpe")
    cache = d / "cache"
    # A file where `tokbench fetch gpt2` looks, so that fetch reports 'cached' without the network.
    (cache / "tokenizers" / "gpt2").mkdir(parents=True)
    (cache / "tokenizers" / "gpt2" / "r50k_base.tiktoken").write_text("IQ== 0\n")
    return d, tok, cache


def _cases(d: Path, tok: str):
    en, de = str(d / "en.txt"), str(d / "de.txt")
    return {
        "corpora list": ["corpora", "list"],
        "corpora show": ["corpora", "show", "udhr"],
        "corpora sample": ["corpora", "sample", "udhr:tur", "--n", "1"],
        "inspect": ["inspect", tok, "Merhaba dünya"],
        "train": ["train", "bpe", "-c", en, "-v", "300", "-o", str(d / "trained"), "--force"],
        "evaluate": ["evaluate", tok, "--corpus", en, "--metrics", "compression", "--out", str(d / "eval"), "--force"],
        "infer-mixture": ["infer-mixture", tok, "-c", f"en={en}", "-c", f"de={de}", "--merges", "50", "--no-report"],
        "check": ["check", tok, "--write-baseline", str(d / "base.json"), "--corpus", en],
        "fetch": ["fetch", "gpt2"],
        "cache list": ["cache", "list"],
    }


@pytest.mark.parametrize("name", ["corpora list", "corpora show", "corpora sample", "inspect", "train", "evaluate",
                                  "infer-mixture", "check", "fetch", "cache list"])
def test_json_is_one_document_on_stdout(work, name):
    d, tok, cache = work
    args = _cases(d, tok)[name]
    # check writes its JSON to a FILE argument, '-' meaning stdout
    args = args + (["--json", "-"] if name == "check" else ["--json"])
    env = {**os.environ, "TOKBENCH_CACHE": str(cache), "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "tokbench.cli.main", *args], capture_output=True, text=True,
                          env=env, cwd=d, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    try:
        json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        pytest.fail(f"`tokbench {' '.join(args)}` stdout is not one JSON document ({exc}):\n{proc.stdout[:800]}")
