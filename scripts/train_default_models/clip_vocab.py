"""The default image model's tokenizer: CLIP's byte-level BPE (the layout of
HuggingFace's CLIPTokenizer files, which src/image/clip_tokenizer.cpp reads
from a diffusers tokenizer/ folder), with merges learned from the captions'
words until each word is one token.

Vocabulary order, as CLIP's: the 256 byte symbols (GPT-2 byte-to-unicode
order), the same with "</w>", one token per merge, <|startoftext|>,
<|endoftext|>. Pre-tokenization and encoding follow CLIP's simple_tokenizer
for the lower-case ASCII captions of the data set (letter runs, digits, other
non-space runs); other text falls back to byte symbols.
"""
import collections
import json
import os
import re

START, END = "<|startoftext|>", "<|endoftext|>"
PIECE = re.compile(r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[a-z]+|[0-9]|[^\sa-z0-9]+")


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character map, in vocabulary order."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + \
        list(range(ord("\xae"), ord("\xff") + 1))
    order, chars, extra = list(printable), list(printable), 0
    for b in range(256):
        if b not in printable:
            order.append(b)
            chars.append(256 + extra)
            extra += 1
    return [(b, chr(c)) for b, c in zip(order, chars)]


BYTE_SYMBOL = dict(bytes_to_unicode())


def word_symbols(word):
    symbols = [BYTE_SYMBOL[b] for b in word.encode("utf-8")]
    symbols[-1] += "</w>"
    return symbols


def learn_merges(texts):
    """Merges of the most frequent adjacent pair (ties: the first in sorted order) until every word is one symbol."""
    counts = collections.Counter(p for t in texts for p in PIECE.findall(t.lower()))
    words = {w: word_symbols(w) for w in sorted(counts)}
    merges = []
    while True:
        pairs = collections.Counter()
        for w, symbols in words.items():
            for a, b in zip(symbols, symbols[1:]):
                pairs[(a, b)] += counts[w]
        if not pairs:
            return merges
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        for w, symbols in words.items():
            merged, i = [], 0
            while i < len(symbols):
                if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == best:
                    merged.append(symbols[i] + symbols[i + 1])
                    i += 2
                else:
                    merged.append(symbols[i])
                    i += 1
            words[w] = merged


class ClipVocab:
    def __init__(self, merges):
        self.merges = merges
        self.rank = {m: r for r, m in enumerate(merges)}
        tokens = [c for _, c in bytes_to_unicode()]
        tokens += [t + "</w>" for t in tokens]
        tokens += [a + b for a, b in merges]
        tokens += [START, END]
        self.ids = {}
        for t in tokens:
            self.ids.setdefault(t, len(self.ids))
        self.start_id, self.end_id = self.ids[START], self.ids[END]

    def __len__(self):
        return len(self.ids)

    def bpe(self, piece):
        symbols = word_symbols(piece)
        while len(symbols) > 1:
            pairs = [(self.rank.get((a, b), len(self.rank)), i) for i, (a, b) in enumerate(zip(symbols, symbols[1:]))]
            rank, i = min(pairs)
            if rank == len(self.rank):
                break
            first, second = symbols[i], symbols[i + 1]
            merged, j = [], 0
            while j < len(symbols):
                if j + 1 < len(symbols) and symbols[j] == first and symbols[j + 1] == second:
                    merged.append(first + second)
                    j += 2
                else:
                    merged.append(symbols[j])
                    j += 1
            symbols = merged
        return [self.ids.get(s, self.end_id) for s in symbols]

    def encode(self, text):
        ids = []
        for piece in PIECE.findall(" ".join(text.lower().split())):
            ids += [self.ids[piece]] if piece in (START, END) else self.bpe(piece)
        return ids

    def window(self, text, length=77):
        """start, ids (at most length - 2), end, end padding: the 77 ids the text encoder sees."""
        ids = self.encode(text)[:length - 2]
        return [self.start_id] + ids + [self.end_id] * (length - 1 - len(ids))

    def write_diffusers_folder(self, folder):
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
            json.dump(self.ids, f, ensure_ascii=False, indent=0)
        with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
            f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in self.merges))
        special = {"bos_token": START, "eos_token": END, "unk_token": END, "pad_token": END}
        with open(os.path.join(folder, "special_tokens_map.json"), "w", encoding="utf-8") as f:
            json.dump(special, f, indent=2)
        with open(os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(dict(special, tokenizer_class="CLIPTokenizer", model_max_length=77, do_lower_case=True,
                           add_prefix_space=False, errors="replace", clean_up_tokenization_spaces=True), f, indent=2)


def read_merges(folder):
    with open(os.path.join(folder, "merges.txt"), encoding="utf-8") as f:
        return [tuple(line.split()) for line in f.read().splitlines()[1:] if line.strip()]
