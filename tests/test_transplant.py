"""tokbench transplant: OMP against a reference and mergekit, estimators, checkpoint I/O, tiny end-to-end
transplants through the library and the CLI (tiny random Llama models and tokenizers built here)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tokbench.cli.main import app
from tokbench.transplant import estimators as est
from tokbench.transplant.checkpoint import Tensor, read_safetensors, write_safetensors
from tokbench.transplant.config import TransplantConfig
from tokbench.transplant.omp import batch_omp, batch_omp_screened, omp, omp_reference, ridge_refit
from tokbench.transplant.run import transplant

runner = CliRunner()

OLD_TEXTS = ["the cat sat on the mat", "the dog ate the bone", "a hat and a bat", "then the rat ran"] * 4
NEW_TEXTS = ["the cat sat on the mat", "catalog of cats", "the dog dines", "tomato and potato"] * 4


# --- OMP -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batch_omp_matches_reference(seed, dtype):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((120, 24)).astype(dtype)
    T = rng.standard_normal((15, 24)).astype(dtype)
    k = 6
    idx, coef = batch_omp(T, A, k)
    idx2, coef2 = batch_omp_screened(T, A, k, m=10**6)
    tol = 1e-9 if dtype == np.float64 else 2e-3
    for b in range(len(T)):
        ri, rc = omp_reference(T[b], A, k)
        assert idx[b].tolist() == ri.tolist()
        assert idx2[b].tolist() == ri.tolist()
        np.testing.assert_allclose(coef[b], rc, atol=tol, rtol=tol)
        np.testing.assert_allclose(coef2[b], rc, atol=tol, rtol=tol)


def test_omp_recovers_exact_sparse_combination_through_linear_map():
    """Donor rows of new tokens are exact 4-sparse combinations of anchors; the base space is a known
    linear map of the donor space: OMP's coefficients applied to base anchors give the base rows."""
    rng = np.random.default_rng(7)
    N, Dd, D, B, s = 200, 64, 48, 30, 4
    donor_anchors = rng.standard_normal((N, Dd))
    M = rng.standard_normal((Dd, D))
    base_anchors = donor_anchors @ M
    support = np.stack([rng.choice(N, s, replace=False) for _ in range(B)])
    weights = rng.uniform(0.5, 2.0, (B, s)) * rng.choice([-1, 1], (B, s))
    donor_new = np.einsum("bs,bsd->bd", weights, donor_anchors[support])
    base_new = donor_new @ M
    for k in (s, 8):
        # the screened kernel is exact only when it keeps every candidate (m >= N); see omp.py
        for fn in (lambda: batch_omp(donor_new, donor_anchors, k), lambda: batch_omp_screened(donor_new, donor_anchors, k, m=N)):
            idx, coef = fn()
            got = est.apply_coefficients(base_anchors.astype(np.float64), idx, coef.astype(np.float64))
            np.testing.assert_allclose(got, base_new, atol=1e-4, rtol=1e-5)  # apply_coefficients returns float32
            assert all(set(support[b]) <= set(idx[b]) for b in range(B))


def _peer(module: str):
    """Import a peer library the test compares with. scripts/test.sh (CI) installs every peer and sets
    TOKBENCH_REQUIRE_PEERS=1, so there a missing peer fails instead of skipping."""
    import importlib
    import os

    if os.environ.get("TOKBENCH_REQUIRE_PEERS"):
        return importlib.import_module(module)
    return pytest.importorskip(module)


def test_omp_matches_mergekit_batch_omp():
    torch = _peer("torch")
    mk = _peer("mergekit.tokensurgeon.omp")
    rng = np.random.default_rng(3)
    for dtype, tol in ((np.float64, 1e-9), (np.float32, 1e-3)):
        A = rng.standard_normal((500, 48)).astype(dtype)
        T = rng.standard_normal((40, 48)).astype(dtype)
        k = 16
        idx, coef = batch_omp(T, A, k)
        midx, mcoef = mk.batch_omp(torch.from_numpy(T), torch.from_numpy(A), k)
        assert (idx == midx.numpy()).all()
        np.testing.assert_allclose(coef, mcoef.numpy(), atol=tol, rtol=tol)
        sidx, scoef = batch_omp_screened(T, A, k, m=10**6)
        assert (sidx == midx.numpy()).all()
        np.testing.assert_allclose(scoef, mcoef.numpy(), atol=tol, rtol=tol)


