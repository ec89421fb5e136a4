"""PyTorch reference of the LLM architectures aigc runs (llama, qwen2, qwen3),
written over GGUF tensor names and layouts, and a writer of small random
models with their expected outputs.

The math follows the GGUF layout, not Hugging Face's: llama-family Q/K weights
in GGUF are permuted by the converters so that RoPE rotates adjacent pairs
("normal" mode); qwen2/qwen3 keep Hugging Face's halves ("NeoX" mode). All in
float64 so the reference is exact to far below the tests' tolerances.

usage: /usr/bin/python3 tools/reference/llm_ref.py OUT_DIR
writes OUT_DIR/<arch>.gguf and OUT_DIR/<arch>.json (prompt ids, logits of every
prompt position, a greedy continuation, a perplexity case).
       /usr/bin/python3 tools/reference/llm_ref.py OUT_DIR --tinyllama FILE
writes only OUT_DIR/FILE, a random F16 model of TinyLlama-1.1B's shape for the
speed measurements (scripts/make_bench_models.sh), streamed tensor by tensor.
"""
import argparse
import json
import math
import os

import numpy as np
import torch

from gguf_writer import FLOAT32, INT32, STRING, TENSOR_TYPES, GGUFWriter, _string

ROPE_NORMAL, ROPE_NEOX = "normal", "neox"


class Config:
    def __init__(self, arch, n_vocab=300, n_embd=64, n_layer=2, n_head=4, n_head_kv=2, n_ff=96,
                 head_dim=None, rope_base=10000.0, rope_scale=1.0, eps=1e-5, tied=False, n_ctx=128,
                 rope_freq_factors=None, n_rot=None):
        self.arch, self.n_vocab, self.n_embd, self.n_layer = arch, n_vocab, n_embd, n_layer
        self.n_head, self.n_head_kv, self.n_ff = n_head, n_head_kv, n_ff
        self.head_dim = head_dim or n_embd // n_head
        self.n_rot = n_rot or self.head_dim  # rotated dims per head; the rest pass through
        self.rope_base, self.rope_scale, self.eps, self.tied, self.n_ctx = rope_base, rope_scale, eps, tied, n_ctx
        self.rope_mode = ROPE_NORMAL if arch == "llama" else ROPE_NEOX
        self.rope_freq_factors = rope_freq_factors  # llama3-style per-dimension divisors of the frequency


def rms_norm(x, w, eps):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * w


