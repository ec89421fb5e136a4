"""Quantized versions of the small reference LLMs (Q8_0, Q4_K) and their
expected outputs, for src/text/llm/llm_quant_test.cpp.

For each case it writes, into OUT_DIR:
  <case>.f32.gguf  the model with F32 weights (the input `aigc quantize` is checked on)
  <case>.gguf      the same model with every matrix quantized by quants.py (bit-exact
                   with llama.cpp's reference quantizers); norms stay F32
  <case>.json      expected outputs of llm_ref.forward run on the DEQUANTIZED weights
                   (float64), so that weight quantization is not an error source:
    logits             every prompt position, exact math on the dequantized weights
    logits_f32         the same prompt on the original F32 weights
    weight_quant_rel_err   max|logits - logits_f32| / max|logits_f32|: what the
                       weight quantization itself costs
    logits_act_quant   the reference run with every matrix product's input rounded
                       as the C++ dot-product path rounds it (see act_quant_rel_err)
    act_quant_rel_err  the same measure between `logits` and the reference run with
                       every matrix product's input rounded as the C++ dot-product
                       path rounds it (Q8_0 blocks of 32 for Q8_0 weights, Q8_K
                       blocks of 256 for Q4_K): the size of the error the C++
                       decode path is expected to show
    logits_gemm_q8, gemm_q8_rel_err  the same with the inputs rounded as the C++
                       integer GEMM (kernels/gemm_q8, AVX-512 prompts) rounds them:
                       per 32, d = amax / 127 in float32, q = rint(x * (1 / d))
    greedy, greedy_margins  16 greedy tokens after the prompt and, at each step, the
                       gap between the best and second-best logit
    perplexity         as llm_ref.py, plus value_act_quant and value_gemm_q8 (the
                       two rounded-input runs)

usage: /usr/bin/python3 tools/reference/quantized_llm_ref.py OUT_DIR
"""
import argparse
import json
import os

import numpy as np
import torch

import llm_ref
import quants
from gguf_writer import GGUFWriter

F32 = np.float32

# prompts of 80 tokens: at least 64 (matmul_gemm_min_tokens for quantized
# weights), so one batch of the prompt runs the GEMM path and token by token
# runs the dot-product path
N_PROMPT = 80
N_GREEDY = 16

CASES = {
    "llama-q8_0": (dict(arch="llama"), "Q8_0"),
    # Q4_K rows are 256 long: every matrix's input width is a multiple of 256
    "llama-q4_k": (dict(arch="llama", n_embd=256, n_ff=512, n_head=4, n_head_kv=2), "Q4_K"),
    "qwen2-q4_k": (dict(arch="qwen2", n_embd=256, n_ff=256, n_head=2, n_head_kv=1, tied=True,
                        rope_base=1000000.0, eps=1e-6, n_layer=1), "Q4_K"),
}
FILE_TYPE = {"Q8_0": 7, "Q4_K": 14}  # llama.cpp's general.file_type, as `aigc quantize` writes it


# ---------------------------------------------------------------- Q4_K, vectorized over blocks

