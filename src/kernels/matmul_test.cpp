// Tests of matmul and gemm_f32: every optimised path against the scalar
// references on awkward shapes, for every weight type the dtype table can
// quantize to; bit-identical results for any thread count.
#include "kernels/matmul.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/fp16.h"
#include "kernels/gemm_f32.h"
#include "kernels/op_test_util.h"

namespace aigc {
namespace {

// A weight matrix [n_out, n_in] of `type`, made by quantizing random floats,
// plus its exact dequantized values.
struct Weights {
  std::vector<uint8_t> bytes;
  std::vector<float> dequant;
  Tensor tensor;
};

Weights make_weights(DType type, int64_t n_out, int64_t n_in, uint32_t seed) {
  const DTypeTraits& t = *dtype_traits(type);
  Weights w;
  const std::vector<float> src = random_floats(n_out * n_in, seed, -1.0f, 1.0f);
  w.bytes.resize(size_t(*dtype_row_bytes(type, n_in) * uint64_t(n_out)));
  w.tensor = make_tensor(type, {n_out, n_in}, w.bytes.data());
  w.dequant.resize(src.size());
  for (int64_t o = 0; o < n_out; ++o) {
    t.from_float(src.data() + o * n_in, w.tensor.row(o), n_in);
    t.to_float(w.tensor.row(o), w.dequant.data() + o * n_in, n_in);
  }
  return w;
}

// Types matmul supports and that the table can quantize (to make test data).
std::vector<DType> testable_types() {
  std::vector<DType> types;
  for (int i = 0; i < dtype_count(); ++i) {
    const DTypeTraits& t = dtype_traits_at(i);
    if (matmul_supports(t.type) && t.from_float != nullptr) types.push_back(t.type);
  }
  return types;
}

// Row lengths valid for `type`: awkward ones for plain types, 1 and 3 blocks otherwise.
std::vector<int64_t> n_in_sizes(DType type) {
  const int64_t bs = dtype_traits(type)->block_size;
  if (bs == 1) return {1, 7, 33, 300};
  return {bs, 3 * bs};
}

// For each output element, the bound on |matmul - matmul_ref| the path allows.
std::vector<double> tolerances(const Weights& w, const std::vector<float>& x, int64_t n_tokens, int64_t n_out,
                               int64_t n_in) {
  const bool quantized_act = matmul_quantizes_activations(w.tensor.dtype, n_tokens);
  const bool split_act = matmul_splits_activations(w.tensor.dtype, n_tokens);
  std::vector<double> tol(size_t(n_tokens * n_out));
  for (int64_t t = 0; t < n_tokens; ++t) {
    double x_max = 0.0;
    for (int64_t i = 0; i < n_in; ++i) x_max = std::max(x_max, std::fabs(double(x[size_t(t * n_in + i)])));
    for (int64_t o = 0; o < n_out; ++o) {
      double abs_sum = 0.0, w_abs_sum = 0.0;
      for (int64_t i = 0; i < n_in; ++i) {
        const double wi = std::fabs(double(w.dequant[size_t(o * n_in + i)]));
        abs_sum += wi * std::fabs(double(x[size_t(t * n_in + i)]));
        w_abs_sum += wi;
      }
      // F32 rounding of n_in products and sums, and for an 8-bit activation
      // at most half a step (x_max / 127 / 2, or less: the step is set by the
      // largest |x| of the element's block) per element.
      double bound = 4.0 * double(n_in) * 1.2e-7 * abs_sum + 1e-6;
      if (quantized_act) bound += w_abs_sum * x_max / 254.0 * 1.01;
      if (split_act) bound += std::ldexp(1.0, -15) * abs_sum;
      tol[size_t(t * n_out + o)] = bound;
    }
  }
  return tol;
}

class MatmulTest : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!cpu_supports(GetParam())) GTEST_SKIP() << "this CPU lacks " << isa_name(GetParam()) << ": variant not tested";
    cap_isa(GetParam());
  }
  void TearDown() override { cap_isa(Isa::kAvx512); }
};

