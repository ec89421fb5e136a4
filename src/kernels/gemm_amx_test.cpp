// Tests of gemm_amx: exact results where every split part and every partial
// sum is exact in its format (weights needing their lo part, then
// activations needing theirs), which pins down the layouts; random data
// within the bound the 16-bit activations allow (gemm_amx.h); any thread
// count, bit for bit. Shapes are awkward: k not a multiple of 32, partial
// 32 x 32 tiles, more than one chunk of tokens. Skipped where the CPU (or
// OS) has no AMX.
#include "kernels/gemm_amx.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "core/cpu_features.h"
#include "core/dtype.h"
#include "kernels/op_test_util.h"

namespace aigc {
namespace {

constexpr DType kTypes[] = {DType::F32, DType::F16, DType::BF16};

struct Problem {
  int64_t m, n, k;
  std::vector<float> a;
  std::vector<uint8_t> w;  // n rows of the type
  std::vector<float> w_f;  // the same, as floats
  int64_t row_bytes;
};

Problem make_problem(DType type, int64_t m, int64_t n, int64_t k, const std::vector<float>& a,
                     const std::vector<float>& w) {
  const DTypeTraits& t = *dtype_traits(type);
  Problem p{m, n, k, a, {}, std::vector<float>(size_t(n * k)), int64_t(*dtype_row_bytes(type, k))};
  p.w.resize(size_t(p.row_bytes * n));
  for (int64_t j = 0; j < n; ++j) {
    t.from_float(w.data() + j * k, p.w.data() + j * p.row_bytes, k);
    t.to_float(p.w.data() + j * p.row_bytes, p.w_f.data() + j * k, k);
  }
  return p;
}

// Integers in [-range, range] times scale.
std::vector<float> grid(int64_t count, int range, float scale, uint32_t seed) {
  std::vector<float> v = random_floats(count, seed, -1.0f, 1.0f);
  for (float& x : v) x = std::round(x * float(range)) * scale;
  return v;
}

std::vector<float> run(const Problem& p, DType type) {
  std::vector<float> c(size_t(p.m * p.n), -7.0f);
  gemm_amx(p.m, p.n, p.k, p.a.data(), p.k, type, p.w.data(), p.row_bytes, c.data(), p.n);
  return c;
}

std::vector<float> exact(const Problem& p, std::vector<double>* magnitude = nullptr) {
  std::vector<float> c(size_t(p.m * p.n));
  if (magnitude != nullptr) magnitude->assign(c.size(), 0.0);
  for (int64_t i = 0; i < p.m; ++i)
    for (int64_t j = 0; j < p.n; ++j) {
      double sum = 0.0, mag = 0.0;
      for (int64_t e = 0; e < p.k; ++e) {
        const double prod = double(p.a[size_t(i * p.k + e)]) * double(p.w_f[size_t(j * p.k + e)]);
        sum += prod;
        mag += std::fabs(prod);
      }
      c[size_t(i * p.n + j)] = float(sum);
      if (magnitude != nullptr) (*magnitude)[size_t(i * p.n + j)] = mag;
    }
  return c;
}

const std::tuple<int64_t, int64_t, int64_t> kShapes[] = {{1, 1, 1}, {17, 45, 70}, {33, 70, 300}, {40, 300, 33},
                                                          {530, 40, 64}};

TEST(GemmAmx, ExactWhereEveryPartIsExact) {
  if (!amx_usable()) GTEST_SKIP() << "no AMX here (CPU or OS): gemm_amx not tested";
  for (DType type : kTypes)
    for (const auto& [m, n, k] : kShapes) {
      SCOPED_TRACE(std::string(dtype_name(type)) + " m=" + std::to_string(m) + " n=" + std::to_string(n) +
                   " k=" + std::to_string(k));
      // Weights with 11 significant bits (F16 needs two parts; BF16 keeps 8)
      // and 4-bit activations: products and sums below 2^24 units of 2^-8.
      const Problem wide_w = make_problem(type, m, n, k, grid(m * k, 15, 1.0f, 1), grid(n * k, 2047, 1.0f / 256, 2));
      EXPECT_TRUE(same_bits(run(wide_w, type), exact(wide_w))) << "weights needing two parts";
      // 3-bit weights and 12-bit activations (two parts).
      const Problem wide_a = make_problem(type, m, n, k, grid(m * k, 4095, 1.0f / 256, 3), grid(n * k, 7, 1.0f, 4));
      EXPECT_TRUE(same_bits(run(wide_a, type), exact(wide_a))) << "activations needing two parts";
    }
}

// F32 weights: 20-bit activations need all three parts; one-bit weights and
// k = 16 keep every sum exact.
TEST(GemmAmx, F32ExactWhereEveryPartIsExact) {
  if (!amx_usable()) GTEST_SKIP() << "no AMX here (CPU or OS): gemm_amx not tested";
  const int64_t m = 40, n = 50, k = 16;
  const Problem p = make_problem(DType::F32, m, n, k, grid(m * k, (1 << 20) - 1, 1.0f / 1024, 9),
                                 grid(n * k, 1, 1.0f, 10));
  EXPECT_TRUE(same_bits(run(p, DType::F32), exact(p)));
  const Problem q = make_problem(DType::F32, m, n, k, grid(m * k, 1, 1.0f, 11),
                                 grid(n * k, (1 << 20) - 1, 1.0f / 1024, 12));
  EXPECT_TRUE(same_bits(run(q, DType::F32), exact(q)));
}

TEST(GemmAmx, WithinTheSplitBoundOnRandomData) {
  if (!amx_usable()) GTEST_SKIP() << "no AMX here (CPU or OS): gemm_amx not tested";
  for (DType type : kTypes)
    for (const auto& [m, n, k] : kShapes) {
      SCOPED_TRACE(std::string(dtype_name(type)) + " m=" + std::to_string(m) + " n=" + std::to_string(n) +
                   " k=" + std::to_string(k));
      const Problem p = make_problem(type, m, n, k, random_floats(m * k, 5, -3.0f, 3.0f),
                                     random_floats(n * k, 6, -1.0f, 1.0f));
      std::vector<double> magnitude;
      const std::vector<float> want = exact(p, &magnitude), got = run(p, type);
      // The split's 2^-15 (F16, BF16) or under 2^-24 (F32; gemm_amx.h), and
      // k * 2^-24 for F32 accumulation.
      const double split = std::ldexp(1.0, type == DType::F32 ? -24 : -15);
      for (size_t e = 0; e < got.size(); ++e)
        ASSERT_NEAR(got[e], want[e], (split + double(k) * std::ldexp(1.0, -24)) * magnitude[e]) << "element " << e;
    }
}

TEST(GemmAmx, BitIdenticalForAnyThreadCount) {
  if (!amx_usable()) GTEST_SKIP() << "no AMX here (CPU or OS): gemm_amx not tested";
  const Problem p =
      make_problem(DType::F16, 600, 300, 512, random_floats(600 * 512, 7), random_floats(300 * 512, 8));
  expect_same_bits_on_any_thread_count([&] { return run(p, DType::F16); });
}

}  // namespace
}  // namespace aigc
