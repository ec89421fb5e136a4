// Tests of gemm_f32 on shapes wide enough for its largest work items (256
// weight rows): the SIMD variants against the scalar one bit for bit, the
// result against a double-precision product, and the same bits for any
// thread count. (matmul_test.cpp covers the small and awkward shapes.)
#include "kernels/gemm_f32.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "kernels/op_test_util.h"

namespace aigc {
namespace {

// m x k activations against n weight rows of `type` (quantized from random
// floats). n = 2100: eight 256-row work items and a partial one ending in a
// partial panel. k: two packed blocks along k, the second 44 wide (not a
// multiple of the 8-column transposes) where the type allows it.
constexpr int64_t kM = 13, kN = 2100;

int64_t k_for(DType type) { return dtype_traits(type)->block_size == 1 ? 300 : 288; }

struct Problem {
  std::vector<float> a;
  std::vector<uint8_t> b;
  int64_t b_row_bytes = 0;
  std::vector<float> b_float;  // the weights as gemm_f32 sees them
};

Problem make_problem(DType type) {
  const DTypeTraits& t = *dtype_traits(type);
  const int64_t kK = k_for(type);
  Problem p;
  p.a = random_floats(kM * kK, 1, -1.0f, 1.0f);
  const std::vector<float> w = random_floats(kN * kK, 2, -1.0f, 1.0f);
  p.b_row_bytes = int64_t(*dtype_row_bytes(type, kK));
  p.b.resize(size_t(p.b_row_bytes * kN));
  p.b_float.resize(w.size());
  for (int64_t j = 0; j < kN; ++j) {
    t.from_float(w.data() + j * kK, p.b.data() + j * p.b_row_bytes, kK);
    t.to_float(p.b.data() + j * p.b_row_bytes, p.b_float.data() + j * kK, kK);
  }
  return p;
}

std::vector<float> run(const Problem& p, DType type) {
  const int64_t kK = k_for(type);
  std::vector<float> c(size_t(kM * kN), NAN);
  gemm_f32(kM, kN, kK, p.a.data(), kK, type, p.b.data(), p.b_row_bytes, c.data(), kN);
  return c;
}

class GemmF32WideTest : public IsaTest {};

TEST_P(GemmF32WideTest, MatchesScalarBitForBitAndDoubleReference) {
  for (DType type : {DType::F32, DType::F16, DType::Q4_0}) {
    SCOPED_TRACE(dtype_name(type));
    const int64_t kK = k_for(type);
    const Problem p = make_problem(type);
    const std::vector<float> got = run(p, type);
    std::vector<float> scalar;
    {
      IsaCap cap(Isa::kScalar);
      scalar = run(p, type);
    }
    cap_isa(GetParam());
    // F16 / F32 weights convert exactly in every variant; the quantized ones
    // go through the same dequantizer, so all agree bit for bit.
    EXPECT_TRUE(same_bits(got, scalar));
    for (int64_t i = 0; i < kM; ++i) {
      for (int64_t j = 0; j < kN; ++j) {
        double want = 0.0, abs_sum = 0.0;
        for (int64_t q = 0; q < kK; ++q) {
          const double prod = double(p.a[size_t(i * kK + q)]) * double(p.b_float[size_t(j * kK + q)]);
          want += prod;
          abs_sum += std::fabs(prod);
        }
        ASSERT_NEAR(got[size_t(i * kN + j)], want, double(kK) * 1.2e-7 * abs_sum + 1e-6)
            << "c[" << i << ", " << j << "]";
      }
    }
  }
}

TEST_P(GemmF32WideTest, BitIdenticalForAnyThreadCount) {
  const Problem p = make_problem(DType::F32);
  expect_same_bits_on_any_thread_count([&] { return run(p, DType::F32); });
}

AIGC_INSTANTIATE_ISA_TEST(GemmF32WideTest);

}  // namespace
}  // namespace aigc
