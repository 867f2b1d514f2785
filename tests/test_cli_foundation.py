"""The CLI's foundation: --version/--help, inspect, corpora, and one clear line for every bad input."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.tokenizer_builders import build_hf_bpe
from tokbench import __version__
from tokbench.cli.main import app
from tokbench.cli.progress import PLAIN_PREFIX

runner = CliRunner()

COMMANDS = ["demo", "train", "evaluate", "infer-mixture", "transplant", "check", "inspect", "corpora"]


def _err_line(result) -> str:
    out = (result.stderr if hasattr(result, "stderr") else result.output).strip()
    return out


def assert_clean_error(result, needle: str, code: int = 2):
    """Exit code ``code``, one line mentioning ``needle``, and no traceback."""
    assert result.exit_code == code, result.output
    text = _err_line(result)
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    # Progress lines (stderr is not a terminal here) may come before the error; nothing else may.
    lines = [l for l in text.splitlines() if l.strip() and not l.startswith(PLAIN_PREFIX)]
    assert len(lines) == 1, f"expected one line, got: {text!r}"
    assert lines[0].startswith("error:"), lines[0]
    assert needle.lower() in lines[0].lower(), lines[0]


def test_version_and_help_list_every_command():
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and __version__ in r.output
    r = runner.invoke(app, ["--help"])
    assert r.exit_code == 0
    for cmd in COMMANDS:
        assert cmd in r.output


def test_inspect_segments_text(tmp_path, tiny_texts):
    spec = build_hf_bpe(tiny_texts, tmp_path)
    r = runner.invoke(app, ["inspect", spec, "Merhaba dünya", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["summary"]["model"] == "bpe" and data["summary"]["format"] == "hf"
    assert "".join(data["tokens"]).replace("Ġ", " ") != ""
    spans = data["spans"]
    assert spans[0][0] == 0 and spans[-1][1] == len("Merhaba dünya".encode())
    r = runner.invoke(app, ["inspect", spec, "Merhaba dünya"])
    assert r.exit_code == 0 and "tokens for 14 bytes" in r.output


# --- bad input: one line, exit 2, no traceback ------------------------------------------------------

def test_missing_tokenizer_file():
    assert_clean_error(runner.invoke(app, ["inspect", "no/such/tokenizer.json"]), "no tokenizer at")


def test_unknown_tokenizer_format(tmp_path):
    f = tmp_path / "weights.bin"
    f.write_bytes(b"\x00\x01\x02 not a tokenizer")
    assert_clean_error(runner.invoke(app, ["inspect", str(f)]), "cannot tell the format")


def test_corrupt_tokenizer_json(tmp_path):
    f = tmp_path / "tokenizer.json"
    f.write_text('{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [')
    assert_clean_error(runner.invoke(app, ["inspect", str(f)]), "not valid JSON")


def test_json_that_is_not_a_tokenizer(tmp_path):
    f = tmp_path / "config.json"
    f.write_text('{"hidden_size": 64}')
    assert_clean_error(runner.invoke(app, ["inspect", str(f)]), "neither a Hugging Face tokenizer.json nor a Tekken")


def test_reference_not_in_cache():
    assert_clean_error(runner.invoke(app, ["inspect", "llama3"]), "fetch it with")


def test_binary_file_given_as_text(tmp_path):
    f = tmp_path / "data.txt"
    f.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert_clean_error(runner.invoke(app, ["corpora", "sample", str(f)]), "binary")


def test_non_utf8_text(tmp_path):
    f = tmp_path / "latin1.txt"
    f.write_bytes("çok güzel".encode("latin-1"))
    assert_clean_error(runner.invoke(app, ["corpora", "sample", str(f)]), "not UTF-8")


def test_empty_corpus(tmp_path):
    f = tmp_path / "empty.txt"
    f.write_text("\n\n   \n")
    assert_clean_error(runner.invoke(app, ["corpora", "sample", str(f)]), "empty")


def test_missing_corpus_file():
    assert_clean_error(runner.invoke(app, ["corpora", "sample", "nowhere/texts.jsonl"]), "no corpus or file")


def test_bad_size():
    assert_clean_error(runner.invoke(app, ["corpora", "sample", "udhr:tur", "--max-bytes", "lots"]), "cannot read size")


def test_jsonl_field_and_bad_line(tmp_path):
    f = tmp_path / "d.jsonl"
    f.write_text('{"body": "merhaba"}\n{"body": "dünya"}\n')
    r = runner.invoke(app, ["corpora", "sample", f"{f}#body", "--json"])
    assert r.exit_code == 0, r.output
    assert [s["text"] for s in json.loads(r.stdout)[0]["sample"]] == ["merhaba", "dünya"]
    assert_clean_error(runner.invoke(app, ["corpora", "sample", str(f)]), "no 'text' field")
    f.write_text('{"text": "ok"}\n{"text": \n')
    assert_clean_error(runner.invoke(app, ["corpora", "sample", str(f)]), "not valid JSON")


def test_hf_dataset_specs(tmp_path):
    """`hf:` specs read a saved dataset and a local data folder through `datasets` (streaming)."""
    import datasets

    saved = tmp_path / "saved"
    datasets.DatasetDict({"train": datasets.Dataset.from_dict({"text": ["bir", "iki", ""], "n": [1, 2, 3]})}).save_to_disk(str(saved))
    r = runner.invoke(app, ["corpora", "sample", f"hf:{saved}@train", "--json"])
    assert r.exit_code == 0, r.output
    assert [s["text"] for s in json.loads(r.stdout)[0]["sample"]] == ["bir", "iki"]
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "part.jsonl").write_text("".join(json.dumps({"content": f"satır {i}"}) + "\n" for i in range(50)))
    r = runner.invoke(app, ["corpora", "sample", f"hf:{folder}@train#content", "--max-bytes", "30", "--json"])
    assert r.exit_code == 0, r.output
    src = json.loads(r.stdout)[0]
    assert src["segments"] == 4 and src["sample"][0]["text"] == "satır 0"
    assert_clean_error(runner.invoke(app, ["corpora", "sample", f"hf:{folder}@train#nofield"]), "no field 'nofield'")
