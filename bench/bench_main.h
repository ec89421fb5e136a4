// The main() of every Google Benchmark program here: AIGC_ISA caps the
// kernels' instruction set as it does for `aigc` (AIGC_ISA=avx2 times the
// AVX2 kernels on an AVX-512 machine), then the registered benchmarks run.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

#include "core/cpu_features.h"

namespace aigc {

inline int run_benchmarks(int argc, char** argv, void (*register_all)()) {
  if (std::string bad; !cap_isa_from_environment(&bad)) {
    std::fprintf(stderr, "AIGC_ISA=%s names no instruction set: use scalar, avx2 or avx512\n", bad.c_str());
    return 2;
  }
  benchmark::Initialize(&argc, argv);
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace aigc
