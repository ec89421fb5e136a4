// Micro-benchmarks of the F32 GEMM (kernels/gemm_f32.h) against oneDNN's
// dnnl_sgemm on the bench's product, 512 tokens x 2048 x 2048 (Y = X W^T),
// reported as FLOP per CPU second of the whole process (counter "FLOPS"; with
// N threads, N times that is the rate on an idle machine). Threads:
// OMP_NUM_THREADS; AIGC_ISA=avx2 runs the AVX2 kernels.
//
//   gemm/own/<type>     the project's gemm_f32 (weights of <type>)
//   gemm/amx/<type>     the project's gemm_amx (F32, F16, BF16; where the CPU has AMX)
//   gemm/q8/<type>      the project's gemm_q8 (integer products; quantized types)
//   gemm/dnnl_tiles/N   dnnl_sgemm single-threaded per fixed tile of C, N
//                       output columns wide (the only thread-count-independent
//                       way to use it), tiles shared out by OpenMP
//   gemm/dnnl_whole     one dnnl_sgemm call on all threads (the library's best,
//                       not thread-count independent)
//   (the dnnl ones only where libdnnl-dev was found at configure time)
//   gemm/micro_kernel   the micro-kernel alone on L1/L2-resident panels: the
//                       ceiling of the own GEMM
//   gemm/fma_ceiling    one thread of `aigc bench kernels`' FMA loop: the
//                       machine's ceiling, measured the same way (CPU time), so
//                       that the others can be read as fractions of it under load
#include <benchmark/benchmark.h>
#ifdef AIGC_BENCH_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "bench_main.h"
#include "core/cpu_features.h"
#include "core/dtype.h"
#include "kernels/ceilings_isa.h"
#include "kernels/gemm_amx.h"
#include "kernels/gemm_f32.h"
#include "kernels/gemm_f32_isa.h"
#include "kernels/gemm_q8.h"