TEST_P(MatmulTest, MatchesReferenceForEveryTypeAndShape) {
  const std::vector<DType> types = testable_types();
  ASSERT_FALSE(types.empty());
  for (DType type : types) {
    for (int64_t n_in : n_in_sizes(type)) {
      for (int64_t n_out : {1, 3, 17, 65}) {
        const Weights w = make_weights(type, n_out, n_in, uint32_t(n_in * 131 + n_out));
        const int64_t gemm_min = matmul_gemm_min_tokens(type);  // both paths, and the switch between them
        for (int64_t n_tokens : {int64_t(1), int64_t(2), int64_t(3), int64_t(7), int64_t(33), gemm_min - 1, gemm_min,
                                 gemm_min + 1}) {
          SCOPED_TRACE(std::string(dtype_name(type)) + " n_tokens=" + std::to_string(n_tokens) +
                       " n_out=" + std::to_string(n_out) + " n_in=" + std::to_string(n_in));
          const std::vector<float> x = random_floats(n_tokens * n_in, uint32_t(n_tokens * 7 + n_in));
          std::vector<float> got(size_t(n_tokens * n_out), NAN), want(got.size(), NAN);
          const Tensor xt = make_tensor(DType::F32, {n_tokens, n_in}, const_cast<float*>(x.data()));
          matmul(make_tensor(DType::F32, {n_tokens, n_out}, got.data()), w.tensor, xt);
          matmul_ref(make_tensor(DType::F32, {n_tokens, n_out}, want.data()), w.tensor, xt);
          const std::vector<double> tol = tolerances(w, x, n_tokens, n_out, n_in);
          for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], tol[i]) << "element " << i;
        }
      }
    }
  }
}

// Below matmul_gemm_min_tokens, matmul is the quantized-activation dot product:
// compare it with vec_dot_ref on the reference-quantized activations, and
// check that each token's result is what it gets on its own, bit for bit.
TEST_P(MatmulTest, DotPathMatchesQuantizedActivationReference) {
  for (DType type : testable_types()) {
    const DTypeTraits& wt = *dtype_traits(type);
    const DTypeTraits& at = *dtype_traits(wt.vec_dot_type);
    for (int64_t n_in : n_in_sizes(type)) {
      const int64_t n_out = 17, n_tokens = std::min<int64_t>(matmul_gemm_min_tokens(type) - 1, 9);
      const Weights w = make_weights(type, n_out, n_in, 5);
      const std::vector<float> x = random_floats(n_tokens * n_in, 6);
      std::vector<float> got(static_cast<size_t>(n_tokens * n_out));
      matmul(make_tensor(DType::F32, {n_tokens, n_out}, got.data()), w.tensor,
             make_tensor(DType::F32, {n_tokens, n_in}, const_cast<float*>(x.data())));
      std::vector<uint8_t> xq(size_t(*dtype_row_bytes(at.type, n_in)));
      for (int64_t t = 0; t < n_tokens; ++t) {
        SCOPED_TRACE(std::string(wt.name) + " n_in=" + std::to_string(n_in) + " token " + std::to_string(t));
        const float* xt = x.data() + t * n_in;
        at.from_float(xt, xq.data(), n_in);
        std::vector<float> alone(static_cast<size_t>(n_out));
        matmul(make_tensor(DType::F32, {1, n_out}, alone.data()), w.tensor,
               make_tensor(DType::F32, {1, n_in}, const_cast<float*>(xt)));
        for (int64_t o = 0; o < n_out; ++o) {
          const float g = got[size_t(t * n_out + o)];
          EXPECT_EQ(fp32_to_bits(g), fp32_to_bits(alone[size_t(o)])) << "row " << o;
          const float want = wt.vec_dot_ref(n_in, w.tensor.row(o), xq.data());
          double abs_sum = 0.0;
          for (int64_t i = 0; i < n_in; ++i) abs_sum += std::fabs(double(w.dequant[size_t(o * n_in + i)]) * xt[i]);
          ASSERT_NEAR(g, want, 4.0 * double(n_in) * 1.2e-7 * abs_sum * 1.1 + 1e-5) << "row " << o;
        }
      }
    }
  }
}

