// Micro-benchmarks of the dot kernels (kernels/vec_dot.h): one weight row
// type at a time, a 2048-wide matrix x vector on one thread, with the
// weights either resident in cache (the kernel's own speed) or streamed from
// memory (a rotating set far larger than the last-level cache, as in
// decode). Reported as bytes of weights per second; compare the streamed
// figure with the machine's read bandwidth (aigc bench kernels prints it).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "bench_main.h"
#include "core/cpu_features.h"
#include "core/dtype.h"
#include "kernels/vec_dot.h"

namespace aigc {
namespace {

constexpr int64_t kN = 2048;
constexpr size_t kHotBytes = size_t(192) << 10;   // fits in L2
constexpr size_t kColdBytes = size_t(512) << 20;  // well past any last-level cache

// Quantized random weights of `bytes` (whole rows) and one quantized activation row.
struct Problem {
  std::vector<uint8_t> w, act;
  size_t row_bytes = 0;
  int64_t rows = 0;
};

Problem make_problem(DType type, size_t bytes) {
  const DTypeTraits& t = *dtype_traits(type);
  Problem p;
  p.row_bytes = size_t(*dtype_row_bytes(type, kN));
  p.rows = int64_t(bytes / p.row_bytes);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> row(kN);
  std::vector<uint8_t> q(p.row_bytes);
  for (float& v : row) v = dist(rng);
  t.from_float(row.data(), q.data(), kN);
  p.w.resize(p.row_bytes * size_t(p.rows));
  for (int64_t r = 0; r < p.rows; ++r) std::copy(q.begin(), q.end(), p.w.begin() + int64_t(p.row_bytes) * r);
  p.act.resize(size_t(*dtype_row_bytes(t.vec_dot_type, kN)));
  for (float& v : row) v = dist(rng);
  dtype_traits(t.vec_dot_type)->from_float(row.data(), p.act.data(), kN);
  return p;
}

void run(benchmark::State& state, DType type, size_t bytes, bool multi_row) {
  const Problem p = make_problem(type, bytes);
  std::vector<float> out(size_t(p.rows));
  const Isa isa = active_isa();
  const VecDotFn dot = vec_dot_kernel(type, isa);
  for (auto _ : state) {
    if (multi_row) {
      vec_dot_rows(type, isa, kN, p.rows, p.w.data(), p.row_bytes, p.act.data(), out.data());
    } else {
      for (int64_t r = 0; r < p.rows; ++r) out[size_t(r)] = dot(kN, p.w.data() + size_t(r) * p.row_bytes, p.act.data());
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(p.w.size()));
  state.SetLabel(isa_name(isa));
}

void register_all() {
  for (DType type : {DType::Q4_0, DType::Q8_0, DType::Q4_K, DType::Q6_K, DType::F16, DType::BF16, DType::F32,
                     DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K, DType::Q5_K}) {
    const std::string name = dtype_name(type);
    benchmark::RegisterBenchmark(("vec_dot/hot/" + name).c_str(), run, type, kHotBytes, false);
    benchmark::RegisterBenchmark(("vec_dot_rows/hot/" + name).c_str(), run, type, kHotBytes, true);
    benchmark::RegisterBenchmark(("vec_dot/streamed/" + name).c_str(), run, type, kColdBytes, false)->Iterations(3);
    benchmark::RegisterBenchmark(("vec_dot_rows/streamed/" + name).c_str(), run, type, kColdBytes, true)->Iterations(3);
  }
}

}  // namespace
}  // namespace aigc

int main(int argc, char** argv) { return aigc::run_benchmarks(argc, argv, aigc::register_all); }
