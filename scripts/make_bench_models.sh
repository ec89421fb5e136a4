#!/usr/bin/env bash
# Writes the speed-measurement models into DIR (not the repository; ~5.5 GB in
# all): a random F16 model of TinyLlama-1.1B's shape (2048 wide, 22 layers, 32
# heads, 4 KV heads, FFN 5632, vocabulary 32000), streamed tensor by tensor by
# tools/reference/llm_ref.py, and its Q8_0, Q4_0 and Q4_K versions written by
# `aigc quantize`. Existing files are kept. See bench/README.md.
# usage: scripts/make_bench_models.sh DIR [AIGC_BINARY]
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: $0 DIR [AIGC_BINARY]" >&2
  exit 2
fi
dir=$1
root=$(cd "$(dirname "$0")/.." && pwd)
aigc=${2:-$root/build/aigc}
mkdir -p "$dir"
if [ ! -s "$dir/tinyllama-f16.gguf" ]; then
  echo "writing $dir/tinyllama-f16.gguf"
  /usr/bin/python3 "$root/tools/reference/llm_ref.py" "$dir" --tinyllama tinyllama-f16.gguf.part
  mv "$dir/tinyllama-f16.gguf.part" "$dir/tinyllama-f16.gguf"
fi
for type in Q8_0 Q4_0 Q4_K; do
  out=$dir/tinyllama-$(echo "$type" | tr 'A-Z' 'a-z').gguf
  if [ ! -s "$out" ]; then
    "$aigc" quantize "$dir/tinyllama-f16.gguf" "$out.part" "$type"
    mv "$out.part" "$out"
  fi
done
ls -l "$dir"/tinyllama-*.gguf
