"""Trains the default text model: a small LLaMA (RMSNorm, rotary attention
with grouped KV heads, SwiGLU feed-forward, untied output) on the tokenized
corpus, on the CPU with one thread, seeded. RoPE rotates adjacent pairs of
each head ("normal" mode), which is how GGUF llama files hold Q and K, so the
weights are written as they are.

Each training sequence is BOS followed by seq_len tokens: a random window of
the corpus (BOS mid-text, as `aigc text` and `aigc perplexity` present it), or,
for a fraction of them, chat turns in the shipped chat template where the
user gives a verse and the assistant answers with the next one.

usage: /usr/bin/python3 train_text_model.py CORPUS.txt TOKENIZER.json OUT_DIR [--steps N]
writes OUT_DIR/checkpoint.pt (every --save-every steps and at the end; an
existing one is resumed) and OUT_DIR/loss.tsv (step, train loss, held-out loss).
"""
import argparse
import math
import os
import random
import re
import time

import torch
import torch.nn.functional as F

from bpe import Tokenizer

CONFIG = dict(n_vocab=4096, n_embd=192, n_layer=4, n_head=6, n_head_kv=2, n_ff=512, seq_len=256,
              rope_base=10000.0, eps=1e-5)


def chat_text(turns, system=None):
    """The chat template's rendering (models/text: tokenizer.chat_template), as text with special tokens."""
    out = "<|bos|>"
    if system:
        out += f"<|system|>\n{system}<|eos|>\n"
    for role, content in turns:
        out += f"<|{role}|>\n{content}<|eos|>\n"
    return out


def encode_with_special(tok, text):
    ids = []
    for piece in re.split(r"(<\|[a-z]+\|>)", text):
        if piece in tok.special:
            ids.append(tok.special[piece])
        elif piece:
            ids += tok.encode(piece)
    return ids


