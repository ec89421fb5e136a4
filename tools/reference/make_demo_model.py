"""Writes a small random LLaMA-architecture model in GGUF, as the LLaMA-family
converters lay it out (tensor names, metadata keys, a byte-level BPE
vocabulary), for `aigc inspect` and the demo run until trained default models
exist. The weights are random: it generates noise, not text.

usage: /usr/bin/python3 tools/reference/make_demo_model.py OUT.gguf [--seed N]
"""
import argparse

import numpy as np

from gguf_writer import ARRAY, FLOAT32, INT32, STRING, GGUFWriter


def byte_level_tokens():
    """The 256 GPT-2 byte-level symbols: printable bytes map to themselves, the rest to U+0100.."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    table, n = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + n)
            n += 1
    return [table[b] for b in range(256)]


DEMO_TEXT = ("The quarterly report shows revenue growth in every region. "
             "Describe the product: a steel water bottle that keeps drinks cold. "
             "Thank you for your message; we will reply to the customer today.")


def train_merges(symbols, n_merges):
    """A tiny byte-level BPE training run on DEMO_TEXT: the most frequent adjacent pair becomes
    a merge, n_merges times. Returns the merges ("a b") and the new tokens."""
    words = []
    for i, w in enumerate(DEMO_TEXT.split(" ")):
        text = (" " if i else "") + w
        words.append([symbols[b] for b in text.encode("utf-8")])
    merges, tokens = [], []
    for _ in range(n_merges):
        counts = {}
        for w in words:
            for a, b in zip(w, w[1:]):
                counts[(a, b)] = counts.get((a, b), 0) + 1
        if not counts:
            break
        (a, b), _ = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        merges.append(f"{a} {b}")
        tokens.append(a + b)
        for w in words:
            i = 0
            while i + 1 < len(w):
                if w[i] == a and w[i + 1] == b:
                    w[i:i + 2] = [a + b]
                i += 1
    return merges, tokens


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--n-embd", type=int, default=64)
    ap.add_argument("--n-layer", type=int, default=2)
    ap.add_argument("--n-head", type=int, default=4)
    ap.add_argument("--n-head-kv", type=int, default=2)
    ap.add_argument("--n-ff", type=int, default=160)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)

    merges, merged = train_merges(byte_level_tokens(), 48)
    tokens = byte_level_tokens() + merged + ["<|bos|>", "<|eos|>"]
    n_vocab = len(tokens)
    d, h, hkv, ff = args.n_embd, args.n_head, args.n_head_kv, args.n_ff
    hd = d // h

    w = GGUFWriter()
    w.add_string("general.architecture", "llama")
    w.add_string("general.name", "aigc demo (random weights)")
    w.add_uint32("general.file_type", 1)  # mostly F16
    w.add_uint32("llama.context_length", 256)
    w.add_uint32("llama.embedding_length", d)
    w.add_uint32("llama.block_count", args.n_layer)
    w.add_uint32("llama.feed_forward_length", ff)
    w.add_uint32("llama.attention.head_count", h)
    w.add_uint32("llama.attention.head_count_kv", hkv)
    w.add_uint32("llama.rope.dimension_count", hd)
    w.add_float32("llama.rope.freq_base", 10000.0)
    w.add_float32("llama.attention.layer_norm_rms_epsilon", 1e-5)
    w.add_string("tokenizer.ggml.model", "gpt2")
    w.add_string("tokenizer.ggml.pre", "default")
    w.add_array("tokenizer.ggml.tokens", STRING, tokens)
    w.add_array("tokenizer.ggml.token_type", INT32, [1] * (n_vocab - 2) + [3, 3])
    w.add_array("tokenizer.ggml.merges", STRING, merges)
    w.add_uint32("tokenizer.ggml.bos_token_id", n_vocab - 2)
    w.add_uint32("tokenizer.ggml.eos_token_id", n_vocab - 1)
    w.add_string("tokenizer.chat_template",
                 "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>{% endif %}")
    # an array of arrays, as some converters write for per-layer settings
    w.add("aigc.demo.nested", ARRAY, [(FLOAT32, [0.5, 1.5]), (FLOAT32, [2.5])], ARRAY)

    def mat(rows, cols, dtype=np.float16):
        return (rng.standard_normal((rows, cols)) / np.sqrt(cols)).astype(dtype)

    w.add_array_tensor("token_embd.weight", mat(n_vocab, d))
    for i in range(args.n_layer):
        p = f"blk.{i}."
        w.add_array_tensor(p + "attn_norm.weight", np.ones(d, np.float32))
        w.add_array_tensor(p + "attn_q.weight", mat(d, d))
        w.add_array_tensor(p + "attn_k.weight", mat(hkv * hd, d))
        w.add_array_tensor(p + "attn_v.weight", mat(hkv * hd, d))
        w.add_array_tensor(p + "attn_output.weight", mat(d, d))
        w.add_array_tensor(p + "ffn_norm.weight", np.ones(d, np.float32))
        w.add_array_tensor(p + "ffn_gate.weight", mat(ff, d))
        w.add_array_tensor(p + "ffn_up.weight", mat(ff, d))
        w.add_array_tensor(p + "ffn_down.weight", mat(d, ff))
    w.add_array_tensor("output_norm.weight", np.ones(d, np.float32))
    w.add_array_tensor("output.weight", mat(n_vocab, d))
    w.write(args.out)
    print(f"wrote {args.out}: llama, {args.n_layer} layers, {d} wide, vocab {n_vocab}")


if __name__ == "__main__":
    main()
