// Tests of gemm_q8: against the exact product of the dequantized weights
// with the F32 activations, within the bound the activations' 8-bit
// rounding allows (derived per element, not fitted); the AVX2, AVX-512 (VNNI)
// and AMX micro-kernels against the scalar one, bit for bit, including the
// extreme quants and activations where AVX2's 16-bit pair sums come nearest
// to saturating; any thread count, bit
// for bit. Shapes are awkward: partial 8-row and 16-column tiles, k with a
// partial 256-element slice, one block.
#include "kernels/gemm_q8.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <vector>

#include "core/dtype.h"
#include "core/quant_blocks.h"
#include "kernels/op_test_util.h"

namespace aigc {
namespace {

constexpr DType kTypes[] = {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0,
                            DType::Q5_1, DType::Q4_K, DType::Q5_K, DType::Q6_K};

struct Problem {
  int64_t m, n, k;
  std::vector<float> a;
  std::vector<uint8_t> w;   // n rows of the type
  std::vector<float> w_f;   // the same, dequantized
  int64_t row_bytes;
};

Problem make_problem(DType type, int64_t m, int64_t n, int64_t k, uint32_t seed) {
  const DTypeTraits& t = *dtype_traits(type);
  Problem p{m, n, k, random_floats(m * k, seed), {}, {}, int64_t(*dtype_row_bytes(type, k))};
  // Some activation blocks with one large outlier, as real activations have.
  for (int64_t i = 0; i < m * k; i += 97) p.a[size_t(i)] *= 20.0f;
  const std::vector<float> w = random_floats(n * k, seed + 1, -1.0f, 1.0f);
  p.w.resize(size_t(p.row_bytes * n));
  p.w_f.resize(size_t(n * k));
  for (int64_t j = 0; j < n; ++j) {
    t.from_float(w.data() + j * k, p.w.data() + j * p.row_bytes, k);
    t.to_float(p.w.data() + j * p.row_bytes, p.w_f.data() + j * k, k);
  }
  return p;
}

std::vector<float> run(const Problem& p, DType type, Isa isa) {
  std::vector<float> c(size_t(p.m * p.n), -7.0f);
  gemm_q8(p.m, p.n, p.k, p.a.data(), p.k, type, p.w.data(), p.row_bytes, c.data(), p.n, isa);
  return c;
}

// |c - exact| <= sum_k |w_k| * amax(a's 32-element block of k) / 254 (the
// largest rounding of an 8-bit activation quant: Q6_K's 16-element blocks
// round at most that), plus float rounding.
void expect_within_rounding(const Problem& p, const std::vector<float>& c, const char* what) {
  for (int64_t i = 0; i < p.m; ++i) {
    for (int64_t j = 0; j < p.n; ++j) {
      double exact = 0.0, bound = 0.0, magnitude = 0.0;
      for (int64_t b0 = 0; b0 < p.k; b0 += 32) {
        float amax = 0.0f;
        for (int64_t e = b0; e < b0 + 32; ++e) amax = std::max(amax, std::fabs(p.a[size_t(i * p.k + e)]));
        for (int64_t e = b0; e < b0 + 32; ++e) {
          const double w = p.w_f[size_t(j * p.k + e)], a = p.a[size_t(i * p.k + e)];
          exact += w * a;
          bound += std::fabs(w) * double(amax) / 254.0;
          magnitude += std::fabs(w * a);
        }
      }
      const double tol = bound * 1.0001 + 2e-6 * magnitude + 1e-6;
      ASSERT_NEAR(c[size_t(i * p.n + j)], exact, tol) << what << " i=" << i << " j=" << j;
    }
  }
}

TEST(GemmQ8, MatchesExactProductWithinActivationRounding) {
  for (DType type : kTypes) {
    const int64_t bs = dtype_traits(type)->block_size;
    for (const auto& [m, n, k] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, bs}, {9, 17, 3 * bs},
                                  {13, 40, std::max<int64_t>(bs, 32 * 9)}, {8, 16, 256 * 2}}) {
      if (k % bs != 0) continue;
      SCOPED_TRACE(std::string(dtype_name(type)) + " m=" + std::to_string(m) + " n=" + std::to_string(n) +
                   " k=" + std::to_string(k));
      const Problem p = make_problem(type, m, n, k, uint32_t(m * 131 + n * 7 + k));
      expect_within_rounding(p, run(p, type, Isa::kScalar), "scalar");
      if (cpu_supports(Isa::kAvx2) && gemm_q8_supports(type, Isa::kAvx2))
        expect_within_rounding(p, run(p, type, Isa::kAvx2), "avx2");
      if (cpu_supports(Isa::kAvx512)) expect_within_rounding(p, run(p, type, Isa::kAvx512), "avx512");
    }
  }
}

TEST(GemmQ8, Avx512MatchesScalarBitForBit) {
  if (!cpu_supports(Isa::kAvx512)) GTEST_SKIP() << "this CPU lacks avx512: variant not tested";
  allow_amx(false);  // the VNNI micro-kernel
  for (DType type : kTypes) {
    const int64_t bs = dtype_traits(type)->block_size;
    const Problem p = make_problem(type, 37, 33, bs == 256 ? 768 : 288 + 32, 5);
    EXPECT_TRUE(same_bits(run(p, type, Isa::kScalar), run(p, type, Isa::kAvx512))) << dtype_name(type);
  }
  allow_amx(true);
}

