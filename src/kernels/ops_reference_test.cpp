// Compares the reference kernels (and the dispatched variants) with PyTorch,
// for the ops whose math is easy to get subtly wrong: GroupNorm, conv2d,
// RoPE in both modes, GELU (tanh and erf), SiLU and bilinear upsampling. The fixtures in
// src/kernels/testdata/ are written by tools/reference/ops_reference.py; each
// is float32 arrays back to back, in the order that script documents.
#include <cstdio>
#include <string>

#include "kernels/activation.h"
#include "kernels/conv2d.h"
#include "kernels/norm.h"
#include "kernels/op_test_util.h"
#include "kernels/rope.h"
#include "kernels/upsample.h"

namespace aigc {
namespace {

constexpr double kTol = 1e-5;  // relative to the output's magnitude

// Reads a fixture and hands out its arrays in order.
class Fixture {
 public:
  explicit Fixture(const std::string& name) {
    const std::string path = std::string(AIGC_SOURCE_DIR) + "/src/kernels/testdata/" + name;
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return;
    float buf[1024];
    size_t n;
    while ((n = std::fread(buf, sizeof(float), 1024, f)) > 0) data_.insert(data_.end(), buf, buf + n);
    std::fclose(f);
  }
  bool loaded() const { return !data_.empty(); }
  std::vector<float> take(int64_t n) {
    std::vector<float> out;
    if (pos_ + size_t(n) <= data_.size()) out.assign(data_.begin() + pos_, data_.begin() + pos_ + size_t(n));
    pos_ += size_t(n);
    return out;
  }
  bool fully_read() const { return pos_ == data_.size(); }

 private:
  std::vector<float> data_;
  size_t pos_ = 0;
};

TEST(OpsVsTorch, GroupNorm) {
  Fixture fx("group_norm.f32");
  ASSERT_TRUE(fx.loaded());
  const int64_t N = 2, C = 6, H = 5, W = 3, G = 3, n = N * C * H * W;
  const auto x = fx.take(n), w = fx.take(C), b = fx.take(C), want = fx.take(n);
  ASSERT_TRUE(fx.fully_read());
  std::vector<float> got(n);
  group_norm_ref(got.data(), x.data(), w.data(), b.data(), 1e-5f, N, C, H, W, G);
  EXPECT_LE(rel_error(got, want), kTol);
  group_norm(got.data(), x.data(), w.data(), b.data(), 1e-5f, N, C, H, W, G);
  EXPECT_LE(rel_error(got, want), kTol);
}

TEST(OpsVsTorch, Conv2d) {
  Fixture fx("conv2d.f32");
  ASSERT_TRUE(fx.loaded());
  struct Case { int64_t c_in, c_out, h, w, k, stride, pad; };
  for (const Case c : {Case{3, 4, 7, 6, 3, 1, 1}, Case{3, 4, 7, 6, 4, 2, 1}, Case{5, 2, 5, 5, 1, 1, 0},
                       Case{2, 3, 6, 9, 3, 2, 0}}) {
    Conv2dShape s;
    s.n = 2, s.c_in = c.c_in, s.h = c.h, s.w = c.w, s.c_out = c.c_out, s.kh = c.k, s.kw = c.k;
    s.stride = c.stride, s.pad = c.pad;
    const int64_t n_out = s.n * s.c_out * s.out_h() * s.out_w();
    const auto x = fx.take(s.n * s.c_in * s.h * s.w), w = fx.take(s.c_out * s.c_in * c.k * c.k);
    const auto b = fx.take(s.c_out), want = fx.take(n_out);
    ASSERT_EQ(int64_t(want.size()), n_out) << "fixture too short";
    std::vector<float> got(n_out);
    conv2d_ref(got.data(), x.data(), w.data(), DType::F32, b.data(), s);
    EXPECT_LE(rel_error(got, want), kTol) << "k=" << c.k << " stride=" << c.stride << " pad=" << c.pad;
    conv2d(got.data(), x.data(), w.data(), DType::F32, b.data(), s);
    EXPECT_LE(rel_error(got, want), kTol) << "k=" << c.k << " stride=" << c.stride << " pad=" << c.pad;
  }
  EXPECT_TRUE(fx.fully_read());
}

TEST(OpsVsTorch, RopeNormalAndNeox) {
  Fixture fx("rope.f32");
  ASSERT_TRUE(fx.loaded());
  const int64_t T = 3, H = 2, D = 8, n = T * H * D;
  const std::vector<int32_t> pos = {0, 5, 17};
  const auto x = fx.take(n);
  for (RopeMode mode : {RopeMode::kNormal, RopeMode::kNeox}) {
    for (float freq_scale : {1.0f, 0.5f}) {
      const auto want = fx.take(n);
      auto got = x;
      rope_ref(got.data(), pos.data(), mode, 10000.0f, freq_scale, T, H, D);
      EXPECT_LE(rel_error(got, want), kTol) << "neox=" << (mode == RopeMode::kNeox) << " scale=" << freq_scale;
      got = x;
      rope(got.data(), pos.data(), mode, 10000.0f, freq_scale, T, H, D);
      EXPECT_LE(rel_error(got, want), kTol) << "neox=" << (mode == RopeMode::kNeox) << " scale=" << freq_scale;
    }
  }
  EXPECT_TRUE(fx.fully_read());
}

TEST(OpsVsTorch, GeluAndSilu) {
  Fixture fx("activations.f32");
  ASSERT_TRUE(fx.loaded());
  const int64_t n = 64;
  const auto x = fx.take(n), gelu_t = fx.take(n), gelu_e = fx.take(n), silu_want = fx.take(n);
  ASSERT_TRUE(fx.fully_read());
  std::vector<float> got(n);
  gelu_tanh_ref(got.data(), x.data(), n);
  EXPECT_LE(rel_error(got, gelu_t), kTol);
  gelu_tanh(got.data(), x.data(), n);
  EXPECT_LE(rel_error(got, gelu_t), kTol);
  gelu_erf_ref(got.data(), x.data(), n);
  EXPECT_LE(rel_error(got, gelu_e), kTol);
  gelu_erf(got.data(), x.data(), n);
  EXPECT_LE(rel_error(got, gelu_e), kTol);
  silu_ref(got.data(), x.data(), n);
  EXPECT_LE(rel_error(got, silu_want), kTol);
  silu(got.data(), x.data(), n);
  EXPECT_LE(rel_error(got, silu_want), kTol);
  // The forms differ: tanh GELU is an approximation, visibly apart from erf GELU.
  EXPECT_GT(rel_error(gelu_t, gelu_e), 1e-5);
}

TEST(OpsVsTorch, UpsampleBilinear) {
  Fixture fx("upsample_bilinear.f32");
  ASSERT_TRUE(fx.loaded());
  const int64_t P = 2, H = 5, W = 7;
  const auto x = fx.take(P * H * W);
  struct Size { int64_t oh, ow; };
  for (const Size sz : {Size{10, 14}, Size{8, 3}}) {
    const auto want = fx.take(P * sz.oh * sz.ow);
    std::vector<float> got(want.size());
    upsample_bilinear_ref(got.data(), x.data(), P, H, W, sz.oh, sz.ow);
    EXPECT_LE(rel_error(got, want), kTol) << sz.oh << "x" << sz.ow;
    upsample_bilinear(got.data(), x.data(), P, H, W, sz.oh, sz.ow);
    EXPECT_LE(rel_error(got, want), kTol) << sz.oh << "x" << sz.ow;
  }
  EXPECT_TRUE(fx.fully_read());
}

}  // namespace
}  // namespace aigc
