#!/usr/bin/env bash
# Configures and builds one flavour of aigc.cpp into build-<flavour>/:
#   release  optimised program, tests and benchmarks (bench/; default)
#   asan     Debug with AddressSanitizer + UndefinedBehaviorSanitizer, tests
#   fuzz     clang + libFuzzer targets (fuzz/*_fuzz.cpp) with ASan/UBSan
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
jobs=${JOBS:-$(nproc)}
case "$flavour" in
  release) args=(-DCMAKE_BUILD_TYPE=Release -DAIGC_BENCH=ON) ;;
  asan)    args=(-DCMAKE_BUILD_TYPE=Debug -DAIGC_SANITIZE=ON) ;;
  fuzz)    args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DAIGC_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++) ;;
  *) echo "usage: scripts/build.sh [release|asan|fuzz]" >&2; exit 2 ;;
esac
cmake -S . -B "build-$flavour" -G Ninja "${args[@]}" > /dev/null
cmake --build "build-$flavour" -j "$jobs"
