// Tests for winograd_conv3x3.h against the scalar direct convolution
// (conv2d_ref): awkward sizes (odd maps, 1x1 maps, channel counts off the
// micro-kernel's blocks, more input channels than one reduction block, rows of
// tiles wider than one work piece, batch 2), F32 / F16 / BF16 weights, every
// ISA variant; chunks and thread-count independence.
#include "kernels/winograd_conv3x3.h"

#include <string>

#include "core/fp16.h"
#include "kernels/conv2d.h"
#include "kernels/op_test_util.h"

namespace aigc {
namespace {

constexpr double kTol = 1e-5;  // of max |ref|: float rounding of the transforms

class WinogradTest : public IsaTest {};

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
  EXPECT_LT(rel_error(got, want), kTol);
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