def _ridge_reference(t, AS, ridge):
    """Slow and obviously right: the ridge solution as an augmented least-squares problem."""
    k = AS.shape[0]
    lam = ridge * float((AS**2).sum()) / k
    M = np.vstack([AS.T, np.sqrt(lam) * np.eye(k)])
    return np.linalg.lstsq(M, np.concatenate([t, np.zeros(k)]), rcond=None)[0]


@pytest.mark.parametrize("ridge", [0.0, 1e-3, 0.1, 1.0])
def test_ridge_refit_matches_reference(ridge):
    rng = np.random.default_rng(11)
    A = rng.standard_normal((90, 20))
    T = rng.standard_normal((12, 20))
    idx, coef = batch_omp(T, A, 7)
    got = ridge_refit(T, A, idx, ridge, block=5)  # several blocks
    for b in range(len(T)):
        np.testing.assert_allclose(got[b], _ridge_reference(T[b], A[idx[b]], ridge), rtol=1e-8, atol=1e-10)
    if ridge == 0.0:
        np.testing.assert_allclose(got, coef, rtol=1e-8, atol=1e-10)  # no ridge = OMP's own least squares
    got32 = ridge_refit(T.astype(np.float32), A.astype(np.float32), idx, ridge)
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, got, rtol=1e-3, atol=1e-4)


def test_omp_with_ridge_keeps_selection_and_bounds_coefficients_on_near_duplicate_anchors():
    """Anchors in near-identical pairs (as uncased MiniLM gives "The"/"the"): plain least squares over a
    pair gives huge opposite-sign coefficients; the ridge refit keeps the same atoms and bounded weights."""
    rng = np.random.default_rng(5)
    base = rng.standard_normal((40, 16))
    A = np.vstack([base, base + 1e-6 * rng.standard_normal(base.shape)])  # anchor i and i+40 nearly equal
    T = base[:6] + 0.3 * rng.standard_normal((6, 16))
    idx0, c0 = omp(T, A, 30, max_candidates=0)
    idx1, c1 = omp(T, A, 30, max_candidates=0, ridge=0.01)
    assert (idx0 == idx1).all()
    assert np.abs(c0).max() > 100
    assert np.abs(c1).max() < 5
    np.testing.assert_allclose(c1, ridge_refit(T, A, idx0, 0.01))


def test_omp_k_larger_than_anchors_is_a_config_error():
    from tokbench.errors import ConfigError

    with pytest.raises(ConfigError, match="larger than the 3 shared anchor"):
        batch_omp(np.ones((2, 4)), np.eye(3, 4), 5)


# --- estimators ------------------------------------------------------------------------------------------
def test_fvt_mean_zero_random_by_hand():
    E = np.array([[1.0, 0.0], [0.0, 2.0], [4.0, 4.0]], dtype=np.float32)
    flat, off = np.array([0, 1, 2]), np.array([0, 2, 2, 3])
    np.testing.assert_allclose(est.fvt(E, flat, off), [[0.5, 1.0], [5 / 3, 2.0], [4.0, 4.0]], rtol=1e-6)  # empty -> mean row
    np.testing.assert_allclose(est.mean_rows(E, 1), [[5 / 3, 2.0]], rtol=1e-6)
    assert est.zero_rows(E, 2).tolist() == [[0, 0], [0, 0]]
    r = est.random_rows(E, 20000, seed=1)
    np.testing.assert_allclose(r.mean(0), E.mean(0), atol=0.05)
    np.testing.assert_allclose(r.std(0), E.std(0), atol=0.05)


