#!/usr/bin/python3
"""Unicode and HTML tables for the CLIP text cleaner (src/image/clip_text_clean.cpp).

The original CLIP tokenizer cleans text with Python's str.lower(), str.isspace()
and html.unescape(); this script prints, as C++ initialisers, the facts the C++
cleaner needs from them, taken from the Python that runs the reference:

  /usr/bin/python3 tools/reference/clip_tokenizer_ref.py lower     # lowercase runs
  /usr/bin/python3 tools/reference/clip_tokenizer_ref.py cased     # cased ranges
  /usr/bin/python3 tools/reference/clip_tokenizer_ref.py entities  # named entities
  /usr/bin/python3 tools/reference/clip_tokenizer_ref.py width     # full-width forms
  /usr/bin/python3 tools/reference/clip_tokenizer_ref.py clean TEXT  # reference cleaning
"""
import html
import html.entities
import re
import sys
import unicodedata

# Named entities kept beyond the 106 legacy ones (those html.unescape also
# accepts without ';'): the ones that occur in prompts scraped from the web.
EXTRA_ENTITIES = [
    "apos;", "hellip;", "mdash;", "ndash;", "lsquo;", "rsquo;", "ldquo;", "rdquo;", "sbquo;",
    "bdquo;", "trade;", "euro;", "bull;", "prime;", "Prime;", "larr;", "rarr;", "uarr;", "darr;",
    "harr;", "hearts;", "spades;", "clubs;", "diams;", "infin;", "ne;", "le;", "ge;", "minus;",
    "thinsp;", "ensp;", "emsp;", "zwj;", "zwnj;", "lrm;", "rlm;", "dagger;", "Dagger;", "permil;",
    "lsaquo;", "rsaquo;", "oelig;", "OElig;", "scaron;", "Scaron;", "Yuml;", "fnof;", "circ;",
    "tilde;", "star;", "check;", "sum;", "radic;", "asymp;", "equiv;", "deg;",
]


def cpp_string(s):
    out, escaped = "", False
    for b in s.encode("utf-8"):
        if b < 0x20 or b > 0x7E or b in (0x22, 0x5C):
            out, escaped = out + "\\x%02X" % b, True
        else:
            # A hex digit right after \xNN would extend the escape: split the literal.
            out += ('" "' if escaped and chr(b) in "0123456789abcdefABCDEF" else "") + chr(b)
            escaped = False
    return '"' + out + '"'


def code_points():
    return (cp for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF)


def print_runs(mapping):
    """Runs {first, last, delta, stride}: cp in [first, last] stepping by stride maps to cp + delta."""
    runs = []
    for cp, to in mapping:
        d = to - cp
        if runs:
            first, last, delta, stride = runs[-1]
            if delta == d and ((stride == 0 and cp - last in (1, 2)) or (stride and cp - last == stride)):
                runs[-1] = (first, cp, d, cp - last)
                continue
        runs.append((cp, cp, d, 0))
    for first, last, delta, stride in runs:
        print("    {0x%X, 0x%X, %d, %d}," % (first, last, delta, max(stride, 1)))


def lower_runs():
    print_runs((cp, ord(chr(cp).lower())) for cp in code_points()
               if chr(cp).lower() != chr(cp) and len(chr(cp).lower()) == 1)


def cased_ranges():
    ranges = []
    for cp in code_points():
        c = chr(cp)
        if c.lower() != c or c.upper() != c:
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    for first, last in ranges:
        print("    {0x%X, 0x%X}," % (first, last))


def entities():
    names = sorted(set([k for k in html.entities.html5 if not k.endswith(";")] +
                       [k + ";" for k in html.entities.html5 if not k.endswith(";")] + EXTRA_ENTITIES))
    for n in names:
        print("    {%s, %s}," % (cpp_string(n), cpp_string(html.entities.html5[n])))


def width():
    # ftfy's fix_character_width: NFKC of the half/full-width block, and U+3000.
    pairs = []
    for cp in [0x3000] + list(range(0xFF01, 0xFFF0)):
        n = unicodedata.normalize("NFKC", chr(cp))
        if n != chr(cp) and len(n) == 1:
            pairs.append((cp, ord(n)))
    print_runs(pairs)


def clean(text):
    # What the original tokenizer does, without ftfy: unescape twice, collapse
    # whitespace, strip, lowercase.
    text = html.unescape(html.unescape(text)).strip()
    return re.sub(r"\s+", " ", text).strip().lower()


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "lower":
        lower_runs()
    elif what == "cased":
        cased_ranges()
    elif what == "entities":
        entities()
    elif what == "width":
        width()
    elif what == "clean":
        print(clean(sys.argv[2]))
    else:
        sys.exit("unknown table " + what)
