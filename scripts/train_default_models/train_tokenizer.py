"""Trains the default text model's byte-level BPE tokenizer on the training
corpus: GPT-2 pre-tokenization, then repeatedly merge the most frequent
adjacent pair of symbols (ties: the smallest pair as strings) until the
vocabulary holds --vocab-size tokens: 256 byte symbols, the merged tokens,
then the special tokens. Deterministic.

usage: /usr/bin/python3 train_tokenizer.py CORPUS.txt OUT/tokenizer.json [--vocab-size N]
"""
import argparse
import collections
import json
import time

from bpe import SPECIAL_TOKENS, byte_symbols, pre_tokens


def train(words, n_merges):
    """words: {pre-token symbol string: count}. Returns the merges, most frequent first.
    Pair counts are updated incrementally from the words each merge touches."""
    seqs = [list(w) for w in words]
    counts = list(words.values())
    pair_count = collections.Counter()
    where = collections.defaultdict(set)  # pair -> indices of words holding it
    for i, s in enumerate(seqs):
        for p in zip(s, s[1:]):
            pair_count[p] += counts[i]
            where[p].add(i)
    merges = []
    for _ in range(n_merges):
        if not pair_count:
            break
        best = max(pair_count.items(), key=lambda kv: (kv[1], tuple(-ord(c) for c in kv[0][0] + "\0" + kv[0][1])))[0]
        merges.append(best)
        a, b = best
        for i in sorted(where.pop(best, ())):
            s, c = seqs[i], counts[i]
            for p in zip(s, s[1:]):
                pair_count[p] -= c
                if pair_count[p] == 0:
                    del pair_count[p]
            j, merged = 0, []
            while j < len(s):
                if j + 1 < len(s) and s[j] == a and s[j + 1] == b:
                    merged.append(a + b)
                    j += 2
                else:
                    merged.append(s[j])
                    j += 1
            seqs[i] = merged
            for p in zip(merged, merged[1:]):
                pair_count[p] += c
                where[p].add(i)
        pair_count.pop(best, None)
    return merges


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus")
    ap.add_argument("out")
    ap.add_argument("--vocab-size", type=int, default=4096)
    args = ap.parse_args()
    start = time.time()
    with open(args.corpus, encoding="utf-8") as f:
        words = collections.Counter(pre_tokens(f.read()))
    tokens = byte_symbols()
    n_merges = args.vocab_size - len(tokens) - len(SPECIAL_TOKENS)
    merges = train(words, n_merges)
    known = set(tokens)
    for a, b in merges:
        if a + b not in known:  # two merge paths can build the same string: one token
            tokens.append(a + b)
            known.add(a + b)
    tokens += SPECIAL_TOKENS
    with open(args.out, "w") as f:
        json.dump({"tokens": tokens, "merges": [f"{a} {b}" for a, b in merges],
                   "special_tokens": SPECIAL_TOKENS}, f, ensure_ascii=False, indent=0)
    print(f"train_tokenizer: {len(words)} distinct pre-tokens, {len(merges)} merges, {len(tokens)} tokens "
          f"in {time.time() - start:.1f} s -> {args.out}")


if __name__ == "__main__":
    main()
