"""One transplant, end to end: load model and tokenizers, align, estimate, write an HF model folder."""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import time
import weakref
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from tokbench.errors import ConfigError, TokenizerError
from tokbench.files import atomic_dir, check_output_dir, sha256_file, write_json_atomic
from tokbench.progress import Progress, no_progress
from tokbench.provenance import run_manifest
from tokbench.tokenizer import load_tokenizer
from tokbench.tokenizer.base import Tokenizer
from tokbench.tokenizer.folder import model_file
from tokbench.transplant import estimators as est
from tokbench.transplant.aux import MiniLM, Pieces, old_pieces, self_space
from tokbench.transplant.checkpoint import Checkpoint, Tensor, save_checkpoint
from tokbench.transplant.load import load_checkpoint
from tokbench.transplant.config import AUX_SPACES, CALIBRATIONS, METHODS, PRIOR_BYTES, PRIOR_TEXT, BitsPerByteConfig, TransplantConfig
from tokbench.transplant.omp import omp
from tokbench.transplant.vocab import Alignment, align_vocabularies, special_roles

if TYPE_CHECKING:  # pragma: no cover
    from tokbench.transplant.evaluate import BitsPerByte

MANIFEST_NAME = "tokbench_transplant.json"


def old_tokenizer_for(ckpt: Checkpoint, override: str | None = None) -> Tokenizer:
    """The tokenizer the base model was trained with: ``override``, the model folder's, or the GGUF's."""
    if override:
        return load_tokenizer(override)
    if ckpt.source_kind == "safetensors":
        if model_file(ckpt.source) is not None:
            return load_tokenizer(ckpt.source)
        raise TokenizerError(f"{ckpt.source} holds no tokenizer; pass the model's own tokenizer with --old-tokenizer")
    if ckpt.tokenizer_json is None:
        raise TokenizerError(f"{ckpt.source}: the GGUF vocabulary is not byte-level BPE; pass the model's tokenizer with --old-tokenizer")
    tmp = Path(tempfile.mkdtemp(prefix="tokbench-gguf-tok-"))
    (tmp / "tokenizer.json").write_text(json.dumps(ckpt.tokenizer_json, ensure_ascii=False), "utf-8")
    (tmp / "tokenizer_config.json").write_text(json.dumps(ckpt.tokenizer_config, ensure_ascii=False), "utf-8")
    tok = load_tokenizer(tmp, name=ckpt.source.stem)
    # The folder must outlive every use of the tokenizer (it is copied into an output as the new tokenizer
    # by export_hf), so it goes with the object, or at exit; also when a transplant fails half-way.
    weakref.finalize(tok, shutil.rmtree, str(tmp), True)
    return tok


def _tokenizer_json_path(tok: Tokenizer) -> Path | None:
    p = Path(tok.source)
    if p.name == "tokenizer.json" and p.exists():
        return p
    if p.is_dir() and (p / "tokenizer.json").exists():
        return p / "tokenizer.json"
    return None