TEST_P(MatmulTest, BitIdenticalForAnyThreadCount) {
  for (DType type : testable_types()) {
    const int64_t n_in = std::max<int64_t>(512, dtype_traits(type)->block_size * 2);
    const int64_t n_out = 130;
    const Weights w = make_weights(type, n_out, n_in, 9);
    for (int64_t n_tokens : {int64_t(1), int64_t(5), matmul_gemm_min_tokens(type) + 1}) {
      SCOPED_TRACE(std::string(dtype_name(type)) + " n_tokens=" + std::to_string(n_tokens));
      const std::vector<float> x = random_floats(n_tokens * n_in, 10);
      const Tensor xt = make_tensor(DType::F32, {n_tokens, n_in}, const_cast<float*>(x.data()));
      expect_same_bits_on_any_thread_count([&] {
        std::vector<float> y(size_t(n_tokens * n_out));
        matmul(make_tensor(DType::F32, {n_tokens, n_out}, y.data()), w.tensor, xt);
        return y;
      });
    }
  }
}

// The two-step dot path (convert each activation row once, then every
// thread of a parallel region takes its share of the rows) gives matmul's
// bits, with several tokens and a partial last tile.
TEST_P(MatmulTest, DotsSharedInARegionMatchMatmul) {
  for (DType type : testable_types()) {
    const int64_t n_in = n_in_sizes(type).back(), n_out = 37, n_tokens = 3;
    SCOPED_TRACE(dtype_name(type));
    const Weights w = make_weights(type, n_out, n_in, 11);
    std::vector<float> x = random_floats(n_tokens * n_in, 12);
    std::vector<float> want(size_t(n_tokens * n_out)), got(size_t(n_tokens * n_out));
    matmul(make_tensor(DType::F32, {n_tokens, n_out}, want.data()), w.tensor,
           make_tensor(DType::F32, {n_tokens, n_in}, x.data()));
    const int64_t row_bytes = matmul_act_row_bytes(type, n_in);
    std::vector<uint8_t> act(size_t(n_tokens * row_bytes));
    for (int64_t t = 0; t < n_tokens; ++t)
      matmul_convert_act(type, x.data() + t * n_in, n_in, act.data() + t * row_bytes);
#pragma omp parallel num_threads(3)
    matmul_dots_shared(got.data(), n_out, w.tensor, act.data(), row_bytes, n_tokens);
    EXPECT_TRUE(same_bits(got, want));
  }
}

// Strided views (weight rows taken from a wider matrix, padded x and y rows)
// give the same bits as contiguous copies, and leave the padding alone.
TEST_P(MatmulTest, StridedViewsMatchContiguous) {
  for (DType type : testable_types()) {
    const int64_t bs = dtype_traits(type)->block_size;
    const int64_t n_in = 2 * std::max<int64_t>(bs, 16), n_out = 19;
    const Weights wide = make_weights(type, n_out, 2 * n_in, 11);
    Tensor w = make_tensor(type, {n_out, n_in}, wide.tensor.data);
    w.stride[0] = wide.tensor.stride[0];
    const uint64_t w_row_bytes = *dtype_row_bytes(type, n_in);
    std::vector<uint8_t> w_copy(size_t(w_row_bytes) * size_t(n_out));
    for (int64_t o = 0; o < n_out; ++o) std::memcpy(w_copy.data() + o * w_row_bytes, w.row(o), w_row_bytes);
    const Tensor w_contig = make_tensor(type, {n_out, n_in}, w_copy.data());
    for (int64_t n_tokens : {int64_t(1), int64_t(5), matmul_gemm_min_tokens(type) + 1}) {
      SCOPED_TRACE(std::string(dtype_name(type)) + " n_tokens=" + std::to_string(n_tokens));
      const int64_t x_ld = n_in + 3, y_ld = n_out + 5;
      std::vector<float> x = random_floats(n_tokens * x_ld, 12), x_copy(size_t(n_tokens * n_in));
      for (int64_t t = 0; t < n_tokens; ++t)
        std::copy_n(x.begin() + t * x_ld, n_in, x_copy.begin() + t * n_in);
      std::vector<float> y(size_t(n_tokens * y_ld), -7.0f), want(size_t(n_tokens * n_out));
      Tensor xt = make_tensor(DType::F32, {n_tokens, n_in}, x.data());
      xt.stride[0] = x_ld * 4;
      Tensor yt = make_tensor(DType::F32, {n_tokens, n_out}, y.data());
      yt.stride[0] = y_ld * 4;
      matmul(yt, w, xt);
      matmul(make_tensor(DType::F32, {n_tokens, n_out}, want.data()), w_contig,
             make_tensor(DType::F32, {n_tokens, n_in}, x_copy.data()));
      for (int64_t t = 0; t < n_tokens; ++t) {
        for (int64_t o = 0; o < n_out; ++o)
          EXPECT_EQ(fp32_to_bits(y[size_t(t * y_ld + o)]), fp32_to_bits(want[size_t(t * n_out + o)]))
              << "token " << t << " out " << o;
        for (int64_t o = n_out; o < y_ld; ++o) EXPECT_EQ(y[size_t(t * y_ld + o)], -7.0f) << "padding overwritten";
      }
    }
  }
}