class Llama(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        d, hd = c["n_embd"], c["n_embd"] // c["n_head"]
        lin = lambda i, o: torch.nn.Linear(i, o, bias=False)
        self.tok = torch.nn.Embedding(c["n_vocab"], d)
        self.layers = torch.nn.ModuleList()
        for _ in range(c["n_layer"]):
            self.layers.append(torch.nn.ModuleDict(dict(
                attn_norm=RmsNorm(d, c["eps"]), q=lin(d, c["n_head"] * hd), k=lin(d, c["n_head_kv"] * hd),
                v=lin(d, c["n_head_kv"] * hd), o=lin(c["n_head"] * hd, d), ffn_norm=RmsNorm(d, c["eps"]),
                gate=lin(d, c["n_ff"]), up=lin(d, c["n_ff"]), down=lin(c["n_ff"], d))))
        self.norm = RmsNorm(d, c["eps"])
        self.out = lin(d, c["n_vocab"])
        for name, p in self.named_parameters():
            if p.dim() == 2:
                torch.nn.init.normal_(p, std=0.02)
            if name.endswith(("o.weight", "down.weight")):  # residual branches scaled down by depth
                torch.nn.init.normal_(p, std=0.02 / math.sqrt(2 * c["n_layer"]))
        i = torch.arange(hd // 2, dtype=torch.float64)
        angle = torch.arange(c["seq_len"] + 1, dtype=torch.float64)[:, None] * c["rope_base"] ** (-2.0 * i / hd)
        self.register_buffer("cos", torch.cos(angle).float(), persistent=False)
        self.register_buffer("sin", torch.sin(angle).float(), persistent=False)
        self.register_buffer("mask", torch.full((c["seq_len"], c["seq_len"]), float("-inf")).triu(1), persistent=False)

    def rope(self, x):
        """x: [B, H, T, hd]; rotates the pairs (0,1), (2,3), ... by position * base^(-2i/hd)."""
        T = x.shape[2]
        cos, sin = self.cos[:T], self.sin[:T]
        a, b = x[..., 0::2], x[..., 1::2]
        return torch.stack([a * cos - b * sin, a * sin + b * cos], dim=-1).flatten(-2)

    def forward(self, ids):
        c = self.c
        B, T = ids.shape
        H, Hkv, hd = c["n_head"], c["n_head_kv"], c["n_embd"] // c["n_head"]
        x = self.tok(ids)
        for L in self.layers:
            h = L["attn_norm"](x)
            q = self.rope(L["q"](h).view(B, T, H, hd).transpose(1, 2))
            k = self.rope(L["k"](h).view(B, T, Hkv, hd).transpose(1, 2))
            v = L["v"](h).view(B, T, Hkv, hd).transpose(1, 2)
            k, v = k.repeat_interleave(H // Hkv, dim=1), v.repeat_interleave(H // Hkv, dim=1)
            att = (q @ k.transpose(-1, -2)) / math.sqrt(hd) + self.mask[:T, :T]
            a = torch.softmax(att, dim=-1) @ v
            x = x + L["o"](a.transpose(1, 2).reshape(B, T, H * hd))
            h = L["ffn_norm"](x)
            x = x + L["down"](F.silu(L["gate"](h)) * L["up"](h))
        return self.out(self.norm(x))


class RmsNorm(torch.nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.eps = eps
        self.weight = torch.nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + self.eps) * self.weight


class Batches:
    """Seeded training sequences: corpus windows and chat conversations."""

    def __init__(self, tok, text, seq_len, chat_fraction, seed):
        self.tok, self.seq_len, self.chat_fraction = tok, seq_len, chat_fraction
        self.verses = text.split("\n")[:-1]
        self.ids = torch.tensor(tok.encode(text), dtype=torch.long)
        self.rng = random.Random(seed)

    def chat_sequence(self):
        ids = []
        while len(ids) < self.seq_len + 1:
            i = self.rng.randrange(len(self.verses) - 8)
            n = self.rng.randrange(1, 4)  # exchanges
            turns = []
            for j in range(n):
                turns += [("user", self.verses[i + 2 * j]), ("assistant", self.verses[i + 2 * j + 1])]
            ids += encode_with_special(self.tok, chat_text(turns))
        return torch.tensor(ids[:self.seq_len + 1])

    def window(self):
        at = self.rng.randrange(len(self.ids) - self.seq_len)
        return torch.cat([torch.tensor([self.tok.bos]), self.ids[at:at + self.seq_len]])

    def next(self, batch_size):
        rows = [self.chat_sequence() if self.rng.random() < self.chat_fraction else self.window()
                for _ in range(batch_size)]
        return torch.stack(rows)


def heldout_loss(model, tok, text, seq_len):
    """Mean next-token loss over the held-out text in consecutive windows, each BOS + seq_len tokens."""
    ids = torch.tensor(tok.encode(text), dtype=torch.long)
    n = len(ids) // seq_len
    rows = torch.cat([torch.full((n, 1), tok.bos), ids[:n * seq_len].view(n, seq_len)], dim=1)
    model.eval()
    with torch.no_grad():
        total = 0.0
        for r in rows.split(16):
            logits = model(r[:, :-1])
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), r[:, 1:].reshape(-1), reduction="sum").item()
    model.train()
    return total / (n * seq_len)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus")
    ap.add_argument("heldout")
    ap.add_argument("tokenizer")
    ap.add_argument("out_dir")
    ap.add_argument("--steps", type=int, default=700)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--chat-fraction", type=float, default=0.1)
    ap.add_argument("--save-every", type=int, default=250)
    ap.add_argument("--stop-at", type=int, help="end after this step, part way along the --steps schedule")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    os.makedirs(args.out_dir, exist_ok=True)

    tok = Tokenizer(args.tokenizer)
    assert len(tok.tokens) == CONFIG["n_vocab"], (len(tok.tokens), CONFIG["n_vocab"])
    with open(args.corpus, encoding="utf-8") as f:
        text = f.read()
    with open(args.heldout, encoding="utf-8") as f:
        heldout = f.read()
    model = Llama(CONFIG)
    decay = [p for p in model.parameters() if p.dim() == 2]
    other = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95))
    batches = Batches(tok, text, CONFIG["seq_len"], args.chat_fraction, args.seed)
    ckpt_path = os.path.join(args.out_dir, "checkpoint.pt")
    step, elapsed = 0, 0.0
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        batches.rng.setstate(ck["data_rng"])
        torch.set_rng_state(ck["torch_rng"])
        step, elapsed = ck["step"], ck["elapsed"]
        print(f"resumed at step {step} ({elapsed:.0f} s trained)")
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params} parameters, {CONFIG}; corpus {len(batches.ids)} tokens")

    def save():
        torch.save(dict(model=model.state_dict(), opt=opt.state_dict(), data_rng=batches.rng.getstate(),
                        torch_rng=torch.get_rng_state(), step=step, elapsed=elapsed, config=CONFIG,
                        args=vars(args)), ckpt_path + ".tmp")
        os.replace(ckpt_path + ".tmp", ckpt_path)

    log = open(os.path.join(args.out_dir, "loss.tsv"), "a")
    smooth = None
    end = min(args.steps, args.stop_at or args.steps)
    while step < end:
        t0 = time.time()
        lr = args.lr * min(1.0, (step + 1) / args.warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / args.steps)))
        for g in opt.param_groups:
            g["lr"] = lr
        batch = batches.next(args.batch_size)
        logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        elapsed += time.time() - t0
        smooth = loss.item() if smooth is None else 0.95 * smooth + 0.05 * loss.item()
        if step % 50 == 0 or step == end:
            held = heldout_loss(model, tok, heldout, CONFIG["seq_len"]) if step % args.save_every == 0 or step == end else float("nan")
            print(f"step {step:5d}  lr {lr:.2e}  loss {smooth:.3f}  held-out {held:.3f}  {elapsed:6.0f} s", flush=True)
            log.write(f"{step}\t{smooth:.4f}\t{held:.4f}\t{elapsed:.0f}\n")
            log.flush()
        if step % args.save_every == 0 or step == end:
            save()
    print(f"trained {step} steps in {elapsed:.0f} s")


if __name__ == "__main__":
    main()
