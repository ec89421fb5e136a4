// `aigc bench kernels`: ceilings, then matmul per weight type against them.
//
// Matrix x vector: a 2048 x 5632 weight (a LLaMA-style FFN projection) timed
// over a rotating set of copies totalling >= 1 GiB, so the weights come from
// memory and not from cache, as in decode; reported as GB/s of weight bytes.
// Matrix x matrix: 512 tokens x 2048 x 2048, reported as GFLOP/s. Each figure
// is the median of several runs (the runs are printed as min..max too, since
// a shared machine is noisy).
#include "cli/bench_kernels.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "core/cpu_features.h"
#include "core/dtype.h"
#include "core/tensor.h"
#include "core/threads.h"
#include "kernels/ceilings.h"
#include "kernels/matmul.h"

namespace aigc {

namespace {

constexpr DType kBenchTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0, DType::Q4_0,
                                 DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K,
                                 DType::Q4_K, DType::Q5_K, DType::Q6_K};

struct BenchSizes {
  int64_t read_bytes;     // bandwidth ceiling
  int64_t fma_iters;      // FLOP ceiling
  int64_t mv_out, mv_in;  // matrix x vector
  int64_t rotation_bytes; // total weight bytes the matrix x vector rotates over
  int64_t mm_tokens, mm_out, mm_in;
  int runs;
};

constexpr BenchSizes kFullSizes = {int64_t(1) << 30, 50'000'000, 2048, 5632, int64_t(1) << 30, 512, 2048, 2048, 7};
constexpr BenchSizes kQuickSizes = {int64_t(32) << 20, 2'000'000, 64, 512, int64_t(4) << 20, 16, 64, 256, 2};

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Stats {
  double median, min, max;
};

Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  const double median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  return {median, v.front(), v.back()};
}

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<uint8_t, FreeDeleter>;

Buffer alloc_buffer(uint64_t bytes) {
  return Buffer(static_cast<uint8_t*>(std::aligned_alloc(64, (bytes + 63) / 64 * 64)));
}

std::vector<float> random_floats(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

// `count` weight matrices [n_out, n_in] of `type` back to back: a few rows of
// quantized random numbers, copied over the whole buffer (the contents only
// need to be realistic; what matters is that every copy is distinct memory).
Buffer make_weights(DType type, int64_t n_out, int64_t n_in, int64_t count) {
  const DTypeTraits& t = *dtype_traits(type);
  const uint64_t row_bytes = *dtype_row_bytes(type, n_in);
  const int64_t seed_rows = std::min<int64_t>(n_out, 16);
  const std::vector<float> src = random_floats(seed_rows * n_in, 1);
  std::vector<uint8_t> seed(size_t(row_bytes) * size_t(seed_rows));
  for (int64_t r = 0; r < seed_rows; ++r) t.from_float(src.data() + r * n_in, seed.data() + r * row_bytes, n_in);
  const int64_t total_rows = n_out * count;
  Buffer buf = alloc_buffer(row_bytes * uint64_t(total_rows));
  uint8_t* data = buf.get();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < total_rows; ++r)
    std::memcpy(data + uint64_t(r) * row_bytes, seed.data() + uint64_t(r % seed_rows) * row_bytes, row_bytes);
  return buf;
}

// Why a type cannot be benchmarked, or null if it can.
const char* unsupported_reason(DType type) {
  if (!matmul_supports(type)) return "no dot/dequantize kernel yet";
  if (dtype_traits(type)->from_float == nullptr) return "no quantizer to make test weights";
  return nullptr;
}