def test_heuristic_by_hand():
    """One new token 'ab' with pieces 'a' (id 0) and 'b' (id 1), phi chosen so the numbers are easy."""
    E = np.array([[1.0, 0.0], [0.0, 1.0], [5.0, 5.0]], dtype=np.float32)
    phi_old = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    phi_new = np.array([[1.0, 0.0]])
    out = est.heuristic(E, np.array([0, 1]), np.array([0, 2]), np.array([1.0, 1.0]), np.array([2.0]), phi_new, phi_old,
                        tau=0.3, w_global=0.3, top_k=2)
    # local: cos = (1, 0) -> a = softmax(1, 0); l = (.5, .5); w = softmax(((a + l)/2)/tau)
    a = np.exp([1.0, 0.0]) / np.exp([1.0, 0.0]).sum()
    w = np.exp(((a + 0.5) / 2) / 0.3)
    w /= w.sum()
    local = w[0] * E[0] + w[1] * E[1]
    # global: top-2 by cosine are id 0 (1.0) and id 2 (0.7071), both above the 0.6 threshold
    g = np.exp(np.array([1.0, 2 ** -0.5]) / 0.3)
    g /= g.sum()
    glob = g[0] * E[0] + g[1] * E[2]
    np.testing.assert_allclose(out[0], 0.7 * local + 0.3 * glob, rtol=1e-5)


def test_segment_softmax_sums_to_one_per_segment():
    rng = np.random.default_rng(0)
    off = np.array([0, 3, 4, 9])
    p = est.segment_softmax(rng.standard_normal(9), off)
    np.testing.assert_allclose(np.add.reduceat(p, off[:-1]), 1.0)


# --- safetensors I/O ---------------------------------------------------------------------------------------
def test_safetensors_roundtrip_bit_for_bit_including_bf16(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file, save_file

    src = {"a": torch.randn(5, 3, dtype=torch.bfloat16), "b": torch.arange(6, dtype=torch.int64), "c": torch.randn(2, 2)}
    save_file(src, tmp_path / "x.safetensors")
    ts, _ = read_safetensors(tmp_path / "x.safetensors")
    np.testing.assert_array_equal(ts["a"].to_float32(), src["a"].float().numpy())
    write_safetensors(tmp_path / "y.safetensors", ts)
    back = load_file(tmp_path / "y.safetensors")
    for k in src:
        assert torch.equal(back[k], src[k])
    # float32 -> bf16 rounds like torch
    x = np.random.default_rng(0).standard_normal((7, 5)).astype(np.float32)
    t = Tensor.from_float32(x, "BF16")
    assert np.array_equal(t.to_float32(), torch.from_numpy(x).bfloat16().float().numpy())


# --- tiny models -----------------------------------------------------------------------------------------
def _train_tokenizer(texts, vocab_size, kind, specials):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    if kind == "bytelevel":
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
    else:
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False))
    return tok


def _write_tok_dir(d: Path, tok, cfg: dict) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    tok.save(str(d / "tokenizer.json"))
    (d / "tokenizer_config.json").write_text(json.dumps(cfg))
    return d


def _tiny_model(d: Path, tok, tok_cfg: dict, *, tied: bool, seed: int = 0, shard: str | None = None) -> Path:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(seed)
    V = tok.get_vocab_size()
    vocab = tok.get_vocab()
    cfg = transformers.LlamaConfig(vocab_size=V, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                   num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                                   tie_word_embeddings=tied, bos_token_id=vocab[tok_cfg["bos_token"]],
                                   eos_token_id=vocab[tok_cfg["eos_token"]])
    model = transformers.LlamaForCausalLM(cfg).eval()
    with torch.no_grad():  # make rows distinct and non-trivial
        model.model.embed_tokens.weight.normal_(0, 1)
        if not tied:
            model.lm_head.weight.normal_(0, 1)
    kw = {"max_shard_size": shard} if shard else {}
    model.save_pretrained(str(d), **kw)
    _write_tok_dir(d, tok, tok_cfg)
    return d


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    pytest.importorskip("transformers")
    root = tmp_path_factory.mktemp("tiny")
    old_tok = _train_tokenizer(OLD_TEXTS, 60, "bytelevel", ["<|endoftext|>"])
    new_tok = _train_tokenizer(NEW_TEXTS, 70, "metaspace", ["<unk>", "<s>", "</s>"])
    old_cfg = {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>"}
    new_cfg = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}
    return {
        "root": root,
        "tied": _tiny_model(root / "tied", old_tok, old_cfg, tied=True),
        "untied": _tiny_model(root / "untied", old_tok, old_cfg, tied=False),
        "sharded": _tiny_model(root / "sharded", old_tok, old_cfg, tied=False, shard="20KB"),
        "new_tok": _write_tok_dir(root / "newtok", new_tok, new_cfg),
        "donor": _tiny_model(root / "donor", new_tok, new_cfg, tied=True, seed=5),
    }