// gemm_f32 against a double-precision product, k across several packed blocks.
TEST_P(MatmulTest, GemmF32MatchesDoubleReference) {
  for (int64_t m : {1, 2, 3, 5, 7, 17, 33}) {
    for (int64_t n : {1, 3, 17, 33, 65}) {
      for (int64_t k : {1, 7, 31, 257, 600}) {
        SCOPED_TRACE("m=" + std::to_string(m) + " n=" + std::to_string(n) + " k=" + std::to_string(k));
        const std::vector<float> a = random_floats(m * k, uint32_t(m + 3 * n + 7 * k));
        const std::vector<float> b = random_floats(n * k, uint32_t(m * n + k));
        std::vector<float> c(size_t(m * n), NAN);
        gemm_f32(m, n, k, a.data(), k, b.data(), k, c.data(), n);
        for (int64_t i = 0; i < m; ++i) {
          for (int64_t j = 0; j < n; ++j) {
            double want = 0.0, abs_sum = 0.0;
            for (int64_t p = 0; p < k; ++p) {
              want += double(a[size_t(i * k + p)]) * double(b[size_t(j * k + p)]);
              abs_sum += std::fabs(double(a[size_t(i * k + p)]) * double(b[size_t(j * k + p)]));
            }
            ASSERT_NEAR(c[size_t(i * n + j)], want, double(k) * 1.2e-7 * abs_sum + 1e-6) << "c[" << i << ", " << j << "]";
          }
        }
      }
    }
  }
}

// The SIMD micro-kernels do the scalar kernel's fused multiply-adds in the
// same order, and convert F16 / BF16 weights exactly, so they agree bit for bit.
TEST_P(MatmulTest, GemmF32VariantsMatchScalarBitForBit) {
  const int64_t m = 37, n = 70, k = 530;
  const std::vector<float> a = random_floats(m * k, 1);
  for (DType b_type : {DType::F32, DType::F16, DType::BF16}) {
    SCOPED_TRACE(dtype_name(b_type));
    const Weights b = make_weights(b_type, n, k, 2);
    std::vector<float> got(size_t(m * n)), want(size_t(m * n));
    gemm_f32(m, n, k, a.data(), k, b_type, b.tensor.data, b.tensor.stride[0], got.data(), n);
    {
      IsaCap scalar(Isa::kScalar);
      gemm_f32(m, n, k, a.data(), k, b_type, b.tensor.data, b.tensor.stride[0], want.data(), n);
    }
    cap_isa(GetParam());
    EXPECT_TRUE(same_bits(got, want));
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, MatmulTest, ::testing::Values(Isa::kScalar, Isa::kAvx2, Isa::kAvx512), isa_test_name);

}  // namespace
}  // namespace aigc
