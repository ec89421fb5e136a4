#!/usr/bin/env bash
# Runs every libFuzzer target in build-fuzz/ for a bounded time each (default
# 60 s), two at a time, from a scratch copy of its seed corpus
# (fuzz/seeds/<name>/). Exits non-zero if any target finds a crash, leak,
# timeout or out-of-memory; the reproducer is left in build-fuzz/findings/.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
mkdir -p build-fuzz/findings
fail=0
pids=()
names=()
run_one() {
  local name=$1
  local corpus=build-fuzz/corpus-$name
  rm -rf "$corpus" && mkdir -p "$corpus"
  [ -d "fuzz/seeds/$name" ] && cp -r "fuzz/seeds/$name/." "$corpus/"
  "./build-fuzz/${name}_fuzz" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="build-fuzz/findings/$name-" -print_final_stats=0 "$corpus" \
    > "build-fuzz/$name.log" 2>&1
}
for bin in build-fuzz/*_fuzz; do
  name=$(basename "$bin" _fuzz)
  run_one "$name" &
  pids+=($!)
  names+=("$name")
  if [ ${#pids[@]} -ge 2 ]; then
    wait "${pids[0]}" || { echo "fuzz: ${names[0]} FAILED (see build-fuzz/${names[0]}.log)"; tail -30 "build-fuzz/${names[0]}.log"; fail=1; }
    [ $fail -eq 0 ] && echo "fuzz: ${names[0]} ran ${seconds}s clean ($(grep -o 'cov: [0-9]*' "build-fuzz/${names[0]}.log" | tail -1))"
    pids=("${pids[@]:1}"); names=("${names[@]:1}")
  fi
done
for i in "${!pids[@]}"; do
  if wait "${pids[$i]}"; then
    echo "fuzz: ${names[$i]} ran ${seconds}s clean ($(grep -o 'cov: [0-9]*' "build-fuzz/${names[$i]}.log" | tail -1))"
  else
    echo "fuzz: ${names[$i]} FAILED (see build-fuzz/${names[$i]}.log)"; tail -30 "build-fuzz/${names[$i]}.log"; fail=1
  fi
done
exit $fail