def rope(x, positions, cfg):
    """x: [T, H, head_dim]; rotates the first D = n_rot dims by position * base^(-2i/D) * scale / factor_i."""
    if cfg.n_rot < x.shape[-1]:
        return torch.cat([rope(x[..., :cfg.n_rot], positions, cfg), x[..., cfg.n_rot:]], dim=-1)
    T, H, D = x.shape
    i = torch.arange(D // 2, dtype=torch.float64)
    inv_freq = cfg.rope_base ** (-2.0 * i / D)
    if cfg.rope_freq_factors is not None:
        inv_freq = inv_freq / torch.tensor(cfg.rope_freq_factors, dtype=torch.float64)
    angle = positions.double()[:, None] * cfg.rope_scale * inv_freq[None, :]  # [T, D/2]
    cos, sin = torch.cos(angle)[:, None, :], torch.sin(angle)[:, None, :]
    if cfg.rope_mode == ROPE_NORMAL:
        a, b = x[..., 0::2], x[..., 1::2]
        out = torch.empty_like(x)
        out[..., 0::2] = a * cos - b * sin
        out[..., 1::2] = a * sin + b * cos
        return out
    a, b = x[..., : D // 2], x[..., D // 2:]
    return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)


def forward(cfg, W, tokens, act=lambda a: a):
    """Logits [T, n_vocab] of every position of `tokens` (one sequence from position 0).
    `act` is applied to every matrix product's input (row by row): the identity,
    or the rounding the C++ dot-product path does (quantized_llm_ref.py)."""
    T = len(tokens)
    pos = torch.arange(T)
    x = W["token_embd.weight"][torch.tensor(tokens)]
    hd, H, Hkv = cfg.head_dim, cfg.n_head, cfg.n_head_kv
    mask = torch.full((T, T), float("-inf"), dtype=torch.float64).triu(1)
    for il in range(cfg.n_layer):
        p = f"blk.{il}."
        h = act(rms_norm(x, W[p + "attn_norm.weight"], cfg.eps))
        q = h @ W[p + "attn_q.weight"].T
        k = h @ W[p + "attn_k.weight"].T
        v = h @ W[p + "attn_v.weight"].T
        if cfg.arch == "qwen2":
            q, k, v = q + W[p + "attn_q.bias"], k + W[p + "attn_k.bias"], v + W[p + "attn_v.bias"]
        q, k, v = q.view(T, H, hd), k.view(T, Hkv, hd), v.view(T, Hkv, hd)
        if cfg.arch == "qwen3":
            q = rms_norm(q, W[p + "attn_q_norm.weight"], cfg.eps)
            k = rms_norm(k, W[p + "attn_k_norm.weight"], cfg.eps)
        q, k = rope(q, pos, cfg), rope(k, pos, cfg)
        k = k.repeat_interleave(H // Hkv, dim=1)
        v = v.repeat_interleave(H // Hkv, dim=1)
        att = torch.einsum("thd,shd->hts", q, k) / math.sqrt(hd) + mask
        att = torch.softmax(att, dim=-1)
        o = torch.einsum("hts,shd->thd", att, v).reshape(T, H * hd)
        x = x + act(o) @ W[p + "attn_output.weight"].T
        h = act(rms_norm(x, W[p + "ffn_norm.weight"], cfg.eps))
        # self.w2(F.silu(self.w1(x)) * self.w3(x))
        f = torch.nn.functional.silu(h @ W[p + "ffn_gate.weight"].T) * (h @ W[p + "ffn_up.weight"].T)
        x = x + act(f) @ W[p + "ffn_down.weight"].T
    x = act(rms_norm(x, W["output_norm.weight"], cfg.eps))
    out = W["token_embd.weight"] if cfg.tied else W["output.weight"]
    return x @ out.T


def tensor_specs(cfg):
    """(name, shape) of every weight, in file order."""
    d, hd = cfg.n_embd, cfg.head_dim
    specs = [("token_embd.weight", (cfg.n_vocab, d))]
    for il in range(cfg.n_layer):
        p = f"blk.{il}."
        specs += [(p + "attn_norm.weight", (d,)), (p + "attn_q.weight", (cfg.n_head * hd, d)),
                  (p + "attn_k.weight", (cfg.n_head_kv * hd, d)), (p + "attn_v.weight", (cfg.n_head_kv * hd, d))]
        if cfg.arch == "qwen2":
            specs += [(p + f"attn_{n}.bias", (rows * hd,))
                      for n, rows in (("q", cfg.n_head), ("k", cfg.n_head_kv), ("v", cfg.n_head_kv))]
        if cfg.arch == "qwen3":
            specs += [(p + "attn_q_norm.weight", (hd,)), (p + "attn_k_norm.weight", (hd,))]
        specs += [(p + "attn_output.weight", (d, cfg.n_head * hd)), (p + "ffn_norm.weight", (d,)),
                  (p + "ffn_gate.weight", (cfg.n_ff, d)), (p + "ffn_up.weight", (cfg.n_ff, d)),
                  (p + "ffn_down.weight", (d, cfg.n_ff))]
    specs.append(("output_norm.weight", (d,)))
    if not cfg.tied:
        specs.append(("output.weight", (cfg.n_vocab, d)))
    return specs


def random_tensor(name, shape, rng):
    """Matrices ~ N(0, 1/cols), biases ~ N(0, 0.01), norm weights ~ 1 + N(0, 0.01)."""
    if len(shape) == 2:
        return rng.standard_normal(shape).astype(np.float32) / np.float32(math.sqrt(shape[1]))
    if name.endswith(".bias"):
        return (0.1 * rng.standard_normal(shape)).astype(np.float32)
    return (1.0 + 0.1 * rng.standard_normal(shape)).astype(np.float32)


def random_weights(cfg, rng):
    W = {name: random_tensor(name, shape, rng) for name, shape in tensor_specs(cfg)}
    if cfg.rope_freq_factors is not None:
        W["rope_freqs.weight"] = np.array(cfg.rope_freq_factors, dtype=np.float32)
        cfg.rope_freq_factors = W["rope_freqs.weight"].astype(np.float64)  # the reference uses what the file holds
    return W


def metadata_writer(cfg):
    """A GGUFWriter holding the model's metadata and a byte-level vocabulary, no tensors yet."""
    a = cfg.arch
    w = GGUFWriter()
    w.add_string("general.architecture", a)
    w.add_string("general.name", f"aigc reference {a} (random)")
    w.add_uint32(f"{a}.context_length", cfg.n_ctx)
    w.add_uint32(f"{a}.embedding_length", cfg.n_embd)
    w.add_uint32(f"{a}.block_count", cfg.n_layer)
    w.add_uint32(f"{a}.feed_forward_length", cfg.n_ff)
    w.add_uint32(f"{a}.attention.head_count", cfg.n_head)
    w.add_uint32(f"{a}.attention.head_count_kv", cfg.n_head_kv)
    if cfg.head_dim != cfg.n_embd // cfg.n_head:
        w.add_uint32(f"{a}.attention.key_length", cfg.head_dim)
        w.add_uint32(f"{a}.attention.value_length", cfg.head_dim)
    w.add_uint32(f"{a}.rope.dimension_count", cfg.n_rot)
    w.add_float32(f"{a}.rope.freq_base", cfg.rope_base)
    if cfg.rope_scale != 1.0:
        w.add_string(f"{a}.rope.scaling.type", "linear")
        w.add_float32(f"{a}.rope.scaling.factor", 1.0 / cfg.rope_scale)
    w.add_float32(f"{a}.attention.layer_norm_rms_epsilon", cfg.eps)
    # a byte-level vocabulary: 256 byte symbols, then filler tokens, bos/eos last
    tokens = [f"<0x{b:02X}>" for b in range(256)] + [f"tok{i}" for i in range(cfg.n_vocab - 258)] + ["<s>", "</s>"]
    w.add_string("tokenizer.ggml.model", "llama")
    w.add_array("tokenizer.ggml.tokens", STRING, tokens)
    w.add_array("tokenizer.ggml.scores", FLOAT32, [0.0] * len(tokens))
    w.add_array("tokenizer.ggml.token_type", INT32, [6] * 256 + [1] * (cfg.n_vocab - 258) + [3, 3])
    w.add_uint32("tokenizer.ggml.bos_token_id", cfg.n_vocab - 2)
    w.add_uint32("tokenizer.ggml.eos_token_id", cfg.n_vocab - 1)
    return w


def write_gguf(cfg, W, path):
    w = metadata_writer(cfg)
    for name, arr in W.items():
        w.add_array_tensor(name, arr)
    w.write(path)


def write_random_gguf_streamed(cfg, path, rng, matrix_type="F16"):
    """A random model of any size written tensor by tensor (matrices as F16 or F32,
    1-D tensors as F32): only one tensor is in memory at a time."""
    import struct
    w = metadata_writer(cfg)
    specs = [(name, shape, matrix_type if len(shape) == 2 else "F32") for name, shape in tensor_specs(cfg)]
    header = b"GGUF" + struct.pack("<IQQ", 3, len(specs), len(w.kv))
    for key, vtype, value, elem_type in w.kv:
        header += _string(key) + struct.pack("<I", vtype) + w._value(vtype, value, elem_type)
    offset, sizes = 0, []
    for name, shape, type_name in specs:
        nbytes = int(np.prod(shape)) * (2 if type_name == "F16" else 4)
        header += _string(name) + struct.pack("<I", len(shape))
        header += b"".join(struct.pack("<Q", d) for d in reversed(shape))
        header += struct.pack("<IQ", TENSOR_TYPES[type_name][0], offset)
        offset += (nbytes + w.alignment - 1) // w.alignment * w.alignment
        sizes.append(nbytes)
    with open(path, "wb") as f:
        f.write(header + b"\0" * ((-len(header)) % w.alignment))
        for (name, shape, type_name), nbytes in zip(specs, sizes):
            arr = random_tensor(name, shape, rng)
            f.write(arr.astype(np.float16 if type_name == "F16" else np.float32).tobytes())
            f.write(b"\0" * ((-nbytes) % w.alignment))


# TinyLlama-1.1B's shape (the speed measurements' model; its weights are random)
TINYLLAMA = dict(arch="llama", n_vocab=32000, n_embd=2048, n_layer=22, n_head=32, n_head_kv=4, n_ff=5632,
                 n_ctx=2048, eps=1e-5)


def perplexity(cfg, W, tokens, n_ctx, bos, act=lambda a: a):
    """The common tools' definition: windows of n_ctx tokens, first token of each replaced by
    BOS, score tokens n_ctx/2+1 .. n_ctx-1 from the logits before them."""
    nll, count = 0.0, 0
    for w0 in range(0, len(tokens) // n_ctx * n_ctx, n_ctx):
        window = list(tokens[w0:w0 + n_ctx])
        if bos is not None:
            window[0] = bos
        logp = torch.log_softmax(forward(cfg, W, window, act), dim=-1)
        for j in range(n_ctx // 2, n_ctx - 1):
            nll -= float(logp[j, window[j + 1]])
            count += 1
    return math.exp(nll / count)


CASES = {
    "llama": dict(arch="llama", tied=False),
    "llama-tied-scaled": dict(arch="llama", tied=True, rope_scale=0.5, rope_base=500000.0),
    "qwen2": dict(arch="qwen2", tied=True, rope_base=1000000.0, eps=1e-6),
    "qwen3": dict(arch="qwen3", head_dim=32, n_head=4, n_head_kv=2, eps=1e-6, tied=False),
    # llama3-style scaling: per-pair frequency divisors in rope_freqs.weight
    "llama3-freqs": dict(arch="llama", rope_base=500000.0, rope_freq_factors=[1.0, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0]),
    # partial rotation: only the first half of each head turns
    "llama-partial-rot": dict(arch="llama", n_rot=8),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--tinyllama", metavar="FILE",
                    help="instead: write only a random F16 model of TinyLlama-1.1B's shape to OUT_DIR/FILE")
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    if args.tinyllama:
        write_random_gguf_streamed(Config(**TINYLLAMA), os.path.join(args.out_dir, args.tinyllama),
                                   np.random.default_rng(args.seed))
        return
    for case_index, (name, kw) in enumerate(CASES.items()):
        cfg = Config(**kw)
        rng = np.random.default_rng(args.seed + case_index)
        W32 = random_weights(cfg, rng)
        write_gguf(cfg, W32, os.path.join(args.out_dir, name + ".gguf"))
        W = {k: torch.from_numpy(v.astype(np.float64)) for k, v in W32.items()}
        prompt = [int(t) for t in rng.integers(0, cfg.n_vocab - 2, size=12)]
        logits = forward(cfg, W, prompt)
        greedy = list(prompt)
        for _ in range(16):
            greedy.append(int(torch.argmax(forward(cfg, W, greedy)[-1])))
        ppl_tokens = [int(t) for t in rng.integers(0, cfg.n_vocab - 2, size=70)]
        expected = {
            "arch": cfg.arch, "prompt": prompt, "logits": logits.tolist(),
            "greedy": greedy[len(prompt):],
            "perplexity": {"tokens": ppl_tokens, "n_ctx": 32, "bos": cfg.n_vocab - 2,
                           "value": perplexity(cfg, W, ppl_tokens, 32, cfg.n_vocab - 2)},
        }
        with open(os.path.join(args.out_dir, name + ".json"), "w") as f:
            json.dump(expected, f)
        print(f"{name}: wrote {name}.gguf and {name}.json (ppl {expected['perplexity']['value']:.4f})")


if __name__ == "__main__":
    main()
