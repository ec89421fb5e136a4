// Machine ceilings: timing loops around the ISA-specific read and FMA loops.
#include "kernels/ceilings.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "core/assert.h"
#include "core/cpu_features.h"
#include "core/threads.h"
#include "kernels/ceilings_isa.h"

namespace aigc {

namespace {

constexpr int kRuns = 5;

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

uint64_t read_sum_scalar(const void* p, int64_t n_bytes) {
  const uint64_t* v = static_cast<const uint64_t*>(p);
  uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (int64_t i = 0; i < n_bytes / 8; i += 4) {
    s0 += v[i];
    s1 += v[i + 1];
    s2 += v[i + 2];
    s3 += v[i + 3];
  }
  return s0 + s1 + s2 + s3;
}

float fma_loop_scalar(int64_t iters) {
  float acc[kFmaChains];
  for (int i = 0; i < kFmaChains; ++i) acc[i] = float(i);
  for (int64_t it = 0; it < iters; ++it)
    for (int i = 0; i < kFmaChains; ++i) acc[i] = acc[i] * 0.999999f + 1e-6f;
  float s = 0.0f;
  for (float a : acc) s += a;
  return s;
}

int resolve_threads(int threads) { return threads > 0 ? threads : num_threads(); }

}  // namespace

double measure_read_bandwidth_gbs(int threads, int64_t bytes) {
  const int nt = resolve_threads(threads);
  const int64_t per_thread = bytes / nt / 256 * 256;
  AIGC_ASSERT(per_thread > 0);
  const Isa isa = active_isa();
  auto* buf = static_cast<uint8_t*>(std::aligned_alloc(64, size_t(per_thread) * size_t(nt)));
  AIGC_ASSERT(buf != nullptr);
  double best = 0.0;
  volatile uint64_t sink = 0;
#pragma omp parallel num_threads(nt)
  std::memset(buf + omp_get_thread_num() * per_thread, omp_get_thread_num() + 1, size_t(per_thread));
  for (int run = 0; run < kRuns; ++run) {
    uint64_t total = 0;
    const double t0 = seconds_now();
#pragma omp parallel num_threads(nt) reduction(+ : total)
    {
      const uint8_t* p = buf + omp_get_thread_num() * per_thread;
      switch (isa) {
        case Isa::kAvx512: total += read_sum_avx512(p, per_thread); break;
        case Isa::kAvx2: total += read_sum_avx2(p, per_thread); break;
        case Isa::kScalar: total += read_sum_scalar(p, per_thread); break;
      }
    }
    const double t = seconds_now() - t0;
    sink = sink + total;
    best = std::max(best, double(per_thread) * nt / t / 1e9);
  }
  std::free(buf);
  return best;
}

double measure_peak_gflops(int threads, int64_t iters) {
  const int nt = resolve_threads(threads);
  const Isa isa = active_isa();
  const int lanes = isa == Isa::kAvx512 ? 16 : isa == Isa::kAvx2 ? 8 : 1;
  double best = 0.0;
  volatile float sink = 0.0f;
  for (int run = 0; run < kRuns; ++run) {
    float total = 0.0f;
    const double t0 = seconds_now();
#pragma omp parallel num_threads(nt) reduction(+ : total)
    switch (isa) {
      case Isa::kAvx512: total += fma_loop_avx512(iters); break;
      case Isa::kAvx2: total += fma_loop_avx2(iters); break;
      case Isa::kScalar: total += fma_loop_scalar(iters); break;
    }
    const double t = seconds_now() - t0;
    sink = sink + total;
    best = std::max(best, double(iters) * kFmaChains * lanes * 2.0 * nt / t / 1e9);
  }
  return best;
}

}  // namespace aigc
