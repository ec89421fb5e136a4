"""Evaluates the default text model as shipped (its Q8_0 weights, dequantized)
on the held-out chapters, next to a bigram baseline on the same tokens, and
writes the reference the C++ test checks the shipped file against.

Perplexity follows `aigc perplexity`: windows of n_ctx tokens, the first
replaced by BOS, tokens n_ctx/2+1 .. n_ctx-1 scored from the logits before
them. The bigram model is counted on the training tokens and interpolated
with the add-one unigram: P(b|a) = l * c(a,b)/c(a) + (1-l) * P(b), with l
chosen on the last 5% of the training tokens counted from the first 95%.

usage: /usr/bin/python3 evaluate_text_model.py CHECKPOINT.pt TOKENIZER.json TRAIN.txt HELDOUT.txt OUT.json
"""
import argparse
import json
import math

import numpy as np
import torch

from bpe import Tokenizer
from export_text_gguf import q8_0
from train_text_model import Llama, chat_text, encode_with_special

PROMPT = "And the LORD spake unto Moses, saying"
CHAT_PROMPT = [("user", "In the beginning God created the heaven and the earth.")]
N_GREEDY = 24
EXCERPT_TOKENS = 3 * 64  # the held-out excerpt the C++ test measures with windows of 64


def dequantized_q8_0(arr):
    raw = np.frombuffer(q8_0(arr), np.uint8).reshape(-1, 34)
    d = raw[:, :2].copy().view(np.float16).astype(np.float32)
    q = raw[:, 2:].copy().view(np.int8).astype(np.float32)
    return (d * q).reshape(arr.shape)


def shipped_model(ck):
    """The model with every matrix replaced by its Q8_0 round trip (what the GGUF file holds)."""
    model = Llama(ck["config"])
    state = {k: torch.from_numpy(dequantized_q8_0(v.float().numpy())) if v.dim() == 2 else v
             for k, v in ck["model"].items()}
    model.load_state_dict(state)
    model.eval()
    return model


def scored_positions(n_tokens, n_ctx):
    """(window start, j) for every scored prediction: token window[j+1] from the logits at j."""
    return [(w0, j) for w0 in range(0, n_tokens // n_ctx * n_ctx, n_ctx) for j in range(n_ctx // 2, n_ctx - 1)]


def model_perplexity(model, ids, n_ctx, bos):
    nll, count = 0.0, 0
    with torch.no_grad():
        for w0 in range(0, len(ids) // n_ctx * n_ctx, n_ctx):
            window = [bos] + ids[w0 + 1:w0 + n_ctx]
            logp = torch.log_softmax(model(torch.tensor([window]))[0].double(), dim=-1)
            for j in range(n_ctx // 2, n_ctx - 1):
                nll -= float(logp[j, window[j + 1]])
                count += 1
    return math.exp(nll / count), count


class Bigram:
    def __init__(self, ids, n_vocab, lam):
        self.n_vocab, self.lam = n_vocab, lam
        self.pair = np.zeros((n_vocab, n_vocab), np.float64)
        np.add.at(self.pair, (ids[:-1], ids[1:]), 1.0)
        self.row = self.pair.sum(axis=1)
        self.unigram = (np.bincount(ids, minlength=n_vocab) + 1.0) / (len(ids) + n_vocab)

    def logp(self, a, b):
        ml = self.pair[a, b] / self.row[a] if self.row[a] > 0 else 0.0
        return math.log(self.lam * ml + (1 - self.lam) * self.unigram[b])


def bigram_baseline(train_ids, heldout_ids, n_vocab, n_ctx):
    cut = len(train_ids) * 95 // 100
    dev = train_ids[cut:]
    best = None
    for lam in [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95]:
        b = Bigram(train_ids[:cut], n_vocab, lam)
        nll = -sum(b.logp(dev[i], dev[i + 1]) for i in range(len(dev) - 1))
        if best is None or nll < best[0]:
            best = (nll, lam)
    lam = best[1]
    b = Bigram(train_ids, n_vocab, lam)
    pos = scored_positions(len(heldout_ids), n_ctx)
    nll = -sum(b.logp(heldout_ids[w0 + j], heldout_ids[w0 + j + 1]) for w0, j in pos)
    return math.exp(nll / len(pos)), lam


def greedy(model, ids, n, eos=None):
    """Greedy continuation, and per step the margin between the best and second-best logit."""
    ids, out, margins = list(ids), [], []
    with torch.no_grad():
        for _ in range(n):
            logits = model(torch.tensor([ids]))[0, -1].double()
            top = torch.topk(logits, 2)
            nxt = int(top.indices[0])
            out.append(nxt)
            margins.append(float(top.values[0] - top.values[1]))
            ids.append(nxt)
            if nxt == eos:
                break
    return out, margins


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for a in ("checkpoint", "tokenizer", "train", "heldout", "out"):
        ap.add_argument(a)
    args = ap.parse_args()
    torch.set_num_threads(1)
    ck = torch.load(args.checkpoint)
    c = ck["config"]
    tok = Tokenizer(args.tokenizer)
    model = shipped_model(ck)
    train_ids = np.array(tok.encode(open(args.train, encoding="utf-8").read()))
    heldout_text = open(args.heldout, encoding="utf-8").read()
    heldout_ids = tok.encode(heldout_text)
    n_ctx = c["seq_len"]

    ppl, count = model_perplexity(model, heldout_ids, n_ctx, tok.bos)
    bigram_ppl, lam = bigram_baseline(train_ids, np.array(heldout_ids), len(tok.tokens), n_ctx)
    print(f"held-out: {len(heldout_ids)} tokens, {count} scored (windows of {n_ctx})")
    print(f"perplexity: model {ppl:.2f}, bigram {bigram_ppl:.2f} (lambda {lam})")

    # the C++ test's reference: a prompt's tokens and greedy continuation, a chat turn's,
    # and the perplexity of a held-out excerpt with windows of 64
    prompt_ids = [tok.bos] + tok.encode(PROMPT)
    cont, margins = greedy(model, prompt_ids, N_GREEDY)
    chat_ids = encode_with_special(tok, chat_text(CHAT_PROMPT) + "<|assistant|>\n")
    chat_cont, chat_margins = greedy(model, chat_ids, 48, eos=tok.eos)
    print(f"greedy '{PROMPT}' -> {tok.decode(cont)!r}")
    print(f"chat -> {tok.decode(chat_cont)!r}")
    excerpt_ids = heldout_ids[:EXCERPT_TOKENS]
    excerpt_text = tok.decode(excerpt_ids)
    assert tok.encode(excerpt_text) == excerpt_ids
    excerpt_ppl, _ = model_perplexity(model, excerpt_ids, 64, tok.bos)
    ref = {
        "heldout": {"tokens": len(heldout_ids), "scored": count, "n_ctx": n_ctx, "perplexity": ppl,
                    "bigram_perplexity": bigram_ppl, "bigram_lambda": lam},
        "prompt": PROMPT, "prompt_ids": prompt_ids, "greedy": cont, "greedy_margins": margins,
        "greedy_text": tok.decode(cont),
        "chat_user": CHAT_PROMPT[0][1], "chat_prompt_ids": chat_ids, "chat_greedy": chat_cont,
        "chat_greedy_margins": chat_margins, "chat_greedy_text": tok.decode(chat_cont),
        "excerpt": {"text": excerpt_text, "ids": excerpt_ids, "n_ctx": 64, "perplexity": excerpt_ppl},
    }
    with open(args.out, "w") as f:
        json.dump(ref, f, indent=1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