def _load(d):
    import torch
    import transformers

    return transformers.AutoModelForCausalLM.from_pretrained(str(d), dtype=torch.float32).eval()


def _rows(model, head=False):
    w = model.lm_head.weight if head else model.model.embed_tokens.weight
    return w.detach().numpy()


@pytest.mark.parametrize("kind", ["tied", "untied", "sharded"])
@pytest.mark.parametrize("method", ["omp", "heuristic", "fvt", "mean", "zero", "random"])
def test_tiny_transplant_copies_shared_rows_and_loads(tiny, tmp_path, kind, method):
    import torch

    from tokbench.tokenizer import load_tokenizer
    from tokbench.transplant.vocab import align_vocabularies

    out = tmp_path / "out"
    man = transplant(tiny[kind], tiny["new_tok"], out, TransplantConfig(method=method, k=8))
    old, new = load_tokenizer(tiny[kind]), load_tokenizer(tiny["new_tok"])
    al = align_vocabularies(old, new)
    assert man["counts"]["shared"] == len(al.anchor_new) > 10
    assert man["counts"]["new"] == len(al.new_ids) > 0
    assert man["tied"] == (kind == "tied")
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["vocab_size"] == new.vocab_size
    assert cfg["bos_token_id"] == new.special_tokens["<s>"] and cfg["eos_token_id"] == new.special_tokens["</s>"]
    if kind == "sharded":
        assert (out / "model.safetensors.index.json").exists()
    src, dst = _load(tiny[kind]), _load(out)
    assert dst.get_input_embeddings().weight.shape[0] == new.vocab_size
    # shared rows (and the bos/eos matched by role) are copied bit for bit
    assert np.array_equal(_rows(dst)[al.copy_new], _rows(src)[al.copy_old])
    if kind == "tied":
        assert dst.lm_head.weight.data_ptr() == dst.model.embed_tokens.weight.data_ptr() or torch.equal(dst.lm_head.weight, dst.model.embed_tokens.weight)
    else:
        assert np.array_equal(_rows(dst, head=True)[al.copy_new], _rows(src, head=True)[al.copy_old])
        assert not np.array_equal(_rows(dst, head=True)[al.new_ids], _rows(dst)[al.new_ids]) or method in ("zero",)
    # everything else bit for bit
    sd_src, sd_dst = src.state_dict(), dst.state_dict()
    for name, t in sd_src.items():
        if "embed_tokens" not in name and "lm_head" not in name:
            assert torch.equal(t, sd_dst[name]), name
    # logits over shared tokens: same input (mapped ids), same logits on shared columns
    anchors_old = al.anchor_old[:12]
    anchors_new = al.anchor_new[:12]
    with torch.no_grad():
        lo = src(torch.tensor([anchors_old.tolist()])).logits[0].numpy()
        ln = dst(torch.tensor([anchors_new.tolist()])).logits[0].numpy()
    np.testing.assert_allclose(ln[:, al.copy_new], lo[:, al.copy_old], atol=1e-5, rtol=1e-5)
    files = {p.name for p in out.iterdir()}
    assert {"config.json", "tokenizer.json", "tokenizer_config.json", "tokbench_transplant.json"} <= files
    assert not any(p.name.endswith(".partial") for p in tmp_path.iterdir())


