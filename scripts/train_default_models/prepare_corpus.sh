#!/usr/bin/env bash
# Dumps the King James Bible (Debian packages bible-kjv-text + bible-kjv: the
# `bible` program decompresses /usr/lib/bible.data) as plain text, one verse
# per line without its number, and splits it by chapter into a training part
# and a held-out part (every 40th chapter, starting with the 21st: about 2.5%).
#
# usage: scripts/train_default_models/prepare_corpus.sh OUT_DIR
# writes OUT_DIR/kjv_train.txt and OUT_DIR/kjv_heldout.txt (deterministic).
set -euo pipefail

out=${1:?usage: prepare_corpus.sh OUT_DIR}
command -v bible >/dev/null || { echo "prepare_corpus: the 'bible' program is missing (apt-get install bible-kjv)" >&2; exit 1; }
mkdir -p "$out"

# -l10000: one verse per line (no wrapping). Output: "Book N" headings, blank
# lines, and "  N verse text" lines.
bible -l10000 "gen1:1-rev22:21" | awk -v train="$out/kjv_train.txt" -v heldout="$out/kjv_heldout.txt" '
  /^[A-Z0-9]/ && !/^  / { chapter++; next }          # a chapter heading, e.g. "Genesis 1"
  /^  [0-9]+ / {
    sub(/^  [0-9]+ /, "")
    if (chapter % 40 == 20) print > heldout; else print > train
  }
  END { if (chapter != 1189) { print "prepare_corpus: expected 1189 chapters, got " chapter > "/dev/stderr"; exit 1 } }'
wc -lc "$out/kjv_train.txt" "$out/kjv_heldout.txt"
