"""Writes the trained text model as a llama GGUF file, as the community
converters lay it out: LLaMA tensor names, byte-level BPE vocabulary
(tokenizer.ggml.model "gpt2", pre "gpt-2") with its merges and control
tokens, a chat template, and matrices in Q8_0 (norm weights in F32).

usage: /usr/bin/python3 export_text_gguf.py CHECKPOINT.pt TOKENIZER.json OUT.gguf
"""
import argparse
import os
import sys

import numpy as np
import torch

from bpe import SPECIAL_TOKENS, Tokenizer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "reference"))
from gguf_writer import INT32, STRING, GGUFWriter  # noqa: E402
import quants  # noqa: E402

# Roles in <|role|> control tokens, each turn ended by the EOS token (which stops generation).
CHAT_TEMPLATE = ("{{ bos_token }}{% for message in messages %}<|{{ message['role'] }}|>\n"
                 "{{ message['content'] }}{{ eos_token }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")

LLAMA_FILE_TYPE_MOSTLY_Q8_0 = 7
TOKEN_TYPE_NORMAL, TOKEN_TYPE_CONTROL = 1, 3


def q8_0(x):
    """Q8_0 blocks of a float32 matrix, row-major: per 32 values an F16 scale d = max|x| / 127
    and int8 round(x / d) (ties away from zero), in float32 as the reference quantizer does."""
    blocks = x.astype(np.float32).reshape(-1, 32)
    amax = np.abs(blocks).max(axis=1)
    d = amax / np.float32(127)
    inv = np.where(d != 0, np.float32(1) / np.where(d != 0, d, np.float32(1)), np.float32(0)).astype(np.float32)
    v = blocks * inv[:, None]
    q = (np.sign(v) * np.floor(np.abs(v).astype(np.float64) + 0.5)).astype(np.int8)
    out = np.empty((len(blocks), 34), np.uint8)
    out[:, :2] = d.astype(np.float16).view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q.view(np.uint8)
    raw = out.tobytes()
    for i in range(min(8, len(blocks))):  # the project's block-by-block reference agrees
        assert raw[34 * i:34 * (i + 1)] == quants.quant_q8_0(list(blocks[i])), f"Q8_0 block {i} differs"
    return raw


def gguf_tensors(state, n_layer):
    """(GGUF name, float32 array) in file order."""
    names = [("token_embd.weight", "tok.weight")]
    for i in range(n_layer):
        for gguf, ours in (("attn_norm", "attn_norm"), ("attn_q", "q"), ("attn_k", "k"), ("attn_v", "v"),
                           ("attn_output", "o"), ("ffn_norm", "ffn_norm"), ("ffn_gate", "gate"), ("ffn_up", "up"),
                           ("ffn_down", "down")):
            names.append((f"blk.{i}.{gguf}.weight", f"layers.{i}.{ours}.weight"))
    names += [("output_norm.weight", "norm.weight"), ("output.weight", "out.weight")]
    return [(g, state[o].float().numpy()) for g, o in names]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint")
    ap.add_argument("tokenizer")
    ap.add_argument("out")
    args = ap.parse_args()
    ck = torch.load(args.checkpoint)
    c = ck["config"]
    tok = Tokenizer(args.tokenizer)
    hd = c["n_embd"] // c["n_head"]

    w = GGUFWriter()
    w.add_string("general.architecture", "llama")
    w.add_string("general.name", "aigc default text model (King James Bible, demonstration)")
    w.add_string("general.description", "A small demonstration model trained by scripts/train_default_models "
                 "on the King James Version of the Bible (public domain).")
    w.add_uint32("general.file_type", LLAMA_FILE_TYPE_MOSTLY_Q8_0)
    w.add_uint32("llama.context_length", c["seq_len"])
    w.add_uint32("llama.embedding_length", c["n_embd"])
    w.add_uint32("llama.block_count", c["n_layer"])
    w.add_uint32("llama.feed_forward_length", c["n_ff"])
    w.add_uint32("llama.attention.head_count", c["n_head"])
    w.add_uint32("llama.attention.head_count_kv", c["n_head_kv"])
    w.add_uint32("llama.rope.dimension_count", hd)
    w.add_float32("llama.rope.freq_base", c["rope_base"])
    w.add_float32("llama.attention.layer_norm_rms_epsilon", c["eps"])
    w.add_uint32("llama.vocab_size", len(tok.tokens))
    w.add_string("tokenizer.ggml.model", "gpt2")
    w.add_string("tokenizer.ggml.pre", "gpt-2")
    w.add_array("tokenizer.ggml.tokens", STRING, tok.tokens)
    w.add_array("tokenizer.ggml.token_type", INT32,
                [TOKEN_TYPE_CONTROL if t in SPECIAL_TOKENS else TOKEN_TYPE_NORMAL for t in tok.tokens])
    w.add_array("tokenizer.ggml.merges", STRING, [f"{a} {b}" for a, b in tok.merges])
    w.add_uint32("tokenizer.ggml.bos_token_id", tok.bos)
    w.add_uint32("tokenizer.ggml.eos_token_id", tok.eos)
    w.add_bool("tokenizer.ggml.add_bos_token", True)
    w.add_bool("tokenizer.ggml.add_eos_token", False)
    w.add_string("tokenizer.chat_template", CHAT_TEMPLATE)
    for name, arr in gguf_tensors(ck["model"], c["n_layer"]):
        if arr.ndim == 2:
            w.add_tensor(name, "Q8_0", arr.shape, q8_0(arr))
        else:
            w.add_array_tensor(name, arr.astype(np.float32))
    w.write(args.out)
    print(f"export_text_gguf: {args.out} ({os.path.getsize(args.out)} bytes, step {ck['step']})")


if __name__ == "__main__":
    main()
