#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this):
#   1. release build, every test (ctest, in parallel)
#   2. Debug + ASan/UBSan build, every test
#   3. libFuzzer build, each fuzz target for FUZZ_SECONDS (default 60) from its seeds
# Prints a summary line with the counts and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds=${FUZZ_SECONDS:-60}
jobs=$(nproc)
status=0
summary=()

bash scripts/install_deps.sh || exit 1

run_ctest() {  # run_ctest <flavour>
  local log="build-$1/ctest.log"
  # Tests run in parallel, each with OpenMP threads: idle threads must sleep,
  # not spin, or parallel tests starve each other on a small machine.
  OMP_WAIT_POLICY=passive ctest --test-dir "build-$1" -j "$jobs" --output-on-failure --timeout 600 2>&1 | tee "$log" | grep -v -E '^ +[0-9]+/[0-9]+ Test +#[0-9]+: .* Passed'
  local line
  line=$(grep -E 'tests passed, [0-9]+ tests failed' "$log" | tail -1)
  summary+=("$1: ${line:-no tests ran}")
  grep -q -E '100% tests passed' "$log" || status=1
}

echo "== release build"; bash scripts/build.sh release || exit 1
echo "== release tests"; run_ctest release
echo "== asan build"; bash scripts/build.sh asan || exit 1
echo "== asan tests"; run_ctest asan
echo "== fuzz build"; bash scripts/build.sh fuzz || exit 1
echo "== fuzzing, ${fuzz_seconds}s per target"
if bash scripts/run_fuzzers.sh "$fuzz_seconds"; then
  summary+=("fuzz: $(ls build-fuzz/*_fuzz | wc -l) targets clean")
else
  summary+=("fuzz: FAILED"); status=1
fi

echo "== summary"
printf '%s\n' "${summary[@]}"
[ $status -eq 0 ] && echo "ALL PASSED" || echo "FAILURES"
exit $status