// Every type at the scalar and AVX-512 kernels; on AVX2 all but Q8_0 (gemm_q8.h).
TEST(GemmQ8, TypesTakenPerIsa) {
  for (DType type : kTypes) {
    EXPECT_TRUE(gemm_q8_supports(type, Isa::kScalar)) << dtype_name(type);
    if (cpu_supports(Isa::kAvx512)) {
      EXPECT_TRUE(gemm_q8_supports(type, Isa::kAvx512)) << dtype_name(type);
    }
  }
  EXPECT_FALSE(gemm_q8_supports(DType::F16, Isa::kScalar));
  if (!cpu_supports(Isa::kAvx2)) GTEST_SKIP() << "this CPU lacks avx2: variant not tested";
  EXPECT_FALSE(gemm_q8_supports(DType::Q8_0, Isa::kAvx2));
  EXPECT_TRUE(gemm_q8_supports(DType::Q4_0, Isa::kAvx2));
}

TEST(GemmQ8, Avx2MatchesScalarBitForBit) {
  if (!cpu_supports(Isa::kAvx2)) GTEST_SKIP() << "this CPU lacks avx2: variant not tested";
  for (DType type : kTypes) {
    if (!gemm_q8_supports(type, Isa::kAvx2)) continue;
    const int64_t bs = dtype_traits(type)->block_size;
    const Problem p = make_problem(type, 37, 33, bs == 256 ? 768 : 288 + 32, 7);
    EXPECT_TRUE(same_bits(run(p, type, Isa::kScalar), run(p, type, Isa::kAvx2))) << dtype_name(type);
  }
}

// Sets every quant bit of one block (each quant at its largest), keeping the scales.
void set_quants_to_max(DType type, uint8_t* block) {
  auto fill = [&](size_t offset, size_t size) { std::memset(block + offset, 0xFF, size); };
  switch (type) {
    case DType::Q4_0: return fill(offsetof(BlockQ4_0, qs), sizeof(BlockQ4_0::qs));
    case DType::Q4_1: return fill(offsetof(BlockQ4_1, qs), sizeof(BlockQ4_1::qs));
    case DType::Q5_0:
      fill(offsetof(BlockQ5_0, qh), sizeof(BlockQ5_0::qh));
      return fill(offsetof(BlockQ5_0, qs), sizeof(BlockQ5_0::qs));
    case DType::Q5_1:
      fill(offsetof(BlockQ5_1, qh), sizeof(BlockQ5_1::qh));
      return fill(offsetof(BlockQ5_1, qs), sizeof(BlockQ5_1::qs));
    case DType::Q4_K: return fill(offsetof(BlockQ4_K, qs), sizeof(BlockQ4_K::qs));
    case DType::Q5_K:
      fill(offsetof(BlockQ5_K, qh), sizeof(BlockQ5_K::qh));
      return fill(offsetof(BlockQ5_K, qs), sizeof(BlockQ5_K::qs));
    case DType::Q6_K:
      fill(offsetof(BlockQ6_K, ql), sizeof(BlockQ6_K::ql));
      return fill(offsetof(BlockQ6_K, qh), sizeof(BlockQ6_K::qh));
    default: FAIL() << "no quants to set for " << dtype_name(type);
  }
}

// Every quant at its largest against activations of +-127 (a block's all of
// one sign): the largest 16-bit pair sums AVX2 forms; a saturating or
// wrapping sum would differ from the scalar kernel's exact one.
TEST(GemmQ8, Avx2ExtremeQuantsMatchScalar) {
  if (!cpu_supports(Isa::kAvx2)) GTEST_SKIP() << "this CPU lacks avx2: variant not tested";
  for (DType type : kTypes) {
    if (!gemm_q8_supports(type, Isa::kAvx2)) continue;
    const DTypeTraits& t = *dtype_traits(type);
    Problem p = make_problem(type, 9, 17, t.block_size == 256 ? 512 : 64, 8);
    for (size_t i = 0; i < p.a.size(); ++i) p.a[i] = (i / 64) % 2 ? -1.0f : 1.0f;
    for (int64_t j = 0; j < p.n; ++j)
      for (int64_t off = 0; off < p.row_bytes; off += t.block_bytes)
        set_quants_to_max(type, p.w.data() + j * p.row_bytes + off);
    EXPECT_TRUE(same_bits(run(p, type, Isa::kScalar), run(p, type, Isa::kAvx2))) << dtype_name(type);
  }
}

TEST(GemmQ8, AmxMatchesScalarBitForBit) {
  if (!amx_usable()) GTEST_SKIP() << "no AMX here (CPU or OS): the AMX micro-kernel not tested";
  for (DType type : kTypes) {
    const int64_t bs = dtype_traits(type)->block_size;
    const Problem p = make_problem(type, 37, 33, bs == 256 ? 768 : 288 + 32, 6);
    EXPECT_TRUE(same_bits(run(p, type, Isa::kScalar), run(p, type, Isa::kAvx512))) << dtype_name(type);
  }
}

TEST(GemmQ8, BitIdenticalForAnyThreadCount) {
  const Problem p = make_problem(DType::Q4_0, 70, 300, 512, 9);
  expect_same_bits_on_any_thread_count([&] { return run(p, DType::Q4_0, Isa::kAvx512); });  // the best kernel here
}

}  // namespace
}  // namespace aigc