void bench_matvec(const BenchSizes& s, double bandwidth_gbs) {
  std::printf("\nmatrix x vector %lld x %lld (one token; weights rotate over >= %.0f MiB, from memory)\n",
              (long long)s.mv_out, (long long)s.mv_in, double(s.rotation_bytes) / double(1 << 20));
  std::printf("%-6s %10s %7s %10s %10s %8s  %s\n", "type", "MB/matrix", "copies", "us/matrix", "GB/s", "% bw",
              "GB/s min..max");
  const std::vector<float> x = random_floats(s.mv_in, 2);
  std::vector<float> y(size_t(s.mv_out));
  for (DType type : kBenchTypes) {
    if (const char* why = unsupported_reason(type)) {
      std::printf("%-6s skipped: %s\n", dtype_name(type), why);
      continue;
    }
    const uint64_t matrix_bytes = *dtype_row_bytes(type, s.mv_in) * uint64_t(s.mv_out);
    const int64_t count = int64_t((uint64_t(s.rotation_bytes) + matrix_bytes - 1) / matrix_bytes);
    const Buffer weights = make_weights(type, s.mv_out, s.mv_in, count);
    const Tensor xt = make_tensor(DType::F32, {1, s.mv_in}, const_cast<float*>(x.data()));
    const Tensor yt = make_tensor(DType::F32, {1, s.mv_out}, y.data());
    std::vector<double> gbs;
    for (int run = 0; run <= s.runs; ++run) {  // run 0 warms up
      const double t0 = seconds_now();
      for (int64_t i = 0; i < count; ++i)
        matmul(yt, make_tensor(type, {s.mv_out, s.mv_in}, weights.get() + uint64_t(i) * matrix_bytes), xt);
      const double t = seconds_now() - t0;
      if (run > 0) gbs.push_back(double(matrix_bytes) * double(count) / t / 1e9);
    }
    const Stats st = stats(gbs);
    std::printf("%-6s %10.2f %7lld %10.1f %10.1f %7.0f%%  %.1f..%.1f\n", dtype_name(type), double(matrix_bytes) / 1e6,
                (long long)count, double(matrix_bytes) / (st.median * 1e9) * 1e6, st.median,
                100.0 * st.median / bandwidth_gbs, st.min, st.max);
  }
}

void bench_matmul(const BenchSizes& s, double peak_gflops) {
  std::printf("\nmatrix x matrix %lld tokens x %lld x %lld (Y = X W^T)\n", (long long)s.mm_tokens,
              (long long)s.mm_out, (long long)s.mm_in);
  std::printf("%-6s %10s %10s %8s  %s\n", "type", "ms", "GFLOP/s", "% peak", "GFLOP/s min..max");
  const std::vector<float> x = random_floats(s.mm_tokens * s.mm_in, 3);
  std::vector<float> y(size_t(s.mm_tokens * s.mm_out));
  const double flops = 2.0 * double(s.mm_tokens) * double(s.mm_out) * double(s.mm_in);
  for (DType type : kBenchTypes) {
    if (const char* why = unsupported_reason(type)) {
      std::printf("%-6s skipped: %s\n", dtype_name(type), why);
      continue;
    }
    const Buffer weights = make_weights(type, s.mm_out, s.mm_in, 1);
    const Tensor wt = make_tensor(type, {s.mm_out, s.mm_in}, weights.get());
    const Tensor xt = make_tensor(DType::F32, {s.mm_tokens, s.mm_in}, const_cast<float*>(x.data()));
    const Tensor yt = make_tensor(DType::F32, {s.mm_tokens, s.mm_out}, y.data());
    std::vector<double> gflops;
    for (int run = 0; run <= s.runs; ++run) {  // run 0 warms up
      const double t0 = seconds_now();
      matmul(yt, wt, xt);
      const double t = seconds_now() - t0;
      if (run > 0) gflops.push_back(flops / t / 1e9);
    }
    const Stats st = stats(gflops);
    std::printf("%-6s %10.2f %10.1f %7.0f%%  %.1f..%.1f\n", dtype_name(type), flops / (st.median * 1e9) * 1e3,
                st.median, 100.0 * st.median / peak_gflops, st.min, st.max);
  }
}

}  // namespace

int bench_kernels(const BenchKernelsOptions& options) {
  if (options.threads > 0) set_num_threads(options.threads);
  const BenchSizes& s = options.quick ? kQuickSizes : kFullSizes;
  const int threads = num_threads();
  std::printf("aigc bench kernels: %d threads, %s kernels%s\n", threads, isa_name(active_isa()),
              options.quick ? " (quick: tiny sizes, figures mean nothing)" : "");
  const double bandwidth = measure_read_bandwidth_gbs(threads, s.read_bytes);
  const double peak = measure_peak_gflops(threads, s.fma_iters);
  std::printf("ceilings: streaming read %.1f GB/s (%.0f MiB, best of 5); F32 FMA peak %.1f GFLOP/s (best of 5)\n",
              bandwidth, double(s.read_bytes) / double(1 << 20), peak);
  bench_matvec(s, bandwidth);
  bench_matmul(s, peak);
  return 0;
}

}  // namespace aigc
