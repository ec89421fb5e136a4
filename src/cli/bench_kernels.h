// `aigc bench kernels`: measures this machine's ceilings (streaming read
// bandwidth, peak F32 FMA rate), then matrix x vector for each weight type as
// a fraction of the bandwidth ceiling and matrix x matrix as a fraction of
// the FLOP ceiling. Prints to stdout; returns the process exit code.
#pragma once

namespace aigc {

struct BenchKernelsOptions {
  int threads = 0;     // <= 0: all cores
  bool quick = false;  // tiny sizes: a smoke test (< 5 s), not a measurement
};

int bench_kernels(const BenchKernelsOptions& options);

}  // namespace aigc