def qkx2_search_rows(x, weights, nmax, rmin, rdelta, nstep):
    """quants.qkx2_search (squared error) on every row of x [n, 32] at once. The
    operations on each row are those of the scalar version, in its order and in
    float32, so the results are bit-identical."""
    n, m = x.shape
    lo, hi = x.min(axis=1), x.max(axis=1)
    sum_w = weights[:, 0].copy()
    sum_x = sum_w * x[:, 0]
    for i in range(1, m):
        sum_w = sum_w + weights[:, i]
        sum_x = sum_x + weights[:, i] * x[:, i]
    lo = np.where(lo > 0, F32(0), lo)
    flat = hi == lo

    def span():  # max - min, with min as updated by the search so far (as in the scalar version)
        return np.where(flat, F32(1), hi - lo)

    def error(scale, mn, L):
        err = np.zeros(n, dtype=F32)
        for i in range(m):
            diff = scale * L[:, i].astype(F32) + mn - x[:, i]
            err = err + weights[:, i] * (diff * diff)
        return err

    def levels(iscale):
        return np.clip(np.rint(iscale[:, None] * (x - lo[:, None])), 0, nmax).astype(np.int32)

    iscale = F32(nmax) / span()
    scale = F32(1) / iscale
    L = levels(iscale)
    best = error(scale, lo, L)
    for k in range(nstep + 1):
        iscale = (F32(rmin) + F32(rdelta) * F32(k) + F32(nmax)) / span()
        trial = levels(iscale)
        sum_l, sum_l2, sum_xl = (np.zeros(n, dtype=F32) for _ in range(3))
        for i in range(m):
            w, l = weights[:, i], trial[:, i].astype(F32)
            sum_l = sum_l + w * l
            sum_l2 = sum_l2 + w * l * l
            sum_xl = sum_xl + w * l * x[:, i]
        det = sum_w * sum_l2 - sum_l * sum_l
        with np.errstate(divide="ignore", invalid="ignore"):
            this_scale = (sum_w * sum_xl - sum_x * sum_l) / det
            this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det
            clamp = this_min > 0
            this_scale = np.where(clamp, sum_xl / sum_l2, this_scale)
        this_min = np.where(clamp, F32(0), this_min)
        err = error(this_scale, this_min, trial)
        better = (det > 0) & (err < best)
        L = np.where(better[:, None], trial, L)
        best = np.where(better, err, best)
        scale = np.where(better, this_scale, scale)
        lo = np.where(better, this_min, lo)
    scale = np.where(flat, F32(0), scale)
    L = np.where(flat[:, None], 0, L)
    return scale.astype(F32), (-lo).astype(F32), L