namespace aigc {
namespace {

constexpr int64_t kM = 512, kN = 2048, kK = 2048;

std::vector<float> random_floats(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

void set_flops(benchmark::State& state, double flops_per_iter) {
  state.counters["FLOPS"] = benchmark::Counter(flops_per_iter * double(state.iterations()), benchmark::Counter::kIsRate);
}

enum class Gemm { kF32, kAmx, kQ8 };

void own(benchmark::State& state, DType type, Gemm gemm) {
  const std::vector<float> a = random_floats(kM * kK, 1), w = random_floats(kN * kK, 2);
  const size_t row_bytes = size_t(*dtype_row_bytes(type, kK));
  std::vector<uint8_t> b(row_bytes * size_t(kN));
  for (int64_t j = 0; j < kN; ++j) dtype_traits(type)->from_float(w.data() + j * kK, b.data() + size_t(j) * row_bytes, kK);
  std::vector<float> c(size_t(kM * kN));
  for (auto _ : state) {
    switch (gemm) {
      case Gemm::kF32:
        gemm_f32(kM, kN, kK, a.data(), kK, type, b.data(), int64_t(row_bytes), c.data(), kN);
        break;
      case Gemm::kAmx:
        gemm_amx(kM, kN, kK, a.data(), kK, type, b.data(), int64_t(row_bytes), c.data(), kN);
        break;
      case Gemm::kQ8:
        gemm_q8(kM, kN, kK, a.data(), kK, type, b.data(), int64_t(row_bytes), c.data(), kN, active_isa());
        break;
    }
    benchmark::DoNotOptimize(c.data());
  }
  set_flops(state, 2.0 * kM * kN * kK);
  state.SetLabel(isa_name(active_isa()));
}

#ifdef AIGC_BENCH_DNNL
// C[:, n0:n0+tile_n] = A B[n0:n0+tile_n, :]^T, one single-threaded call per tile.
void dnnl_tiles(benchmark::State& state) {
  const int64_t tile_n = state.range(0);
  const std::vector<float> a = random_floats(kM * kK, 1), b = random_floats(kN * kK, 2);
  std::vector<float> c(size_t(kM * kN));
  const int64_t n_tiles = kN / tile_n;
  for (auto _ : state) {
#pragma omp parallel for schedule(static)
    for (int64_t t = 0; t < n_tiles; ++t) {
      dnnl_sgemm('N', 'T', kM, tile_n, kK, 1.0f, a.data(), kK, b.data() + t * tile_n * kK, kK, 0.0f,
                 c.data() + t * tile_n, kN);
    }
    benchmark::DoNotOptimize(c.data());
  }
  set_flops(state, 2.0 * kM * kN * kK);
}

void dnnl_whole(benchmark::State& state) {
  const std::vector<float> a = random_floats(kM * kK, 1), b = random_floats(kN * kK, 2);
  std::vector<float> c(size_t(kM * kN));
  for (auto _ : state) {
    dnnl_sgemm('N', 'T', kM, kN, kK, 1.0f, a.data(), kK, b.data(), kK, 0.0f, c.data(), kN);
    benchmark::DoNotOptimize(c.data());
  }
  set_flops(state, 2.0 * kM * kN * kK);
}
#endif

// One thread: the micro-kernel over 22 A panels x 1 B panel of kGemmKc, as
// the GEMM's inner loops run it, with everything in cache.
void micro_kernel(benchmark::State& state) {
  const bool avx512 = active_isa() == Isa::kAvx512;
  const int64_t mr = avx512 ? 8 : 6, nr = avx512 ? 32 : 16, kc = kGemmKc, panels = 22;
  const std::vector<float> a = random_floats(panels * mr * kc, 1), b = random_floats(nr * kc, 2);
  std::vector<float> c(size_t(panels * mr * nr));
  for (auto _ : state) {
    for (int64_t i = 0; i < panels; ++i) {
      const float* ap = a.data() + i * mr * kc;
      float* cp = c.data() + i * mr * nr;
      if (avx512) {
        gemm_f32_tile_8x32_avx512(kc, ap, b.data(), cp, nr, 1);
      } else {
        gemm_f32_tile_6x16_avx2(kc, ap, b.data(), cp, nr, 1);
      }
    }
    benchmark::DoNotOptimize(c.data());
  }
  set_flops(state, 2.0 * double(panels * mr * nr * kc));
}

void fma_ceiling(benchmark::State& state) {
  const bool avx512 = active_isa() == Isa::kAvx512;
  constexpr int64_t kIters = 1'000'000;
  for (auto _ : state) benchmark::DoNotOptimize(avx512 ? fma_loop_avx512(kIters) : fma_loop_avx2(kIters));
  set_flops(state, 2.0 * double(kIters) * kFmaChains * (avx512 ? 16 : 8));
}

void register_all() {
  for (DType type : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_K}) {
    benchmark::RegisterBenchmark(("gemm/own/" + std::string(dtype_name(type))).c_str(), own, type, Gemm::kF32)
        ->Unit(benchmark::kMillisecond)
        ->MeasureProcessCPUTime();
  }
  if (amx_usable())
    for (DType type : {DType::F32, DType::F16, DType::BF16})
      benchmark::RegisterBenchmark(("gemm/amx/" + std::string(dtype_name(type))).c_str(), own, type, Gemm::kAmx)
          ->Unit(benchmark::kMillisecond)
          ->MeasureProcessCPUTime();
  for (DType type : {DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q5_K, DType::Q6_K})
    benchmark::RegisterBenchmark(("gemm/q8/" + std::string(dtype_name(type))).c_str(), own, type, Gemm::kQ8)
        ->Unit(benchmark::kMillisecond)
        ->MeasureProcessCPUTime();
#ifdef AIGC_BENCH_DNNL
  benchmark::RegisterBenchmark("gemm/dnnl_tiles", dnnl_tiles)->Arg(64)->Arg(128)->Arg(256)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();
  benchmark::RegisterBenchmark("gemm/dnnl_whole", dnnl_whole)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();
#endif
  benchmark::RegisterBenchmark("gemm/micro_kernel", micro_kernel);
  benchmark::RegisterBenchmark("gemm/fma_ceiling", fma_ceiling);
}

}  // namespace
}  // namespace aigc

int main(int argc, char** argv) { return aigc::run_benchmarks(argc, argv, aigc::register_all); }
