// The machine's ceilings, measured where the program runs: the streaming read
// bandwidth (the limit of decode, which reads every weight once per token) and
// the peak F32 FLOP rate (the limit of prompt processing and the UNet). The
// benchmarks print each kernel as a fraction of these.
//
// Both run on `threads` OpenMP threads (<= 0: num_threads()) and take a few
// hundred milliseconds; neither changes the thread count for other kernels.
#pragma once

#include <cstdint>

namespace aigc {

constexpr int64_t kCeilingReadBytes = int64_t(1) << 30;

// GB/s (1e9 bytes/s) of a streaming read of `bytes` (rounded down to a
// multiple of 256 per thread) split across the threads; best of a few runs.
double measure_read_bandwidth_gbs(int threads, int64_t bytes = kCeilingReadBytes);

// GFLOP/s of independent FMA chains in registers at the widest vector width
// active_isa() allows, on all threads; best of a few runs. `iters` steps per
// thread per run.
double measure_peak_gflops(int threads, int64_t iters = 50'000'000);

}  // namespace aigc
