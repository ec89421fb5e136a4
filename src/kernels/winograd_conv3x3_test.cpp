// Tests for winograd_conv3x3.h against the scalar direct convolution
// (conv2d_ref): awkward sizes (odd maps, 1x1 maps, channel counts off the
// micro-kernel's blocks, more input channels than one reduction block, rows of
// tiles wider than one work piece, batch 2), F32 / F16 / BF16 weights, every
// ISA variant and the AMX path (exact where every bf16 part and sum is
// representable, within its derived bound on random data); chunks and
// thread-count independence.
#include "kernels/winograd_conv3x3.h"

#include <cmath>
#include <random>
#include <string>

#include "core/fp16.h"
#include "kernels/conv2d.h"
#include "kernels/op_test_util.h"

namespace aigc {
namespace {

constexpr double kTol = 1e-5;  // of max |ref|: float rounding of the transforms

class WinogradTest : public IsaTest {};

// The AMX path's bound (winograd_conv3x3.h): each element of M within
// 2^-15 sum_ci |U V|; |U| <= 2.25 max |g| (row sums of |G|: 1, 1.5, 1.5, 1),
// |V| <= 4 max |d| (of |B^T|: 2), and an output pixel sums 9 elements of M:
// |error| <= 2^-15 * 81 * C_in * max |g| * max |d|, plus float rounding.
double amx_bound(int64_t c_in, const std::vector<float>& g, const std::vector<float>& d) {
  float g_max = 0, d_max = 0;
  for (float x : g) g_max = std::max(g_max, std::fabs(x));
  for (float x : d) d_max = std::max(d_max, std::fabs(x));
  return std::ldexp(81.0 * double(c_in) * g_max * d_max, -15);
}

void check_against_reference(int64_t n, int64_t c_in, int64_t c_out, int64_t h, int64_t w, DType type,
                             uint32_t seed) {
  SCOPED_TRACE(std::to_string(n) + "x" + std::to_string(c_in) + "->" + std::to_string(c_out) + " " +
               std::to_string(h) + "x" + std::to_string(w) + " " + dtype_name(type));
  const int64_t n_w = c_out * c_in * 9;
  std::vector<float> wf = random_floats(n_w, seed, -0.3f, 0.3f);
  std::vector<uint16_t> w16(static_cast<size_t>(n_w));
  for (int64_t i = 0; i < n_w; ++i) {
    w16[i] = type == DType::F16 ? fp32_to_fp16(wf[i]) : fp32_to_bf16(wf[i]);
    if (type != DType::F32) wf[i] = type == DType::F16 ? fp16_to_fp32(w16[i]) : bf16_to_fp32(w16[i]);
  }
  const auto in = random_floats(n * c_in * h * w, seed + 1), bias = random_floats(c_out, seed + 2);
  std::vector<float> got(static_cast<size_t>(n * c_out * h * w), 12345.0f), want(got.size());
  conv3x3_winograd(got.data(), in.data(), type == DType::F32 ? static_cast<const void*>(wf.data()) : w16.data(), type,
                   bias.data(), n, c_in, c_out, h, w);
  Conv2dShape s;
  s.n = n, s.c_in = c_in, s.c_out = c_out, s.h = h, s.w = w, s.kh = 3, s.kw = 3, s.pad = 1;
  conv2d_ref(want.data(), in.data(), wf.data(), DType::F32, bias.data(), s);
  EXPECT_TRUE(all_finite(got));
  if (!amx_usable()) {
    EXPECT_LT(rel_error(got, want), kTol);
    return;
  }
  double worst = 0, ref_max = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    worst = std::max(worst, std::fabs(double(got[i]) - double(want[i])));
    ref_max = std::max(ref_max, std::fabs(double(want[i])));
  }
  EXPECT_LE(worst, amx_bound(c_in, wf, in) + kTol * ref_max);
}

TEST_P(WinogradTest, MatchesDirectConvolutionReference) {
  struct Shape { int64_t n, c_in, c_out, h, w; };
  uint32_t seed = 1;
  for (const Shape& sh : {Shape{1, 5, 7, 7, 9}, Shape{1, 3, 13, 1, 1}, Shape{2, 33, 6, 2, 3},
                          Shape{2, 16, 20, 12, 5}, Shape{1, 8, 10, 5, 300}, Shape{1, 300, 7, 3, 5}}) {
    for (DType type : {DType::F32, DType::F16, DType::BF16}) {
      check_against_reference(sh.n, sh.c_in, sh.c_out, sh.h, sh.w, type, seed += 10);
    }
  }
}

AIGC_INSTANTIATE_ISA_TEST(WinogradTest);

// The AVX-512 FMA path where the CPU also has AMX (the test above then runs AMX).
TEST(WinogradFma, Avx512WithoutAmxMatchesReference) {
  if (!cpu_supports(Isa::kAvx512)) GTEST_SKIP() << "this CPU lacks avx512: variant not tested";
  allow_amx(false);
  check_against_reference(2, 33, 40, 9, 7, DType::F16, 5);
  check_against_reference(1, 300, 7, 3, 5, DType::F32, 6);
  allow_amx(true);
}

// Integer inputs and weights on a grid of 2^-g_shift (bias 0) whose
// transforms need at most `g_parts` / `d_parts` bf16 parts with one side in
// a single part, so the three products the AMX path sums are every product,
// and every sum is exact in float: the result must equal the direct
// convolution exactly. Dropping a product pass, or a part, breaks it.
void check_exact_amx(int64_t c_in, int g_shift, int d_max, uint32_t seed) {
  const int64_t n = 1, c_out = 35, h = 9, w = 11;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> g_dist(-2 << g_shift, 2 << g_shift), d_dist(-d_max, d_max);
  std::vector<float> g(static_cast<size_t>(c_out * c_in * 9)), d(static_cast<size_t>(n * c_in * h * w));
  for (float& x : g) x = std::ldexp(float(g_dist(rng)), -g_shift);
  for (float& x : d) x = float(d_dist(rng));
  std::vector<float> got(static_cast<size_t>(n * c_out * h * w)), want(got.size());
  conv3x3_winograd(got.data(), d.data(), g.data(), DType::F32, nullptr, n, c_in, c_out, h, w);
  Conv2dShape s;
  s.n = n, s.c_in = c_in, s.c_out = c_out, s.h = h, s.w = w, s.kh = 3, s.kw = 3, s.pad = 1;
  conv2d_ref(want.data(), d.data(), g.data(), DType::F32, nullptr, s);
  EXPECT_TRUE(same_bits(got, want)) << "max |diff| " << rel_error(got, want) << " of max |ref|";
}

TEST(WinogradAmx, ExactWhereEveryPartIsRepresentable) {
  if (!amx_usable()) GTEST_SKIP() << "no AMX here (CPU or OS): the AMX path not tested";
  // U in one part (quarters up to 4.5), V in two (integers up to 400: 9 bits).
  check_exact_amx(45, 0, 100, 1);
  // U in two parts (256ths, mostly 9 to 11 bits), V in one (integers up to 64).
  check_exact_amx(20, 6, 16, 2);
}

TEST(WinogradScalar, PortableMicroKernelMatchesReference) {
  IsaCap cap(Isa::kScalar);
  check_against_reference(2, 7, 9, 5, 11, DType::F16, 77);
}

// Many chunks of tiles, the last one partial, batch 2, against the direct
// conv2d; the same bits on 1 and 2 threads.
TEST(WinogradThreads, ChunksAndThreads) {
  const int64_t n = 2, c = 40, h = 67, w = 45;  // 34 x 23 tiles: 6 chunks of 128 and 14 per sample
  const auto weight = random_floats(c * c * 9, 4, -0.05f, 0.05f), in = random_floats(n * c * h * w, 5);
  const auto bias = random_floats(c, 6);
  std::vector<float> one(static_cast<size_t>(n * c * h * w)), two(one.size()), direct(one.size());
  {
    ThreadCount t(1);
    conv3x3_winograd(one.data(), in.data(), weight.data(), DType::F32, bias.data(), n, c, c, h, w);
  }
  {
    ThreadCount t(2);
    conv3x3_winograd(two.data(), in.data(), weight.data(), DType::F32, bias.data(), n, c, c, h, w);
  }
  EXPECT_TRUE(same_bits(one, two));
  Conv2dShape s;
  s.n = n, s.c_in = c, s.c_out = c, s.h = h, s.w = w, s.kh = 3, s.kw = 3, s.pad = 1;
  conv2d(direct.data(), in.data(), weight.data(), DType::F32, bias.data(), s);
  EXPECT_LT(rel_error(one, direct), kTol);
}

}  // namespace
}  // namespace aigc