def quantize_q4_k(x):
    """quants.quant_q4_k on every 256 values of x, vectorized; returns the blocks' bytes."""
    xb = np.asarray(x, dtype=F32).reshape(-1, 256)
    nb = xb.shape[0]
    g = xb.reshape(nb * 8, 32)
    sum_x2 = np.zeros(nb * 8, dtype=F32)
    for i in range(32):
        sum_x2 = sum_x2 + g[:, i] * g[:, i]
    av_x = np.sqrt(sum_x2 / F32(32))
    s, mn, L = qkx2_search_rows(g, av_x[:, None] + np.abs(g), 15, -1.0, 0.1, 20)
    s, mn, L = s.reshape(nb, 8), mn.reshape(nb, 8), L.reshape(nb, 256)
    max_scale = np.maximum(s.max(axis=1), F32(0))
    max_min = np.maximum(mn.max(axis=1), F32(0))
    with np.errstate(divide="ignore"):
        inv_scale = np.where(max_scale > 0, F32(63) / max_scale, F32(0))
        inv_min = np.where(max_min > 0, F32(63) / max_min, F32(0))
    ls = np.minimum(63, np.rint(inv_scale[:, None] * s).astype(np.int64) & 0xFF)
    lm = np.minimum(63, np.rint(inv_min[:, None] * mn).astype(np.int64) & 0xFF)
    d_bits = (max_scale / F32(63)).astype(np.float16)
    dmin_bits = (max_min / F32(63)).astype(np.float16)
    d, dmin = d_bits.astype(F32), dmin_bits.astype(F32)
    dl = np.repeat(d[:, None] * ls.astype(F32), 32, axis=1)
    ml = np.repeat(dmin[:, None] * lm.astype(F32), 32, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        final = np.clip(np.rint((xb + ml) / dl), 0, 15).astype(np.int32)
    L = np.where(dl == 0, L, final)
    packed = np.zeros((nb, 12), dtype=np.int64)
    for j in range(8):
        if j < 4:
            packed[:, j] = ls[:, j]
            packed[:, j + 4] = lm[:, j]
        else:
            packed[:, j + 4] = (ls[:, j] & 0xF) | ((lm[:, j] & 0xF) << 4)
            packed[:, j - 4] |= (ls[:, j] >> 4) << 6
            packed[:, j] |= (lm[:, j] >> 4) << 6
    qs = np.concatenate([L[:, 64 * c: 64 * c + 32] | (L[:, 64 * c + 32: 64 * c + 64] << 4) for c in range(4)], axis=1)
    out = np.zeros(nb, dtype=quants.DTYPES["q4_k"])
    out["d"], out["dmin"] = d_bits.view(np.uint16), dmin_bits.view(np.uint16)
    out["scales"], out["qs"] = packed.astype(np.uint8), qs.astype(np.uint8)
    return out.tobytes()


def quantize(type_name, arr):
    flat = np.ascontiguousarray(arr, dtype=F32).reshape(-1)
    if type_name == "Q4_K":
        return quantize_q4_k(flat)
    return quants.quantize(type_name.lower(), flat)


def self_check(rng):
    """The vectorized Q4_K against quants.py's scalar one, on random and awkward blocks."""
    x = rng.standard_normal(256 * 6).astype(F32)
    x[256:512] = np.abs(x[256:512])          # all positive: the min clamps to 0
    x[512:768] = 0.25                         # flat block
    x[768:1024] *= F32(1e-3)
    x[1024:1280] = np.round(x[1024:1280] * 4) / 4  # many ties
    assert quantize_q4_k(x) == quants.quantize("q4_k", x), "vectorized Q4_K differs from quants.py"


# ---------------------------------------------------------------- activation rounding

def round_q8_0(a):
    """Rows of a (float64 tensor) rounded as quantize_row_q8_0 does: per 32, d = amax/127
    in float32, q = roundf(x/d), value q * fp16(d)."""
    x = a.numpy().astype(F32).reshape(-1, 32)
    amax = np.abs(x).max(axis=1)
    d = amax / F32(127)
    with np.errstate(divide="ignore"):
        inv = np.where(d != 0, F32(1) / d, F32(0))
    v = x * inv[:, None]
    q = np.sign(v) * np.floor(np.abs(v).astype(np.float64) + 0.5)
    out = q * d.astype(np.float16).astype(np.float64)[:, None]
    return torch.from_numpy(out.reshape(a.shape))


def round_q8_k(a):
    """Rows of a rounded as quantize_row_q8_k does: per 256, iscale = -127/x_absmax,
    q = min(127, nearest(iscale * x)), value q / iscale (float32)."""
    x = a.numpy().astype(F32).reshape(-1, 256)
    idx = np.abs(x).argmax(axis=1)
    mx = x[np.arange(x.shape[0]), idx]
    with np.errstate(divide="ignore"):
        iscale = np.where(mx != 0, F32(-127) / mx, F32(0))
    q = np.minimum(127, np.rint(iscale[:, None] * x))
    with np.errstate(divide="ignore"):
        d = np.where(iscale != 0, F32(1) / iscale, F32(0))
    out = q.astype(np.float64) * d.astype(np.float64)[:, None]
    return torch.from_numpy(out.reshape(a.shape))


def round_gemm_q8(a):
    """Rows of a rounded as gemm_q8 quantizes activations: per 32, d = amax/127 in
    float32, q = x * (1/d) in float32 rounded half to even, value q * d."""
    x = a.numpy().astype(F32).reshape(-1, 32)
    d = np.abs(x).max(axis=1) / F32(127)
    with np.errstate(divide="ignore"):
        inv = np.where(d != 0, F32(1) / d, F32(0))
    q = np.rint(x * inv[:, None])
    out = q.astype(np.float64) * d.astype(np.float64)[:, None]
    return torch.from_numpy(out.reshape(a.shape))


ACT_ROUNDING = {"Q8_0": round_q8_0, "Q4_K": round_q8_k}


# ---------------------------------------------------------------- cases

def rel_err(a, b):
    return float((a - b).abs().max() / b.abs().max())


def write_case(name, cfg, type_name, W32, out_dir):
    llm_ref.write_gguf(cfg, W32, os.path.join(out_dir, name + ".f32.gguf"))
    w = llm_ref.metadata_writer(cfg)
    w.add_uint32("general.file_type", FILE_TYPE[type_name])
    deq = {}
    for tname, arr in W32.items():
        if arr.ndim == 2:
            raw = quantize(type_name, arr)
            w.add_tensor(tname, type_name, arr.shape, raw)
            deq[tname] = quants.dequantize(type_name.lower(), raw).reshape(arr.shape)
        else:
            w.add_array_tensor(tname, arr)
            deq[tname] = arr
    w.write(os.path.join(out_dir, name + ".gguf"))
    return deq


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=4321)
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    self_check(np.random.default_rng(args.seed))
    for case_index, (name, (kw, type_name)) in enumerate(CASES.items()):
        cfg = llm_ref.Config(**kw)
        rng = np.random.default_rng(args.seed + case_index)
        W32 = llm_ref.random_weights(cfg, rng)
        deq = write_case(name, cfg, type_name, W32, args.out_dir)
        W = {k: torch.from_numpy(v.astype(np.float64)) for k, v in deq.items()}
        Wf = {k: torch.from_numpy(v.astype(np.float64)) for k, v in W32.items()}
        act = ACT_ROUNDING[type_name]
        prompt = [int(t) for t in rng.integers(0, cfg.n_vocab - 2, size=N_PROMPT)]
        logits = llm_ref.forward(cfg, W, prompt)
        logits_f32 = llm_ref.forward(cfg, Wf, prompt)
        logits_act = llm_ref.forward(cfg, W, prompt, act)
        logits_gemm_q8 = llm_ref.forward(cfg, W, prompt, round_gemm_q8)
        greedy, margins = list(prompt), []
        for _ in range(N_GREEDY):
            top2 = torch.topk(llm_ref.forward(cfg, W, greedy)[-1], 2)
            greedy.append(int(top2.indices[0]))
            margins.append(float(top2.values[0] - top2.values[1]))
        ppl_tokens = [int(t) for t in rng.integers(0, cfg.n_vocab - 2, size=70)]
        bos = cfg.n_vocab - 2
        expected = {
            "arch": cfg.arch, "type": type_name, "prompt": prompt, "logits": logits.tolist(),
            "logits_f32": logits_f32.tolist(),
            "weight_quant_rel_err": rel_err(logits, logits_f32),
            "logits_act_quant": logits_act.tolist(),
            "act_quant_rel_err": rel_err(logits_act, logits),
            "logits_gemm_q8": logits_gemm_q8.tolist(),
            "gemm_q8_rel_err": rel_err(logits_gemm_q8, logits),
            "greedy": greedy[len(prompt):], "greedy_margins": margins,
            "perplexity": {"tokens": ppl_tokens, "n_ctx": 32, "bos": bos,
                           "value": llm_ref.perplexity(cfg, W, ppl_tokens, 32, bos),
                           "value_act_quant": llm_ref.perplexity(cfg, W, ppl_tokens, 32, bos, act),
                           "value_gemm_q8": llm_ref.perplexity(cfg, W, ppl_tokens, 32, bos, round_gemm_q8)},
        }
        with open(os.path.join(args.out_dir, name + ".json"), "w") as f:
            json.dump(expected, f)
        print(f"{name}: {type_name}, weight quantization {expected['weight_quant_rel_err']:.2e}, "
              f"activation rounding {expected['act_quant_rel_err']:.2e} (max relative logit error), "
              f"gemm_q8's {expected['gemm_q8_rel_err']:.2e}; "
              f"min greedy margin {min(margins):.3g}; ppl {expected['perplexity']['value']:.4f} "
              f"(rounded inputs {expected['perplexity']['value_act_quant']:.4f})")


if __name__ == "__main__":
    main()
