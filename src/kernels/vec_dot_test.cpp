// Tests for vec_dot.h: every optimised dot kernel against the scalar
// reference of the dtype table, for every type that has one, on random rows
// of awkward lengths; the activation quantizers byte for byte against theirs.
#include "kernels/vec_dot.h"

#include <cmath>
#include <cstddef>
#include <cstring>
#include <string>

#include "core/fp16.h"
#include "core/quant_blocks.h"
#include "kernels/op_test_util.h"

namespace aigc {
namespace {

// |optimised - reference| <= kDotTol * sum_i |w_i * a_i|: the integer parts are
// exact, so only the order of float sums differs.
constexpr double kDotTol = 1e-6;

std::vector<uint8_t> quantize(DType type, const std::vector<float>& x) {
  const uint64_t bytes = *dtype_row_bytes(type, int64_t(x.size()));
  std::vector<uint8_t> q(bytes);
  dtype_traits(type)->from_float(x.data(), q.data(), int64_t(x.size()));
  return q;
}

// Row lengths for a type: the awkward sizes for plain types, odd and even
// block counts for block types (267: more than one 256-block pass of the
// 32-element-block kernels, then 8-block groups and a tail).
std::vector<int64_t> row_lengths(const DTypeTraits& t) {
  if (t.block_size == 1) {
    std::vector<int64_t> sizes = kAwkwardSizes;
    sizes.push_back(127);
    sizes.push_back(4096);
    return sizes;
  }
  std::vector<int64_t> sizes;
  for (int64_t blocks : {1, 2, 3, 5, 7, 8, 16, 17, 267}) sizes.push_back(blocks * t.block_size);
  return sizes;
}

// Why a type cannot be tested here, or empty if it can.
std::string untestable(const DTypeTraits& t) {
  const DTypeTraits* act = dtype_traits(t.vec_dot_type);
  if (t.to_float == nullptr || t.from_float == nullptr) return "no reference to_float/from_float for the weights";
  if (act == nullptr || act->from_float == nullptr) return "no reference quantizer for the activations";
  return "";
}

class VecDotTest : public IsaTest {};

TEST_P(VecDotTest, EveryTypeMatchesReference) {
  int tested = 0;
  for (int k = 0; k < dtype_count(); ++k) {
    const DTypeTraits& t = dtype_traits_at(k);
    if (t.vec_dot_ref == nullptr) continue;
    const std::string why = untestable(t);
    if (!why.empty()) {
      ADD_FAILURE() << t.name << " has a reference dot but " << why;
      continue;
    }
    const VecDotFn dot = vec_dot_kernel(t.type, GetParam());
    ASSERT_NE(dot, nullptr) << t.name;
    for (int64_t n : row_lengths(t)) {
      const auto w = random_floats(n, uint32_t(n) * 31 + k);
      const auto a = random_floats(n, uint32_t(n) * 17 + k + 1);
      const auto wq = quantize(t.type, w);
      const auto aq = quantize(t.vec_dot_type, a);
      std::vector<float> wf(size_t(n), 0.0f);
      t.to_float(wq.data(), wf.data(), n);
      double magnitude = 0.0;
      for (int64_t i = 0; i < n; ++i) magnitude += std::fabs(double(wf[size_t(i)]) * a[size_t(i)]);
      const float want = t.vec_dot_ref(n, wq.data(), aq.data());
      const float got = dot(n, wq.data(), aq.data());
      EXPECT_TRUE(std::isfinite(got)) << t.name << " n=" << n;
      EXPECT_LE(std::fabs(double(got) - double(want)), kDotTol * magnitude)
          << t.name << " n=" << n << " got " << got << " want " << want << " magnitude " << magnitude;
    }
    ++tested;
  }
  EXPECT_GE(tested, 3) << "F32, F16 and BF16 at least have reference dots";
}

// Weight blocks of random bytes (every bit pattern of quants, packed scales
// and high bits, which a quantizer may never write) with sane half-float
// scales; empty for types without such a description here.
std::vector<uint8_t> random_blocks(DType type, int64_t n, uint32_t seed) {
  const DTypeTraits& t = *dtype_traits(type);
  std::mt19937 rng(seed);
  std::vector<uint8_t> bytes(*dtype_row_bytes(type, n));
  for (uint8_t& b : bytes) b = uint8_t(rng());
  std::uniform_real_distribution<float> scale(0.001f, 0.05f), offset(-0.5f, 0.5f);
  auto set_half = [&](size_t at, float v) {
    const uint16_t h = fp32_to_fp16(v);
    std::memcpy(bytes.data() + at, &h, 2);
  };
  const int64_t nb = n / t.block_size;
  for (int64_t i = 0; i < nb; ++i) {
    const size_t b = size_t(i * t.block_bytes);
    switch (type) {
      case DType::Q4_0: set_half(b + offsetof(BlockQ4_0, d), scale(rng)); break;
      case DType::Q5_0: set_half(b + offsetof(BlockQ5_0, d), scale(rng)); break;
      case DType::Q8_0: set_half(b + offsetof(BlockQ8_0, d), scale(rng)); break;
      case DType::Q4_1:
        set_half(b + offsetof(BlockQ4_1, d), scale(rng));
        set_half(b + offsetof(BlockQ4_1, m), offset(rng));
        break;
      case DType::Q5_1:
        set_half(b + offsetof(BlockQ5_1, d), scale(rng));
        set_half(b + offsetof(BlockQ5_1, m), offset(rng));
        break;
      case DType::Q2_K:
        set_half(b + offsetof(BlockQ2_K, d), scale(rng));
        set_half(b + offsetof(BlockQ2_K, dmin), scale(rng));
        break;
      case DType::Q3_K: set_half(b + offsetof(BlockQ3_K, d), scale(rng)); break;
      case DType::Q4_K:
        set_half(b + offsetof(BlockQ4_K, d), scale(rng));
        set_half(b + offsetof(BlockQ4_K, dmin), scale(rng));
        break;
      case DType::Q5_K:
        set_half(b + offsetof(BlockQ5_K, d), scale(rng));
        set_half(b + offsetof(BlockQ5_K, dmin), scale(rng));
        break;
      case DType::Q6_K: set_half(b + offsetof(BlockQ6_K, d), scale(rng)); break;
      default: return {};
    }
  }
  return bytes;
}

TEST_P(VecDotTest, RandomBitPatternsMatchReference) {
  int tested = 0;
  for (int k = 0; k < dtype_count(); ++k) {
    const DTypeTraits& t = dtype_traits_at(k);
    if (t.vec_dot_ref == nullptr || !t.is_quantized || !untestable(t).empty()) continue;
    for (int64_t blocks : {1, 3, 8, 11}) {
      const int64_t n = blocks * t.block_size;
      const auto wq = random_blocks(t.type, n, uint32_t(n) + uint32_t(k));
      if (wq.empty()) break;
      const auto a = random_floats(n, uint32_t(n) * 5 + k);
      const auto aq = quantize(t.vec_dot_type, a);
      std::vector<float> wf(size_t(n), 0.0f);
      t.to_float(wq.data(), wf.data(), n);
      double magnitude = 0.0;
      for (int64_t i = 0; i < n; ++i) magnitude += std::fabs(double(wf[size_t(i)]) * a[size_t(i)]);
      const float want = t.vec_dot_ref(n, wq.data(), aq.data());
      const float got = vec_dot_kernel(t.type, GetParam())(n, wq.data(), aq.data());
      EXPECT_LE(std::fabs(double(got) - double(want)), kDotTol * magnitude)
          << t.name << " n=" << n << " got " << got << " want " << want << " magnitude " << magnitude;
      ++tested;
    }
  }
  EXPECT_GT(tested, 0);
}

TEST_P(VecDotTest, RowsMatchSingleRowCalls) {
  for (int k = 0; k < dtype_count(); ++k) {
    const DTypeTraits& t = dtype_traits_at(k);
    if (t.vec_dot_ref == nullptr || !untestable(t).empty()) continue;
    // 8-block groups and a tail; then more than one 256-block pass.
    for (int64_t n : t.block_size == 1 ? std::vector<int64_t>{99} : std::vector<int64_t>{19 * t.block_size, 267 * t.block_size}) {
      const int64_t rows = 35;  // two or more multi-row calls (4 or 16 rows) and a remainder
      const uint64_t row_bytes = *dtype_row_bytes(t.type, n);
      const size_t stride = size_t(row_bytes) + 8;  // rows with a gap between them
      std::vector<uint8_t> x(stride * rows);
      for (int64_t r = 0; r < rows; ++r) {
        const auto row = quantize(t.type, random_floats(n, uint32_t(r) + 100));
        std::memcpy(x.data() + size_t(r) * stride, row.data(), row.size());
      }
      const auto aq = quantize(t.vec_dot_type, random_floats(n, 7));
      std::vector<float> out(rows);
      vec_dot_rows(t.type, GetParam(), n, rows, x.data(), stride, aq.data(), out.data());
      const VecDotFn dot = vec_dot_kernel(t.type, GetParam());
      for (int64_t r = 0; r < rows; ++r) {
        const float one = dot(n, x.data() + size_t(r) * stride, aq.data());
        EXPECT_EQ(std::memcmp(&one, &out[size_t(r)], sizeof(float)), 0) << t.name << " n=" << n << " row " << r;
      }
    }
  }
}

// Q8_0 weights may hold -128 (the quantizer never writes it, but files may):
// with activations at +-127 the int16 pair sums are at their largest.
TEST_P(VecDotTest, Q8_0ExtremeQuantsAreExact) {
  const int64_t n = 5 * kQK;
  std::vector<BlockQ8_0> x(5), y(5);
  for (int64_t i = 0; i < 5; ++i) {
    x[size_t(i)].d = y[size_t(i)].d = 0x3C00;  // 1.0
    for (int j = 0; j < kQK; ++j) {
      x[size_t(i)].qs[j] = int8_t(j % 3 == 0 ? -128 : 127);
      y[size_t(i)].qs[j] = int8_t((j + i) % 2 == 0 ? -127 : 127);
    }
  }
  const float want = dtype_traits(DType::Q8_0)->vec_dot_ref(n, x.data(), y.data());
  EXPECT_EQ(vec_dot_kernel(DType::Q8_0, GetParam())(n, x.data(), y.data()), want);
}

// Rows for the quantizer tests: random, plus blocks that hit the edge cases:
// all zeros, exact halves after scaling, the largest magnitude both positive
// and negative (first one wins for Q8_K), tiny values.
std::vector<float> quantizer_input(int64_t n, int64_t block, uint32_t seed) {
  auto x = random_floats(n, seed);
  const int64_t nb = n / block;
  if (nb > 1) {
    for (int64_t i = 0; i < block; ++i) x[size_t(block + i)] = 0.0f;
  }
  if (nb > 2) {
    float* b = x.data() + 2 * block;
    for (int64_t i = 0; i < block; ++i) b[i] = float(i % 11) + 0.5f - 5.0f;
    b[0] = 127.0f;
    b[block - 1] = -127.0f;
  }
  if (nb > 3) {
    float* b = x.data() + 3 * block;
    for (int64_t i = 0; i < block; ++i) b[i] = float(i % 7) * 0.5f - 1.5f;
    b[1] = -127.0f;
    b[2] = 127.0f;
  }
  if (nb > 4) {
    float* b = x.data() + 4 * block;
    for (int64_t i = 0; i < block; ++i) b[i] *= 1e-30f;
  }
  return x;
}

TEST_P(VecDotTest, ActivationQuantizersGiveReferenceBytes) {
  int tested = 0;
  for (DType type : {DType::Q8_0, DType::Q8_1, DType::Q8_K}) {
    const DTypeTraits& t = *dtype_traits(type);
    if (t.from_float == nullptr) continue;
    const FromFloatFn quantize_fn = quantize_activation_kernel(type, GetParam());
    ASSERT_NE(quantize_fn, nullptr) << t.name;
    for (int64_t blocks : {1, 2, 3, 4, 5, 7, 16}) {
      const int64_t n = blocks * t.block_size;
      const auto x = quantizer_input(n, t.block_size, uint32_t(n));
      const auto want = quantize(type, x);
      std::vector<uint8_t> got(want.size(), 0xAA);
      quantize_fn(x.data(), got.data(), n);
      for (size_t i = 0; i < want.size(); ++i) {
        ASSERT_EQ(int(got[i]), int(want[i])) << t.name << " n=" << n << " byte " << i << " of block "
                                   << i / size_t(t.block_bytes);
      }
    }
    ++tested;
  }
  if (tested == 0) GTEST_SKIP() << "no reference activation quantizer in the dtype table yet";
}

AIGC_INSTANTIATE_ISA_TEST(VecDotTest);

TEST(VecDotDispatch, ScalarIsTheReference) {
  for (int k = 0; k < dtype_count(); ++k) {
    const DTypeTraits& t = dtype_traits_at(k);
    EXPECT_EQ(vec_dot_kernel(t.type, Isa::kScalar), t.vec_dot_ref) << t.name;
    if (t.is_quantized) {
      EXPECT_EQ(quantize_activation_kernel(t.type, Isa::kScalar), t.from_float) << t.name;
    }
  }
}

// Asking for an ISA above the CPU's gives what the CPU's best ISA gives.
TEST(VecDotDispatch, AboveTheCpuFallsBack) {
  const Isa best = cpu_supports(Isa::kAvx512) ? Isa::kAvx512 : cpu_supports(Isa::kAvx2) ? Isa::kAvx2 : Isa::kScalar;
  for (int k = 0; k < dtype_count(); ++k) {
    const DTypeTraits& t = dtype_traits_at(k);
    EXPECT_EQ(vec_dot_kernel(t.type, Isa::kAvx512), vec_dot_kernel(t.type, best)) << t.name;
    EXPECT_EQ(quantize_activation_kernel(t.type, Isa::kAvx512), quantize_activation_kernel(t.type, best)) << t.name;
  }
}

}  // namespace
}  // namespace aigc
