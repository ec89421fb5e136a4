// Tests for conv2d.h: the optimised path against the scalar reference over
// kernel sizes 1, 3, 4, strides 1 and 2, paddings 0 and 1, odd spatial sizes
// and channel counts that leave tile edges; F16 and BF16 weights; the AMX path
// (within its bound; exact where every part is representable) and the
// AVX-512 FMA one; a hand-computed case; thread-count independence.
#include "kernels/conv2d.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "core/fp16.h"
#include "kernels/op_test_util.h"

namespace aigc {
namespace {

constexpr double kTol = 1e-5;  // relative to the output's magnitude

int64_t out_numel(const Conv2dShape& s) { return s.n * s.c_out * s.out_h() * s.out_w(); }

class Conv2dTest : public IsaTest {};

TEST_P(Conv2dTest, MatchesReference) {
  struct Channels { int64_t c_in, c_out; };
  struct Spatial { int64_t h, w; };
  int cases = 0;
  for (int64_t k : {1, 3, 4}) {
    for (int64_t stride : {1, 2}) {
      for (int64_t pad : {0, 1}) {
        for (const Channels ch : {Channels{1, 1}, Channels{3, 7}, Channels{17, 13}}) {
          for (const Spatial sp : {Spatial{5, 7}, Spatial{9, 17}, Spatial{4, 4}}) {
            Conv2dShape s;
            s.n = 2, s.c_in = ch.c_in, s.h = sp.h, s.w = sp.w, s.c_out = ch.c_out, s.kh = k, s.kw = k;
            s.stride = stride, s.pad = pad;
            if (s.h + 2 * pad < k || s.w + 2 * pad < k) continue;
            const uint32_t seed = uint32_t(++cases);
            const auto in = random_floats(s.n * s.c_in * s.h * s.w, seed);
            const auto w = random_floats(s.c_out * s.c_in * k * k, seed + 1000);
            const auto bias = random_floats(s.c_out, seed + 2000);
            std::vector<float> want(out_numel(s)), got(out_numel(s), 12345.0f);
            conv2d_ref(want.data(), in.data(), w.data(), DType::F32, bias.data(), s);
            conv2d(got.data(), in.data(), w.data(), DType::F32, bias.data(), s);
            EXPECT_TRUE(all_finite(got));
            EXPECT_LE(rel_error(got, want), kTol) << "k=" << k << " stride=" << stride << " pad=" << pad
                                                  << " c=" << ch.c_in << "->" << ch.c_out << " hw=" << sp.h << "x"
                                                  << sp.w;
          }
        }
      }
    }
  }
  EXPECT_GT(cases, 50);
}

TEST_P(Conv2dTest, LargeChannelsAndTilesMatchReference) {
  // More than one reduction block (K = 40 * 9 > 256), pixel tile and channel chunk.
  Conv2dShape s;
  s.n = 1, s.c_in = 40, s.h = 13, s.w = 11, s.c_out = 100, s.kh = 3, s.kw = 3, s.stride = 1, s.pad = 1;
  const auto in = random_floats(s.c_in * s.h * s.w, 1);
  const auto w = random_floats(s.c_out * s.c_in * 9, 2);
  std::vector<float> want(out_numel(s)), got(out_numel(s));
  conv2d_ref(want.data(), in.data(), w.data(), DType::F32, nullptr, s);
  conv2d(got.data(), in.data(), w.data(), DType::F32, nullptr, s);
  EXPECT_LE(rel_error(got, want), kTol);
}

TEST_P(Conv2dTest, BothIm2colModesMatchReferenceAndEachOther) {
  // One thread: enough pixel tiles for per-tile im2col; eight threads: too
  // few, so the whole sample's im2col is shared. Same bits either way.
  for (int64_t stride : {1, 2}) {
    Conv2dShape s;
    s.n = 2, s.c_in = 5, s.h = 67, s.w = 71, s.c_out = 14, s.kh = 3, s.kw = 3, s.stride = stride, s.pad = 1;
    const auto in = random_floats(s.n * s.c_in * s.h * s.w, 10);
    const auto w = random_floats(s.c_out * s.c_in * 9, 11);
    const auto bias = random_floats(s.c_out, 12);
    std::vector<float> want(out_numel(s)), tiled(out_numel(s)), shared(out_numel(s));
    conv2d_ref(want.data(), in.data(), w.data(), DType::F32, bias.data(), s);
    {
      ThreadCount t(1);
      conv2d(tiled.data(), in.data(), w.data(), DType::F32, bias.data(), s);
    }
    {
      ThreadCount t(8);
      conv2d(shared.data(), in.data(), w.data(), DType::F32, bias.data(), s);
    }
    EXPECT_LE(rel_error(tiled, want), kTol) << "stride=" << stride;
    EXPECT_TRUE(same_bits(tiled, shared)) << "stride=" << stride;
  }
}

TEST_P(Conv2dTest, F16AndBf16WeightsMatchReference) {
  // K = 35 * 9 > 256: more than one reduction block; 8 channels: an edge block.
  Conv2dShape s;
  s.n = 2, s.c_in = 35, s.h = 7, s.w = 9, s.c_out = 8, s.kh = 3, s.kw = 3, s.stride = 2, s.pad = 1;
  const auto in = random_floats(s.n * s.c_in * s.h * s.w, 3);
  const auto w = random_floats(s.c_out * s.c_in * 9, 4);
  const auto bias = random_floats(s.c_out, 5);
  for (DType type : {DType::F16, DType::BF16}) {
    std::vector<uint16_t> w16(w.size());
    for (size_t i = 0; i < w.size(); ++i) w16[i] = type == DType::F16 ? fp32_to_fp16(w[i]) : fp32_to_bf16(w[i]);
    std::vector<float> want(out_numel(s)), got(out_numel(s));
    conv2d_ref(want.data(), in.data(), w16.data(), type, bias.data(), s);
    conv2d(got.data(), in.data(), w16.data(), type, bias.data(), s);
    if (!amx_usable()) {
      EXPECT_LE(rel_error(got, want), kTol) << dtype_name(type);
      continue;
    }
    // On AMX the activations keep 16 bits against F16 / BF16 weights:
    // |error| <= 2^-15 sum |w x| (conv2d.h) plus float rounding.
    std::vector<float> abs_in(in.size()), abs_w(w.size()), sum_abs(out_numel(s));
    for (size_t i = 0; i < in.size(); ++i) abs_in[i] = std::fabs(in[i]);
    for (size_t i = 0; i < w.size(); ++i)
      abs_w[i] = std::fabs(type == DType::F16 ? fp16_to_fp32(w16[i]) : bf16_to_fp32(w16[i]));
    conv2d_ref(sum_abs.data(), abs_in.data(), abs_w.data(), DType::F32, nullptr, s);
    double ref_max = 0;
    for (float x : want) ref_max = std::max(ref_max, double(std::fabs(x)));
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_LE(std::fabs(double(got[i]) - want[i]), std::ldexp(double(sum_abs[i]), -15) + kTol * ref_max)
          << dtype_name(type) << " element " << i;
  }
}

AIGC_INSTANTIATE_ISA_TEST(Conv2dTest);

// The AVX-512 FMA path where the CPU also has AMX (the tests above then run AMX).
TEST(Conv2dFma, Avx512WithoutAmxMatchesReference) {
  if (!cpu_supports(Isa::kAvx512)) GTEST_SKIP() << "this CPU lacks avx512: variant not tested";
  allow_amx(false);
  Conv2dShape s;
  s.n = 2, s.c_in = 35, s.h = 13, s.w = 11, s.c_out = 40, s.kh = 3, s.kw = 3, s.stride = 2, s.pad = 1;
  const auto in = random_floats(s.n * s.c_in * s.h * s.w, 21);
  const auto w = random_floats(s.c_out * s.c_in * 9, 22);
  std::vector<uint16_t> w16(w.size());
  for (size_t i = 0; i < w.size(); ++i) w16[i] = fp32_to_fp16(w[i]);
  std::vector<float> want(out_numel(s)), got(out_numel(s));
  conv2d_ref(want.data(), in.data(), w16.data(), DType::F16, nullptr, s);
  conv2d(got.data(), in.data(), w16.data(), DType::F16, nullptr, s);
  EXPECT_LE(rel_error(got, want), kTol);
  allow_amx(true);
}

// F16 weights and integer inputs where one side needs two bf16 parts and the
// other one, so the products conv2d sums on AMX are every product, and every
// sum is exact in float: the result must equal the reference exactly.
void check_exact_amx(int w_max, int w_shift, int x_max, uint32_t seed) {
  Conv2dShape s;
  s.n = 1, s.c_in = 4, s.h = 12, s.w = 13, s.c_out = 37, s.kh = 3, s.kw = 3, s.stride = 1, s.pad = 1;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> w_dist(-w_max, w_max), x_dist(-x_max, x_max);
  std::vector<uint16_t> w16(size_t(s.c_out * s.c_in * 9));
  for (uint16_t& x : w16) x = fp32_to_fp16(std::ldexp(float(w_dist(rng)), -w_shift));
  std::vector<float> in(size_t(s.c_in * s.h * s.w));
  for (float& x : in) x = float(x_dist(rng));
  std::vector<float> want(out_numel(s)), got(out_numel(s));
  conv2d_ref(want.data(), in.data(), w16.data(), DType::F16, nullptr, s);
  conv2d(got.data(), in.data(), w16.data(), DType::F16, nullptr, s);
  EXPECT_TRUE(same_bits(got, want)) << "relative difference " << rel_error(got, want);
}

TEST(Conv2dAmx, ExactWhereEveryPartIsRepresentable) {
  if (!amx_usable()) GTEST_SKIP() << "no AMX here (CPU or OS): the AMX path not tested";
  check_exact_amx(1000, 10, 256, 1);  // weights of 10 bits (two parts), inputs of 8 (one)
  check_exact_amx(256, 0, 1000, 2);   // weights of 8 bits (one part), inputs of 10 (two)
}

TEST(Conv2dScalar, PortableMicroKernelMatchesReference) {
  IsaCap cap(Isa::kScalar);
  Conv2dShape s;
  s.n = 1, s.c_in = 7, s.h = 9, s.w = 11, s.c_out = 13, s.kh = 4, s.kw = 4, s.stride = 2, s.pad = 1;
  const auto in = random_floats(s.c_in * s.h * s.w, 8);
  const auto w = random_floats(s.c_out * s.c_in * 16, 9);
  std::vector<float> want(out_numel(s)), got(out_numel(s));
  conv2d_ref(want.data(), in.data(), w.data(), DType::F32, nullptr, s);
  conv2d(got.data(), in.data(), w.data(), DType::F32, nullptr, s);
  EXPECT_LE(rel_error(got, want), kTol);
}

TEST(Conv2dReference, HandComputed3x3Padding1) {
  // 1 channel 2x2 input, all-ones 3x3 kernel, pad 1: each output sums the whole input.
  Conv2dShape s;
  s.h = 2, s.w = 2, s.kh = 3, s.kw = 3, s.pad = 1;
  const std::vector<float> in = {1, 2, 3, 4};
  const std::vector<float> w(9, 1.0f);
  const float bias = 0.5f;
  std::vector<float> out(4);
  conv2d_ref(out.data(), in.data(), w.data(), DType::F32, &bias, s);
  for (float y : out) EXPECT_EQ(y, 10.5f);
}

TEST(Conv2dThreads, OneAndTwoThreadsBitIdentical) {
  Conv2dShape s;
  s.n = 2, s.c_in = 9, s.h = 19, s.w = 21, s.c_out = 110, s.kh = 3, s.kw = 3, s.stride = 1, s.pad = 1;
  const auto in = random_floats(s.n * s.c_in * s.h * s.w, 6);
  const auto w = random_floats(s.c_out * s.c_in * 9, 7);
  std::vector<float> a(out_numel(s)), b(out_numel(s));
  {
    ThreadCount t(1);
    conv2d(a.data(), in.data(), w.data(), DType::F32, nullptr, s);
  }
  {
    ThreadCount t(2);
    conv2d(b.data(), in.data(), w.data(), DType::F32, nullptr, s);
  }
  EXPECT_TRUE(same_bits(a, b));
}

}  // namespace
}  // namespace aigc