def estimate_matrix(E: np.ndarray, al: Alignment, pieces: Pieces, cfg: TransplantConfig, **kw) -> tuple[np.ndarray, dict]:
    """:func:`_estimate_matrix` with numpy's overflow warnings off: extreme options (--scale 1e308) overflow
    on purpose-less inputs, and the result is checked for finite rows instead (one clear error)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _estimate_matrix(E, al, pieces, cfg, **kw)


def _estimate_matrix(E: np.ndarray, al: Alignment, pieces: Pieces, cfg: TransplantConfig, *,
                    donor: np.ndarray | None = None, phi_new_aux: np.ndarray | None = None,
                    phi_old_aux: np.ndarray | None = None, allowed_old: np.ndarray | None = None,
                    prior: np.ndarray | None = None, progress: Progress = no_progress) -> tuple[np.ndarray, dict]:
    """The new (V_new, D) float32 matrix for one base matrix ``E`` (V_old, D), and facts about the run.

    donor:       (V_new', D') the donor model's matrix (rows by NEW id) for tokensurgeon-style OMP.
    phi_*_aux:   a string-embedding space shared by both matrices (MiniLM); None means the 'self' space.
    prior:       (D,) mean final hidden state: calibrate the estimated rows along it (cfg.calibrate='prior';
                 pass it only for a matrix that produces logits). Shared and special rows are never touched.
    """
    B = len(al.new_ids)
    V, D = al.new_vocab_size, E.shape[1]
    out = np.zeros((V, D), dtype=np.float32)
    out[al.copy_new] = E[al.copy_old]
    info: dict = {}
    if len(al.special_new):
        out[al.special_new] = E.mean(axis=0)
    if B == 0:
        return out, info
    m = cfg.method
    if m in ("omp", "heuristic"):
        if donor is not None:
            phi_new, phi_old_anchor = donor[al.new_ids], donor[al.anchor_new]
            space = "donor"
        elif phi_new_aux is not None:
            phi_new = phi_new_aux
            phi_old_anchor = phi_old_aux[al.anchor_old]
            space = "minilm"
        else:
            phi_new, phi_old_full = self_space(E, pieces)
            phi_old_anchor = phi_old_full[al.anchor_old]
            space = "self"
        info["space"] = space
    if m == "omp":
        t0 = time.perf_counter()
        with progress(f"OMP k={cfg.k} over {len(al.anchor_new):,} anchors", B) as adv:
            idx, coef = omp(np.asarray(phi_new, np.float32), np.asarray(phi_old_anchor, np.float32), cfg.k,
                            cfg.max_candidates, advance=adv, ridge=cfg.ridge_for(space))
        info["omp_seconds"] = round(time.perf_counter() - t0, 3)
        info["ridge"] = cfg.ridge_for(space)
        rows = est.apply_coefficients(E[al.anchor_old], idx, coef)
    elif m == "heuristic":
        if donor is not None:
            raise ConfigError("--method heuristic works in an auxiliary space (--aux), not with --donor; use --method omp with a donor")
        phi_old_all = phi_old_aux if phi_new_aux is not None else E
        with progress("TokenAdapt heuristic", B) as adv:
            rows = est.heuristic(E, pieces.flat, pieces.offsets, pieces.piece_chars, pieces.token_chars,
                                 phi_new, phi_old_all, tau=cfg.tau, w_global=cfg.w_global, top_k=cfg.top_k, threshold=cfg.threshold,
                                 allowed=allowed_old, advance=adv)
    elif m == "fvt":
        rows = est.fvt(E, pieces.flat, pieces.offsets)
    elif m == "mean":
        rows = est.mean_rows(E, B)
    elif m == "zero":
        rows = est.zero_rows(E, B)
    elif m == "random":
        rows = est.random_rows(E, B, cfg.seed)
    else:  # pragma: no cover - validated earlier
        raise ConfigError(f"unknown method {m}")
    space = info.get("space")
    factors = est.row_scales(al.new_ids, cfg.row_scale(), cfg.decay_for(space))
    if np.any(factors != 1.0):  # documented calibration (config.py: TransplantConfig.scale / rank_decay)
        rows = rows * factors.astype(np.float32)[:, None]
    info["scale"] = cfg.row_scale()
    info["rank_decay"] = cfg.decay_for(space)
    info["row_scale_mean"] = round(float(factors.mean()), 4)
    if prior is not None:  # documented deviation (config.py: TransplantConfig.calibrate)
        target = est.prior_targets(E, pieces.flat, pieces.offsets, prior, cfg.delta)
        rows = est.calibrate_prior(rows, target, prior)
        info["calibrate"] = {"mode": "prior", "delta": cfg.delta}
    if not np.isfinite(rows).all():  # never write garbage with exit 0
        raise ConfigError(f"{int((~np.isfinite(rows)).any(axis=1).sum())} estimated rows are not finite (inf/NaN); "
                          "the model's embeddings or the options (--scale, --ridge, --delta) are out of range")
    out[al.new_ids] = rows
    return out, info


def validate(cfg: TransplantConfig) -> None:
    if cfg.method not in METHODS:
        raise ConfigError(f"unknown --method '{cfg.method}'; choose one of {', '.join(METHODS)}")
    if cfg.aux not in AUX_SPACES:
        raise ConfigError(f"unknown --aux '{cfg.aux}'; choose one of {', '.join(AUX_SPACES)}")
    if cfg.k < 1:
        raise ConfigError(f"--k must be at least 1 (got {cfg.k})")
    if cfg.ridge is not None and not 0 <= cfg.ridge < math.inf:
        raise ConfigError(f"--ridge must be a finite number, 0 or more (got {cfg.ridge})")
    if cfg.calibrate not in CALIBRATIONS:
        raise ConfigError(f"unknown --calibrate '{cfg.calibrate}'; choose one of {', '.join(CALIBRATIONS)}")
    if not 0 <= cfg.delta < math.inf:
        raise ConfigError(f"--delta must be a finite number, 0 or more (got {cfg.delta})")
    if cfg.scale is not None and not 0 < cfg.scale < math.inf:
        raise ConfigError(f"--scale must be a finite number more than 0 (got {cfg.scale})")
    if cfg.rank_decay is not None and not 0 <= cfg.rank_decay < math.inf:
        raise ConfigError(f"--rank-decay must be a finite number, 0 or more (got {cfg.rank_decay})")


def transplant(model: str | Path, tokenizer: str | Path, out: str | Path, cfg: TransplantConfig = TransplantConfig(), *,
               donor: str | Path | None = None, old_tokenizer: str | None = None, force: bool = False,
               progress: Progress = no_progress) -> dict:
    """Move ``model`` onto ``tokenizer`` and write an HF model folder at ``out``. Returns the manifest.

    >>> transplant("SmolLM2.gguf", "llama3", "runs/smol-llama3", TransplantConfig(method="omp"))  # doctest: +SKIP
    """
    started = time.perf_counter()
    validate(cfg)
    out = check_output_dir(out, force)
    loaded = load_inputs(model, tokenizer, old_tokenizer, progress)
    prepared = prepare(loaded, cfg, donor, progress)
    replaced, facts = estimate(loaded, prepared, cfg, progress)
    return write(loaded, prepared, replaced, facts, cfg, out, force=force, started=started, progress=progress)


@dataclass
class Loaded:
    """The model and both tokenizers of a transplant."""

    model: str | Path
    tokenizer: str | Path | Tokenizer
    ckpt: Checkpoint
    old: Tokenizer
    new: Tokenizer
    #: the new tokenizer's tokenizer.json, copied beside the new weights
    new_json: Path


def load_inputs(model: str | Path, tokenizer: str | Path | Tokenizer, old_tokenizer: str | None = None,
                progress: Progress = no_progress) -> Loaded:
    """Step 1: the checkpoint, the tokenizer it was trained with, and the new tokenizer (which must be a
    tokenizer.json: transformers loads the output with it)."""
    with progress("loading model", None):
        ckpt = load_checkpoint(model)
    old = old_tokenizer_for(ckpt, old_tokenizer)
    new = tokenizer if isinstance(tokenizer, Tokenizer) else load_tokenizer(tokenizer)
    new_json = _tokenizer_json_path(new)
    if new_json is None:
        raise TokenizerError(
            f"the new tokenizer '{tokenizer}' is {new.format}, not a Hugging Face tokenizer.json; transformers needs one beside the model (convert it first)"
        )
    return Loaded(model, tokenizer, ckpt, old, new, new_json)


@dataclass
class Prepared:
    """Everything the estimators read besides the matrices themselves."""

    emb_name: str
    head_name: str | None
    #: (V_old, D) float32 input embeddings
    E_in: np.ndarray
    al: Alignment
    pieces: Pieces
    #: (V_old,) bool: old rows an estimate may draw on (not special tokens)
    allowed_old: np.ndarray
    donor_in: np.ndarray | None = None
    donor_head: np.ndarray | None = None
    donor_info: dict | None = None
    phi_new_aux: np.ndarray | None = None
    phi_old_aux: np.ndarray | None = None
    #: (D,) mean final hidden state for calibrate='prior'
    hbar: np.ndarray | None = None


def prepare(loaded: Loaded, cfg: TransplantConfig, donor: str | Path | None = None,
            progress: Progress = no_progress) -> Prepared:
    """Step 2: align the vocabularies, re-tokenize each new token with the old tokenizer, and build what
    the method needs (donor matrices, MiniLM spaces, the prior direction)."""
    ckpt, old, new = loaded.ckpt, loaded.old, loaded.new
    emb_name = ckpt.input_embedding_name()
    head_name = ckpt.output_head_name()
    E_in = ckpt.tensors[emb_name].matrix("input embedding matrix")
    old_rows = E_in.shape[0]
    al = align_vocabularies(old, new, old_roles=special_roles(old), new_roles=special_roles(new), old_rows=old_rows)
    if len(al.anchor_new) == 0:
        raise TokenizerError(f"the new tokenizer shares no token with the model's tokenizer ({old.name}); nothing can be anchored")
    if cfg.method == "omp" and cfg.k > len(al.anchor_new):
        raise ConfigError(f"--k {cfg.k} is larger than the {len(al.anchor_new)} shared anchor tokens; choose --k {len(al.anchor_new)} or less")

    new_bytes = new.token_bytes()
    with progress("re-tokenizing new tokens with the old tokenizer", None):
        pieces = old_pieces(old, [new_bytes[i] for i in al.new_ids], old_rows)
    allowed_old = np.ones(old_rows, dtype=bool)  # rows beyond the old vocabulary (padding) stay allowed
    for i, b in enumerate(old.token_bytes()[:old_rows]):
        allowed_old[i] = b is not None
    prep = Prepared(emb_name, head_name, E_in, al, pieces, allowed_old)

    if donor is not None:
        dck = load_checkpoint(donor)
        prep.donor_in = dck.tensors[dck.input_embedding_name()].matrix("donor's input embedding matrix")
        dh = dck.output_head_name()
        prep.donor_head = dck.tensors[dh].matrix("donor's output head") if dh else prep.donor_in
        if prep.donor_in.shape[0] < new.vocab_size:
            raise ConfigError(f"the donor has {prep.donor_in.shape[0]} rows but the new tokenizer has {new.vocab_size} ids; the donor must use the new tokenizer")
        prep.donor_info = {"path": str(donor), "kind": dck.source_kind}

    if cfg.method in ("omp", "heuristic") and donor is None and cfg.aux == "minilm":
        mini = MiniLM()
        old_text = [b.decode("utf-8", "replace") if b is not None else "" for b in old.token_bytes()[:old_rows]]
        new_text = [new_bytes[i].decode("utf-8", "replace") for i in al.new_ids]
        with progress("MiniLM: embedding old tokens", len(old_text)) as adv:
            prep.phi_old_aux = mini.embed(old_text, advance=adv)
        with progress("MiniLM: embedding new tokens", len(new_text)) as adv:
            prep.phi_new_aux = mini.embed(new_text, advance=adv)

    if cfg.calibrate == "prior" and al.new_ids.size:
        with progress(f"prior direction: mean final hidden state over {PRIOR_TEXT}", None):
            prep.hbar = mean_hidden_state(ckpt, old, head_name is None)
    return prep


def estimate(loaded: Loaded, prep: Prepared, cfg: TransplantConfig,
             progress: Progress = no_progress) -> tuple[dict[str, Tensor], dict]:
    """Step 3: the new input embeddings and (untied) output head; returns the replaced tensors and facts
    about the estimation for the manifest."""
    ckpt = loaded.ckpt
    common = dict(phi_new_aux=prep.phi_new_aux, phi_old_aux=prep.phi_old_aux, allowed_old=prep.allowed_old, progress=progress)
    replaced: dict[str, Tensor] = {}
    facts: dict = {}
    new_in, facts["input_embeddings"] = estimate_matrix(prep.E_in, prep.al, prep.pieces, cfg, donor=prep.donor_in,
                                                        prior=prep.hbar if prep.head_name is None else None, **common)
    replaced[prep.emb_name] = Tensor.from_float32(new_in, ckpt.tensors[prep.emb_name].dtype)
    if prep.head_name is not None:
        E_head = ckpt.tensors[prep.head_name].matrix("output head")
        new_head, facts["output_head"] = estimate_matrix(E_head, prep.al, prep.pieces, cfg, donor=prep.donor_head,
                                                         prior=prep.hbar, **common)
        replaced[prep.head_name] = Tensor.from_float32(new_head, ckpt.tensors[prep.head_name].dtype)
    elif "lm_head.weight" in ckpt.tensors:  # declared tied but stored: keep it equal to the new embeddings
        replaced["lm_head.weight"] = replaced[prep.emb_name]
    if prep.hbar is not None:
        facts["prior"] = {"text": PRIOR_TEXT, "max_bytes": PRIOR_BYTES, "hbar_norm": round(float(np.linalg.norm(prep.hbar)), 4)}
    return replaced, facts


def write(loaded: Loaded, prep: Prepared, replaced: dict[str, Tensor], facts: dict, cfg: TransplantConfig, out: Path, *,
          force: bool = False, started: float | None = None, progress: Progress = no_progress) -> dict:
    """Step 4: the HF model folder (weights, config with the new vocabulary size and special ids, the new
    tokenizer and its config, the manifest), written atomically. Returns the manifest."""
    started = time.perf_counter() if started is None else started
    ckpt, old, new, al = loaded.ckpt, loaded.old, loaded.new, prep.al
    config = dict(ckpt.config)
    config["vocab_size"] = int(new.vocab_size)
    config["tie_word_embeddings"] = prep.head_name is None
    role_ids = {role: nid for role, (nid, _) in al.roles.items()}
    for role, key in (("bos", "bos_token_id"), ("eos", "eos_token_id"), ("pad", "pad_token_id")):
        config[key] = role_ids.get(role)
    strings = new.token_strings()
    tok_config = {"tokenizer_class": "PreTrainedTokenizerFast", "clean_up_tokenization_spaces": False,
                  "model_max_length": int(config.get("max_position_embeddings") or 2048)}
    for role, nid in role_ids.items():
        tok_config[f"{role}_token"] = strings[nid]
    if ckpt.tokenizer_config.get("chat_template") and new.fingerprint() == old.fingerprint():
        tok_config["chat_template"] = ckpt.tokenizer_config["chat_template"]

    inputs = [{"role": "model", "path": str(loaded.model), "kind": ckpt.source_kind, **_hashes(Path(loaded.model))},
              {"role": "old_tokenizer", "name": old.name, "fingerprint": old.fingerprint()},
              {"role": "new_tokenizer", "name": new.name, "source": str(loaded.tokenizer), "fingerprint": new.fingerprint()}]
    if prep.donor_info:
        inputs.append({"role": "donor", **prep.donor_info, **_hashes(Path(prep.donor_info["path"]))})
    manifest = run_manifest(
        "transplant", {**asdict(cfg), "donor": prep.donor_info["path"] if prep.donor_info else None}, inputs, seed=cfg.seed,
        started=started,
        extra={"counts": al.counts(), "tied": prep.head_name is None, "input_embedding": prep.emb_name,
               "output_head": prep.head_name, "source_quantisation": ckpt.metadata.get("quantisation"), "estimation": facts,
               "roles": {r: {"new": n, "old": o} for r, (n, o) in al.roles.items()}},
    )
    with atomic_dir(out, force) as tmp:
        with progress("writing safetensors", len(ckpt.shards)) as adv:
            save_checkpoint(ckpt, tmp, replaced, config, advance=adv)
        shutil.copyfile(loaded.new_json, tmp / "tokenizer.json")
        write_json_atomic(tmp / "tokenizer_config.json", tok_config)
        write_json_atomic(tmp / "special_tokens_map.json", {f"{r}_token": strings[n] for r, n in role_ids.items()})
        gen = {"bos_token_id": config.get("bos_token_id"), "eos_token_id": config.get("eos_token_id"),
               "pad_token_id": config.get("pad_token_id")}
        write_json_atomic(tmp / "generation_config.json", {k: v for k, v in gen.items() if v is not None})
        manifest["wall_time_s"] = round(time.perf_counter() - started, 3)
        write_json_atomic(tmp / MANIFEST_NAME, manifest)
    return manifest


def mean_hidden_state(ckpt: Checkpoint, old: Tokenizer, tied: bool, text: str = PRIOR_TEXT,
                      max_bytes: int = PRIOR_BYTES, context: int = BitsPerByteConfig.context) -> np.ndarray:
    """(D,) float64 mean over ``text`` of the base model's final hidden state (after the final norm).

    The base model is written unchanged to a temporary HF folder and run once in transformers (needs the
    'model' extra; without torch this fails with one line naming the extra).
    """
    from tokbench.errors import require

    require("torch", extra="model")
    transformers = require("transformers", extra="model")
    import torch

    from tokbench.corpora import load_source
    from tokbench.transplant.evaluate import window_setup, windows

    texts = [t for t in load_source(text, max_bytes=max_bytes).texts if t]
    tmp = Path(tempfile.mkdtemp(prefix="tokbench-prior-"))
    try:
        config = dict(ckpt.config)
        config["tie_word_embeddings"] = tied
        save_checkpoint(ckpt, tmp, {}, config)
        transformers.utils.logging.disable_progress_bar()
        model = transformers.AutoModelForCausalLM.from_pretrained(str(tmp), dtype=torch.float32, use_safetensors=True,
                                                                  trust_remote_code=False).eval()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    enc = old.encode_batch(["\n".join(texts)], spans=False)
    bos, context = window_setup(model.config, context)
    acc = np.zeros(model.config.hidden_size)
    n = 0
    with torch.inference_mode():
        for w in windows([enc.doc(0).tolist()], bos, context):
            h = model.base_model(input_ids=torch.tensor([w])).last_hidden_state[0, 1:].double()
            acc += h.sum(0).numpy()
            n += h.shape[0]
    return acc / max(n, 1)


def export_hf(model: str | Path, out: str | Path, *, force: bool = False, progress: Progress = no_progress) -> dict:
    """Write ``model`` (e.g. a GGUF file) as an HF folder with its own tokenizer: every row is copied."""
    ckpt = load_checkpoint(model)
    old = old_tokenizer_for(ckpt)
    del ckpt
    return transplant(model, old, out, TransplantConfig(method="mean"), force=force, progress=progress)


def compare_bits_per_byte(original: str | Path, transplanted: dict[str, str | Path], texts: Sequence[str], *,
                          context: int = BitsPerByteConfig.context, progress: Progress = no_progress) -> dict[str, "BitsPerByte"]:
    """Bits per byte on the same ``texts`` of the original model and of each transplanted folder:
    ``{"original": ..., label: ...}`` in that order. An original given as a GGUF file is measured through a
    temporary HF export of it (removed afterwards). Needs the 'model' extra."""
    from tokbench.transplant.evaluate import evaluate_dir

    out = {}
    with tempfile.TemporaryDirectory(prefix="tokbench-orig-") as tmp:
        folder = Path(original)
        if folder.is_file():
            folder = Path(tmp) / "original"
            export_hf(original, folder, progress=progress)
        for label, path in {"original": folder, **transplanted}.items():
            with progress(f"bits per byte: {label}", None) as advance:
                out[label] = evaluate_dir(path, texts, context=context, advance=advance)
    return out


def _hashes(path: Path) -> dict:
    """sha256 of a model file, or of each weight/config file of a folder."""
    if path.is_file():
        return {"sha256": sha256_file(path)}
    files = sorted(p for p in path.iterdir() if p.suffix in (".safetensors", ".json") and p.is_file())
    return {"sha256": {p.name: sha256_file(p) for p in files}}
