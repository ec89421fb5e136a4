"""Byte-level BPE as GPT-2 defines it, shared by the tokenizer trainer, the
model trainer and the evaluation: the byte -> symbol table, the GPT-2
pre-tokenizer regex (tokenizer.ggml.pre "gpt-2"), the tokenizer file
(tokenizer.json: tokens, merges, special tokens) and an encoder that applies
merges by rank, as the C++ tokenizer does.
"""
import json
import re

# GPT-2's pattern with \p{L} -> [^\W\d_] and \p{N} -> \d (Python's re has no
# \p{..}); identical on ASCII text, which is all the corpus holds.
PRE_TOKENIZER = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")

SPECIAL_TOKENS = ["<|bos|>", "<|eos|>", "<|system|>", "<|user|>", "<|assistant|>"]


def byte_symbols():
    """The 256 GPT-2 byte-level symbols: printable bytes map to themselves, the rest to U+0100.."""
    printable = set(range(ord("!"), ord("~") + 1)) | set(range(0xA1, 0xAC + 1)) | set(range(0xAE, 0xFF + 1))
    table, n = [], 0
    for b in range(256):
        if b in printable:
            table.append(chr(b))
        else:
            table.append(chr(256 + n))
            n += 1
    return table


def pre_tokens(text):
    """The pre-tokens of `text`, each as its string of byte-level symbols."""
    symbols = byte_symbols()
    return ["".join(symbols[b] for b in piece.encode("utf-8")) for piece in PRE_TOKENIZER.findall(text)]


class Tokenizer:
    def __init__(self, path):
        with open(path) as f:
            d = json.load(f)
        self.tokens = d["tokens"]
        self.merges = [tuple(m.split(" ")) for m in d["merges"]]
        self.id = {t: i for i, t in enumerate(self.tokens)}
        self.rank = {m: i for i, m in enumerate(self.merges)}
        self.bos, self.eos = self.id["<|bos|>"], self.id["<|eos|>"]
        self.special = {t: self.id[t] for t in SPECIAL_TOKENS}
        self.cache = {}
        self.byte_of = {s: b for b, s in enumerate(byte_symbols())}

    def encode_word(self, word):
        """Merges the pair of lowest rank until none applies."""
        if word in self.cache:
            return self.cache[word]
        parts = list(word)
        while len(parts) > 1:
            best, at = None, -1
            for i in range(len(parts) - 1):
                r = self.rank.get((parts[i], parts[i + 1]))
                if r is not None and (best is None or r < best):
                    best, at = r, i
            if best is None:
                break
            parts[at:at + 2] = [parts[at] + parts[at + 1]]
        ids = [self.id[p] for p in parts]
        self.cache[word] = ids
        return ids

    def encode(self, text):
        """Plain text (no special tokens parsed) to ids, no BOS."""
        ids = []
        for w in pre_tokens(text):
            ids += self.encode_word(w)
        return ids

    def decode(self, ids):
        out = bytearray()
        for i in ids:
            t = self.tokens[i]
            if t in self.special:
                out += t.encode()
            else:
                out += bytes(self.byte_of[c] for c in t)
        return out.decode("utf-8", errors="replace")
