#!/usr/bin/python3
"""Independent reference for the BPE pre-tokenizers' splitting (gpt-2, llama3, qwen2).

Hand-written matchers for the tokenizer.json regexes, with letters, numbers
and whitespace taken from Python's unicodedata (no regex engine involved), so
that the C++ PCRE2 splitting can be checked against something that does not
share its code or its library. The regexes, tried at each position in order
(leftmost alternative wins):

  gpt-2:  's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+
  llama3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}
          | ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+
  qwen2:  as llama3 with \\p{N} instead of \\p{N}{1,3}

Usage: pretokenize_ref.py CASES.inp OUT.json
Writes {"gpt-2": [[piece, ...] per input], "llama3": ..., "qwen2": ...}.
"""
import json
import sys
import unicodedata

# Unicode White_Space (what \s matches in PCRE2 UCP mode and in Rust/Oniguruma).
WHITE_SPACE = set([0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000]
                  + list(range(0x2000, 0x200B)))


def is_space(c):
    return ord(c) in WHITE_SPACE


def is_letter(c):
    return unicodedata.category(c).startswith('L')


def is_number(c):
    return unicodedata.category(c).startswith('N')


def is_other(c):  # [^\s\p{L}\p{N}]
    return not (is_space(c) or is_letter(c) or is_number(c))


def run(t, i, pred, limit=None):
    """End of the run of characters satisfying pred starting at i."""
    j = i
    while j < len(t) and pred(t[j]) and (limit is None or j - i < limit):
        j += 1
    return j


def contraction(t, i, ignore_case):
    if t[i] != "'":
        return None
    for suffix in ('s', 't', 're', 've', 'm', 'll', 'd'):
        got = t[i + 1:i + 1 + len(suffix)]
        if (got.lower() if ignore_case else got) == suffix:
            return i + 1 + len(suffix)
    return None


def whitespace_alternatives(t, i):
    """\\s+(?!\\S)|\\s+ at i (t[i] is whitespace)."""
    j = run(t, i, is_space)
    if j == len(t) or j - 1 > i:
        return j if j == len(t) else j - 1  # backtrack one so the next is not \\S
    return j  # the plain \\s+ alternative


def match_gpt2(t, i):
    e = contraction(t, i, False)
    if e:
        return e
    k = i + 1 if t[i] == ' ' and i + 1 < len(t) else i
    for pred in (is_letter, is_number, is_other):
        if pred(t[k]):
            return run(t, k, pred)
    return whitespace_alternatives(t, i)


def match_llama3(t, i, max_digits):
    e = contraction(t, i, True)
    if e:
        return e
    c = t[i]
    # [^\r\n\p{L}\p{N}]?\p{L}+
    if c not in '\r\n' and not is_letter(c) and not is_number(c) and i + 1 < len(t) and is_letter(t[i + 1]):
        return run(t, i + 1, is_letter)
    if is_letter(c):
        return run(t, i, is_letter)
    if is_number(c):
        return run(t, i, is_number, max_digits)
    # ' ?[^\s\p{L}\p{N}]+[\r\n]*'
    k = i + 1 if c == ' ' and i + 1 < len(t) and is_other(t[i + 1]) else i
    if is_other(t[k]):
        j = run(t, k, is_other)
        return run(t, j, lambda x: x in '\r\n')
    # \s*[\r\n]+ : the whitespace run up to and including its last \r or \n
    j = run(t, i, is_space)
    last = max((p for p in range(i, j) if t[p] in '\r\n'), default=None)
    if last is not None:
        return last + 1
    return whitespace_alternatives(t, i)


def split(t, matcher):
    pieces, i = [], 0
    while i < len(t):
        e = matcher(t, i)
        assert e > i
        pieces.append(t[i:e])
        i = e
    return pieces


def main():
    text = open(sys.argv[1], encoding='utf-8').read()
    inputs = text.split('\n__ggml_vocab_test__\n')
    if text.endswith('\n__ggml_vocab_test__\n'):
        inputs.pop()
    out = {
        'gpt-2': [split(t, match_gpt2) for t in inputs],
        'llama3': [split(t, lambda t, i: match_llama3(t, i, 3)) for t in inputs],
        'qwen2': [split(t, lambda t, i: match_llama3(t, i, 1)) for t in inputs],
    }
    with open(sys.argv[2], 'w', encoding='utf-8') as f:
        json.dump(out, f, ensure_ascii=True, indent=0)
        f.write('\n')


if __name__ == '__main__':
    main()