def test_fvt_rows_are_means_of_old_pieces(tiny, tmp_path):
    from tokbench.tokenizer import load_tokenizer
    from tokbench.transplant.vocab import align_vocabularies

    out = tmp_path / "fvt"
    transplant(tiny["untied"], tiny["new_tok"], out, TransplantConfig(method="fvt"))
    old, new = load_tokenizer(tiny["untied"]), load_tokenizer(tiny["new_tok"])
    al = align_vocabularies(old, new)
    src, dst = _load(tiny["untied"]), _load(out)
    nb = new.token_bytes()
    for nid in al.new_ids[:10]:
        pieces = old.encode(nb[nid].decode()) or list(range(old.vocab_size))  # no piece -> mean of all rows
        np.testing.assert_allclose(_rows(dst)[nid], _rows(src)[pieces].mean(0), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(_rows(dst, True)[nid], _rows(src, True)[pieces].mean(0), rtol=1e-5, atol=1e-6)


def test_donor_omp_is_tokensurgeon(tiny, tmp_path):
    """With a donor, the new rows are OMP(donor[new], donor[anchors]) applied to base[anchors]."""
    from tokbench.tokenizer import load_tokenizer
    from tokbench.transplant.vocab import align_vocabularies

    out = tmp_path / "donor"
    man = transplant(tiny["tied"], tiny["new_tok"], out, TransplantConfig(method="omp", k=5), donor=tiny["donor"])
    assert man["estimation"]["input_embeddings"]["space"] == "donor"
    al = align_vocabularies(load_tokenizer(tiny["tied"]), load_tokenizer(tiny["new_tok"]))
    base, donor, dst = _rows(_load(tiny["tied"])), _rows(_load(tiny["donor"])), _rows(_load(out))
    idx, coef = omp_reference(donor[al.new_ids[0]], donor[al.anchor_new], 5)
    np.testing.assert_allclose(dst[al.new_ids[0]], coef @ base[al.anchor_old][idx], rtol=1e-4, atol=1e-5)


def test_scale_and_ridge_defaults():
    from tokbench.transplant.config import MINILM_RIDGE, OMP_RANK_DECAY

    cfg = TransplantConfig()
    assert cfg.method == "omp" and cfg.decay_for("self") == cfg.decay_for("minilm") == OMP_RANK_DECAY
    assert cfg.decay_for("donor") == 0.0  # tokensurgeon's setting keeps its rows
    assert TransplantConfig(method="fvt").decay_for() == TransplantConfig(method="heuristic").decay_for("self") == 0.0
    assert cfg.row_scale() == 1.0 and TransplantConfig(method="fvt", scale=0.5).row_scale() == 0.5
    assert cfg.ridge_for("self") == cfg.ridge_for("donor") == 0.0 and cfg.ridge_for("minilm") == MINILM_RIDGE
    assert TransplantConfig(ridge=0.2).ridge_for("self") == TransplantConfig(ridge=0.2).ridge_for("minilm") == 0.2


def _rank_factor_reference(new_id: int, decay: float, origin: int, floor: float) -> float:
    """One id at a time, straight from the formula in config.py."""
    r = max(new_id + 1, origin)
    return min(1.0, max(floor, 1.0 - decay * math.log(r / origin)))


def test_row_scales_match_the_formula_on_random_ids():
    from tokbench.transplant.config import MIN_ROW_SCALE, RANK_ORIGIN
    from tokbench.transplant.estimators import row_scales

    rng = np.random.default_rng(7)
    ids = np.concatenate([rng.integers(0, 300_000, 500), [0, RANK_ORIGIN - 2, RANK_ORIGIN - 1, RANK_ORIGIN]])
    for decay, scale in ((0.03, None), (0.1, 0.7), (0.0, 1.0), (0.5, 2.0)):
        cfg = TransplantConfig(rank_decay=decay, scale=scale)
        got = row_scales(ids, cfg.row_scale(), cfg.decay_for("self"))
        want = [(scale or 1.0) * _rank_factor_reference(int(i), decay, RANK_ORIGIN, MIN_ROW_SCALE) for i in ids]
        np.testing.assert_allclose(got, want, rtol=1e-12)
    f = row_scales(np.arange(200_000), 1.0, TransplantConfig().decay_for("self"))
    assert f[0] == 1.0 and np.all(np.diff(f) <= 0) and f[-1] < 0.9  # frequent merges whole, rare ones shrunk
    assert np.all(row_scales(ids, 1.0, TransplantConfig().decay_for("donor")) == 1.0)
    assert np.all(row_scales(ids, 1.0, TransplantConfig(method="fvt").decay_for()) == 1.0)


def test_row_scales_multiply_only_estimated_rows(tiny, tmp_path, monkeypatch):
    from tokbench.tokenizer import load_tokenizer
    from tokbench.transplant import config
    from tokbench.transplant.estimators import row_scales
    from tokbench.transplant.vocab import align_vocabularies

    al = align_vocabularies(load_tokenizer(tiny["untied"]), load_tokenizer(tiny["new_tok"]))
    # The tiny vocabulary ends far below the real origin: move it inside, so some rows stay whole, some shrink.
    monkeypatch.setattr(config, "RANK_ORIGIN", int(np.median(al.new_ids)) + 1)
    plain = TransplantConfig(method="omp", k=5, scale=1.0, rank_decay=0.0)
    shrunk = TransplantConfig(method="omp", k=5, scale=0.9, rank_decay=0.2)
    m1 = transplant(tiny["untied"], tiny["new_tok"], tmp_path / "s1", plain)
    m2 = transplant(tiny["untied"], tiny["new_tok"], tmp_path / "sd", shrunk)
    e1, e2 = m1["estimation"]["input_embeddings"], m2["estimation"]["output_head"]
    assert (e1["scale"], e1["rank_decay"], e1["row_scale_mean"]) == (1.0, 0.0, 1.0)
    assert (e2["scale"], e2["rank_decay"]) == (0.9, 0.2) and e2["row_scale_mean"] < 0.9
    factors = row_scales(al.new_ids, shrunk.row_scale(), shrunk.decay_for("self"))
    assert factors.min() < factors.max() == 0.9
    a, b = _load(tmp_path / "s1"), _load(tmp_path / "sd")
    for head in (False, True):
        np.testing.assert_allclose(_rows(b, head)[al.new_ids], factors[:, None] * _rows(a, head)[al.new_ids], rtol=1e-6, atol=1e-7)
        assert np.array_equal(_rows(b, head)[al.copy_new], _rows(a, head)[al.copy_new])


# --- evaluation ----------------------------------------------------------------------------------------------
def test_bits_per_byte_matches_manual_loss(tiny):
    import math

    import torch

    from tokbench.tokenizer import load_tokenizer
    from tokbench.transplant.evaluate import bits_per_byte

    model, tok = _load(tiny["tied"]), load_tokenizer(tiny["tied"])
    text = "the cat sat on the mat"
    r = bits_per_byte(model, tok, [text])
    ids = [model.config.bos_token_id] + tok.encode(text)
    with torch.no_grad():
        logp = torch.log_softmax(model(torch.tensor([ids])).logits[0, :-1], -1)
    nats = -logp[torch.arange(len(ids) - 1), torch.tensor(ids[1:])].sum().item()
    assert r.tokens == len(ids) - 1 and r.bytes == len(text)
    assert r.bits_per_byte == pytest.approx(nats / math.log(2) / len(text), rel=1e-5)


# --- CLI ----------------------------------------------------------------------------------------------------
def _one_error_line(res):
    from tokbench.cli.progress import PLAIN_PREFIX

    assert res.exit_code == 2, res.output
    # progress lines (stderr is not a terminal here) may come before the error; nothing else may
    text = "\n".join(l for l in res.output.strip().splitlines() if not l.startswith(PLAIN_PREFIX))
    assert text.startswith("error:") and "\n" not in text and "Traceback" not in text
    return text


def test_cli_transplant_and_eval(tiny, tmp_path):
    out = tmp_path / "cli"
    res = runner.invoke(app, ["transplant", str(tiny["tied"]), "--tokenizer", str(tiny["new_tok"]), "--out", str(out),
                              "--method", "fvt", "--json"])
    assert res.exit_code == 0, res.output
    man = json.loads(res.stdout)["manifest"]
    assert man["parameters"]["method"] == "fvt" and man["counts"]["shared"] > 0
    txt = tmp_path / "t.txt"
    txt.write_text("the cat sat on the mat\nthe dog ate\n")
    res = runner.invoke(app, ["transplant", "eval", str(out), "--text", str(txt), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["bits_per_byte"] > 0
    # --eval: original and transplanted side by side
    res = runner.invoke(app, ["transplant", str(tiny["untied"]), "-t", str(tiny["new_tok"]), "-o", str(tmp_path / "ev"),
                              "--method", "heuristic", "--eval", str(txt), "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["eval"]["rows"]
    assert [r["model"] for r in rows] == ["original", "transplanted"] and all(r["bits_per_byte"] > 0 for r in rows)
    # eval of a folder that is not a model
    _one_error_line(runner.invoke(app, ["transplant", "eval", str(tmp_path), "--text", str(txt)]))


def test_cli_bad_inputs(tiny, tmp_path):
    new = str(tiny["new_tok"])
    # output exists
    (tmp_path / "exists").mkdir()
    msg = _one_error_line(runner.invoke(app, ["transplant", str(tiny["tied"]), "-t", new, "-o", str(tmp_path / "exists")]))
    assert "--force" in msg
    # --k larger than the shared tokens
    msg = _one_error_line(runner.invoke(app, ["transplant", str(tiny["tied"]), "-t", new, "-o", str(tmp_path / "k"), "--k", "100000"]))
    assert "--k" in msg and not (tmp_path / "k").exists()
    # a model without embeddings
    bad = tmp_path / "noemb"
    bad.mkdir()
    (bad / "config.json").write_text(json.dumps({"vocab_size": 10}))
    write_safetensors(bad / "model.safetensors", {"model.norm.weight": Tensor.from_float32(np.ones(4, np.float32), "F32")})
    (bad / "tokenizer.json").write_text((tiny["tied"] / "tokenizer.json").read_text())
    msg = _one_error_line(runner.invoke(app, ["transplant", str(bad), "-t", new, "-o", str(tmp_path / "o1")]))
    assert "embedding" in msg and not (tmp_path / "o1").exists()
    # a tokenizer sharing nothing with the model's
    from tokenizers import Tokenizer, models, pre_tokenizers

    other = Tokenizer(models.WordLevel({"привет": 0, "мир": 1, "<unk>": 2}, unk_token="<unk>"))
    other.pre_tokenizer = pre_tokenizers.Whitespace()
    (tmp_path / "ru").mkdir()
    other.save(str(tmp_path / "ru" / "tokenizer.json"))
    msg = _one_error_line(runner.invoke(app, ["transplant", str(tiny["tied"]), "-t", str(tmp_path / "ru"), "-o", str(tmp_path / "o2")]))
    assert "shares no token" in msg and not (tmp_path / "o2").exists()
    # unknown method, missing model, a non-positive scale, a negative ridge
    _one_error_line(runner.invoke(app, ["transplant", str(tiny["tied"]), "-t", new, "-o", str(tmp_path / "o3"), "--method", "magic"]))
    assert "--scale" in _one_error_line(runner.invoke(app, ["transplant", str(tiny["tied"]), "-t", new, "-o", str(tmp_path / "o5"), "--scale", "0"]))
    assert "--rank-decay" in _one_error_line(runner.invoke(app, ["transplant", str(tiny["tied"]), "-t", new, "-o", str(tmp_path / "o6"), "--rank-decay", "-0.1"]))
    assert "--ridge" in _one_error_line(runner.invoke(app, ["transplant", str(tiny["tied"]), "-t", new, "-o", str(tmp_path / "o6"), "--ridge", "-1"]))
    _one_error_line(runner.invoke(app, ["transplant", str(tmp_path / "nope"), "-t", new, "-o", str(tmp_path / "o4")]))
    assert not any(p.name.endswith(".partial") for p in tmp_path.iterdir())


def test_gguf_unsupported_quantisation(tmp_path):
    gguf = pytest.importorskip("gguf")
    path = tmp_path / "iq.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_block_count(1)
    # 256 weights in IQ2_XXS take 66 bytes; the content does not matter, only the type.
    w.add_tensor("token_embd.weight", np.zeros((1, 66), dtype=np.uint8), raw_shape=(1, 66), raw_dtype=gguf.GGMLQuantizationType.IQ2_XXS)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    res = runner.invoke(app, ["transplant", str(path), "-t", str(path), "-o", str(tmp_path / "o")])
    msg = _one_error_line(res)
    assert "IQ2_XXS" in msg and not (tmp_path / "o").exists()


def test_gguf_unpermute_inverts_llama_cpp_permute():
    from tokbench.transplant.gguf_io import unpermute_rope

    def permute(w, n_head):  # llama.cpp's conversion, written from its description
        return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)

    w = np.random.default_rng(0).standard_normal((24, 5))
    for h in (1, 2, 3):
        np.testing.assert_array_equal(unpermute_rope(permute(w, h), h), w)


# --- prior calibration (a deviation, config.py: TransplantConfig.calibrate) --------------------------------------
def test_prior_calibration_hits_targets_and_keeps_shared_rows(tiny):
    """estimate_matrix with a prior: hbar.e_new = min piece prior - delta*(pieces-1) for every new row with
    pieces, the change is along hbar only, and shared/special rows are untouched bit for bit."""
    from tokbench.tokenizer import load_tokenizer
    from tokbench.transplant.aux import old_pieces
    from tokbench.transplant.run import estimate_matrix
    from tokbench.transplant.vocab import align_vocabularies, special_roles

    old, new = load_tokenizer(tiny["tied"]), load_tokenizer(tiny["new_tok"])
    rng = np.random.default_rng(3)
    E = rng.standard_normal((old.vocab_size, 16)).astype(np.float32)
    al = align_vocabularies(old, new, old_roles=special_roles(old), new_roles=special_roles(new), old_rows=len(E))
    nb = new.token_bytes()
    pieces = old_pieces(old, [nb[i] for i in al.new_ids], len(E))
    hbar = rng.standard_normal(16)
    for method in ("omp", "fvt"):
        cfg = TransplantConfig(method=method, k=3, calibrate="prior", delta=0.7)
        plain, _ = estimate_matrix(E, al, pieces, cfg)
        cal, info = estimate_matrix(E, al, pieces, cfg, prior=hbar)
        assert info["calibrate"] == {"mode": "prior", "delta": 0.7}
        prior_old = E.astype(np.float64) @ hbar
        n = np.diff(pieces.offsets)
        assert (n > 0).sum() >= 10
        for b, nid in enumerate(al.new_ids):
            ids = pieces.flat[pieces.offsets[b]:pieces.offsets[b + 1]]
            if len(ids) == 0:  # no piece, no target: kept as estimated
                assert np.array_equal(cal[nid], plain[nid])
                continue
            assert cal[nid].astype(np.float64) @ hbar == pytest.approx(prior_old[ids].min() - 0.7 * (len(ids) - 1), abs=1e-4)
            diff = (cal[nid] - plain[nid]).astype(np.float64)
            perp = diff - (diff @ hbar) / (hbar @ hbar) * hbar
            assert np.abs(perp).max() < 1e-5  # moved along hbar only
        keep = np.setdiff1d(np.arange(len(cal)), al.new_ids)
        assert np.array_equal(cal[keep], plain[keep])
        assert np.array_equal(cal[al.copy_new], E[al.copy_old])


def test_prior_calibration_end_to_end_untied(tiny, tmp_path):
    """An untied model: only the head's new rows are calibrated (input rows = the uncalibrated run's)."""
    from tokbench.tokenizer import load_tokenizer
    from tokbench.transplant.load import load_checkpoint
    from tokbench.transplant.run import mean_hidden_state
    from tokbench.transplant.vocab import align_vocabularies

    m = transplant(tiny["untied"], tiny["new_tok"], tmp_path / "cal", TransplantConfig(method="fvt", calibrate="prior"))
    transplant(tiny["untied"], tiny["new_tok"], tmp_path / "plain", TransplantConfig(method="fvt"))
    assert "calibrate" in m["estimation"]["output_head"] and "calibrate" not in m["estimation"]["input_embeddings"]
    al = align_vocabularies(load_tokenizer(tiny["untied"]), load_tokenizer(tiny["new_tok"]))
    a, b = _load(tmp_path / "cal"), _load(tmp_path / "plain")
    assert np.array_equal(_rows(a), _rows(b))
    assert np.array_equal(_rows(a, True)[al.copy_new], _rows(b, True)[al.copy_new])
    hbar = mean_hidden_state(load_checkpoint(tiny["untied"]), load_tokenizer(tiny["untied"]), False)
    src = _rows(_load(tiny["untied"]), True).astype(np.float64) @ hbar
    old, new = load_tokenizer(tiny["untied"]), load_tokenizer(tiny["new_tok"])
    nb = new.token_bytes()
    for nid in al.new_ids[:10]:
        ids = old.encode(nb[nid].decode())
        if ids:
            assert _rows(a, True)[nid].astype(np.float64) @ hbar == pytest.approx(src[ids].min() - 0.5 * (len(ids) - 1), abs=1e-3)


def test_cli_calibrate_bad_values(tiny, tmp_path):
    new = str(tiny["new_tok"])
    assert "--calibrate" in _one_error_line(runner.invoke(app, ["transplant", str(tiny["tied"]), "-t", new, "-o", str(tmp_path / "c1"), "--calibrate", "yes"]))
    assert "--delta" in _one_error_line(runner.invoke(app, ["transplant", str(tiny["tied"]), "-t", new, "-o", str(tmp_path / "c2"), "--calibrate", "prior", "--delta", "-1"]))
