"""Read a GGUF model (llama.cpp's format) into a :class:`Checkpoint` with Hugging Face tensor names.

Tensors are dequantised to float32 with the ``gguf`` package (no torch). A quantised file gives back the
quantised weights, not the original ones: a Q4_1 model stays a Q4_1-quality model in float32.
llama.cpp stores the query/key projections of Llama-architecture models with the rotary halves
interleaved; they are permuted back so that ``transformers`` computes the same attention.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from tokbench.errors import CorruptFileError, UnknownFormatError
from tokbench.transplant.checkpoint import Checkpoint, Tensor

#: Quantisation types the ``gguf`` package can dequantise and tokbench has checked.
SUPPORTED_QUANTS = {"F32", "F16", "BF16", "F64", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"}
#: Architectures whose tensor names and config tokbench maps to transformers' Llama classes.
SUPPORTED_ARCHS = {"llama"}

_LAYER = {
    "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm",
    "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj",
}
_GLOBAL = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight", "output.weight": "lm_head.weight"}

# Pre-tokenizers of GPT-2-style GGUF vocabularies, keyed by tokenizer.ggml.pre (as llama.cpp names them).
_GPT2_SPLIT = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
_LLAMA3_SPLIT = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"


def _field(reader, key, default=None):
    f = reader.fields.get(key)
    if f is None:
        return default
    return f.contents()


def unpermute_rope(w: np.ndarray, n_head: int) -> np.ndarray:
    """Undo llama.cpp's q/k row permutation: (n_head*2*h, D) rows (head, half, i) <- (head, i, half).

    >>> w = np.arange(8.0).reshape(8, 1)
    >>> unpermute_rope(w, 1).ravel().tolist()
    [0.0, 2.0, 4.0, 6.0, 1.0, 3.0, 5.0, 7.0]
    """
    half = w.shape[0] // n_head // 2
    return w.reshape(n_head, half, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def load_gguf(path: Path, advance=None) -> Checkpoint:
    """Dequantise a GGUF Llama-architecture model into float32 tensors with HF names and an HF config."""
    import gguf

    try:
        reader = gguf.GGUFReader(str(path))
    except Exception as exc:
        raise CorruptFileError(f"{path}: not a readable GGUF file ({str(exc)[:150]}); is it complete?") from None
    arch = _field(reader, "general.architecture")
    if arch not in SUPPORTED_ARCHS:
        raise UnknownFormatError(f"{path}: GGUF architecture '{arch}' is not supported (supported: {', '.join(sorted(SUPPORTED_ARCHS))}); convert it to a Hugging Face folder first")
    for t in reader.tensors:
        qname = t.tensor_type.name
        if qname not in SUPPORTED_QUANTS:
            raise UnknownFormatError(
                f"{path}: tensor {t.name} uses quantisation {qname}, which tokbench cannot dequantise "
                f"(supported: {', '.join(sorted(SUPPORTED_QUANTS))}); use a Q8_0/Q4_K/F16 file instead"
            )
    a = arch
    for key in ("attention.head_count", "embedding_length", "block_count", "feed_forward_length"):
        if _field(reader, f"{a}.{key}") is None:
            raise CorruptFileError(f"{path}: GGUF metadata lacks {a}.{key}; is it a complete model file?")
    n_head = int(_field(reader, f"{a}.attention.head_count"))
    n_kv = int(_field(reader, f"{a}.attention.head_count_kv", n_head))
    tensors: dict[str, Tensor] = {}
    for t in reader.tensors:
        name = _hf_name(t.name)
        if name is None:
            continue
        vals = np.asarray(gguf.quants.dequantize(t.data, t.tensor_type), dtype=np.float32)
        shape = tuple(int(x) for x in reversed(t.shape.tolist()))
        vals = vals.reshape(shape)
        if name.endswith("q_proj.weight"):
            vals = unpermute_rope(vals, n_head)
        elif name.endswith("k_proj.weight"):
            vals = unpermute_rope(vals, n_kv)
        tensors[name] = Tensor("F32", shape, np.ascontiguousarray(vals))
        if advance:
            advance(1)
    if "model.embed_tokens.weight" not in tensors:
        raise CorruptFileError(f"{path}: the GGUF file has no token_embd.weight (input embeddings); is it a complete model?")
    vocab = tensors["model.embed_tokens.weight"].shape[0]
    hidden = int(_field(reader, f"{a}.embedding_length"))
    ids = {k: _field(reader, f"tokenizer.ggml.{k}_token_id") for k in ("bos", "eos", "padding", "unknown")}
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": hidden,
        "intermediate_size": int(_field(reader, f"{a}.feed_forward_length")),
        "num_hidden_layers": int(_field(reader, f"{a}.block_count")),
        "num_attention_heads": n_head,
        "num_key_value_heads": n_kv,
        "head_dim": int(_field(reader, f"{a}.rope.dimension_count", hidden // n_head)),
        "max_position_embeddings": int(_field(reader, f"{a}.context_length", 2048)),
        "rms_norm_eps": float(_field(reader, f"{a}.attention.layer_norm_rms_epsilon", 1e-5)),
        "rope_theta": float(_field(reader, f"{a}.rope.freq_base", 10000.0)),
        "hidden_act": "silu",
        "attention_bias": False,
        "mlp_bias": False,
        "vocab_size": vocab,
        "tie_word_embeddings": "lm_head.weight" not in tensors,
        "bos_token_id": None if ids["bos"] is None else int(ids["bos"]),
        "eos_token_id": None if ids["eos"] is None else int(ids["eos"]),
        "pad_token_id": None if ids["padding"] is None else int(ids["padding"]),
        "torch_dtype": "float32",
    }
    ckpt = Checkpoint(config, tensors, {"model.safetensors": list(tensors)}, Path(path), "gguf",
                      {"source": "gguf", "quantisation": ",".join(sorted({t.tensor_type.name for t in reader.tensors}))})
    ckpt.tokenizer_json = gguf_tokenizer_json(reader, path)
    ckpt.tokenizer_config = {k: v for k, v in {
        "bos_token": _tok_str(reader, ids["bos"]), "eos_token": _tok_str(reader, ids["eos"]),
        "pad_token": _tok_str(reader, ids["padding"]), "unk_token": _tok_str(reader, ids["unknown"]),
        "chat_template": _field(reader, "tokenizer.chat_template"),
    }.items() if v is not None}
    return ckpt


def _tok_str(reader, i):
    if i is None:
        return None
    return _field(reader, "tokenizer.ggml.tokens")[int(i)]


def _hf_name(gguf_name: str) -> str | None:
    if gguf_name in _GLOBAL:
        return _GLOBAL[gguf_name]
    m = re.fullmatch(r"blk\.(\d+)\.(\w+)\.weight", gguf_name)
    if m and m.group(2) in _LAYER:
        return f"model.layers.{m.group(1)}.{_LAYER[m.group(2)]}.weight"
    return None  # e.g. rope_freqs: recomputed by transformers


def gguf_tokenizer_json(reader, path) -> dict | None:
    """A Hugging Face tokenizer.json for a GPT-2-style (byte-level BPE) GGUF vocabulary; None for others."""
    model = _field(reader, "tokenizer.ggml.model")
    if model != "gpt2":
        return None
    tokens = list(_field(reader, "tokenizer.ggml.tokens"))
    merges = list(_field(reader, "tokenizer.ggml.merges") or [])
    types = list(_field(reader, "tokenizer.ggml.token_type") or [1] * len(tokens))
    pre = _field(reader, "tokenizer.ggml.pre", "default")
    if pre == "smollm":
        # SmolLM's own tokenizer.json: every digit alone, then GPT-2's byte-level regex.
        pretok = {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]}
    else:
        split = _LLAMA3_SPLIT if pre in ("llama-bpe", "llama3", "llama-v3", "smaug-bpe") else _GPT2_SPLIT
        pretok = {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": split}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}
    # token_type 3 = control (special), 4 = user-defined (added, not special).
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
              "special": types[i] == 3} for i, t in enumerate(tokens) if types[i] in (3, 4)]
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
        "pre_tokenizer": pretok,
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": {t: i for i, t in enumerate(tokens)}, "merges": [m.split(" ", 1) for m in merges]},
    }
