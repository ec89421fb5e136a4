// Unet: forward passes against the PyTorch reference (tools/reference/image/
// unet.py, written by unet_ref.py with small random UNets) in F32, F16 and
// BF16 weights, the 9-channel variant, odd latent sizes, thread independence, FLOP counts,
// configuration and load errors. Tolerance: max |diff| / max |ref| below
// 1e-3 (the reference runs in float64 on the same, possibly rounded, weights).
#include "image/unet.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/threads.h"
#include "formats/safetensors.h"

namespace aigc {
namespace {

constexpr double kTolerance = 1e-3;

std::string unet_dir() { return std::string(AIGC_BUILD_TESTDATA_DIR) + "/image/unet/"; }

// A safetensors file and the UNet store over it (the file must outlive the views).
struct Checkpoint {
  SafetensorsFile file;
  WeightStore store{"UNet"};
};

std::unique_ptr<Checkpoint> open_checkpoint(const std::string& name) {
  Result<SafetensorsFile> file = SafetensorsFile::open(unet_dir() + name);
  EXPECT_TRUE(file.ok()) << file.status().message();
  if (!file.ok()) return nullptr;
  auto ckpt = std::make_unique<Checkpoint>(Checkpoint{std::move(*file), WeightStore("UNet")});
  ckpt->store.add_from_safetensors(ckpt->file, "model.diffusion_model.");
  return ckpt;
}

// max |a - ref| / max |ref|
double relative_error(const std::vector<float>& a, const Tensor& ref) {
  double max_diff = 0, max_ref = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const float r = ref.ptr<const float>()[i];
    max_diff = std::max(max_diff, std::fabs(double(a[i]) - r));
    max_ref = std::max(max_ref, std::fabs(double(r)));
  }
  return max_diff / max_ref;
}

class UnetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<SafetensorsFile> file = SafetensorsFile::open(unet_dir() + "cases.safetensors");
    ASSERT_TRUE(file.ok()) << file.status().message();
    cases_ = std::make_unique<SafetensorsFile>(std::move(*file));
  }

  Tensor ref(const std::string& name) {
    Result<Tensor> t = cases_->tensor(name);
    EXPECT_TRUE(t.ok()) << t.status().message();
    return t.ok() ? *t : Tensor{};
  }

  int64_t count(const std::string& name) {  // an I64 scalar of the cases
    Result<std::span<const uint8_t>> bytes = cases_->bytes(name);
    EXPECT_TRUE(bytes.ok() && bytes->size() == sizeof(int64_t));
    int64_t v = 0;
    if (bytes.ok() && bytes->size() == sizeof(int64_t)) std::memcpy(&v, bytes->data(), sizeof(v));
    return v;
  }

  // Runs case `c` ("a" .. "e") through `unet`: out [n, out_channels, h, w].
  std::vector<float> run(const Unet& unet, const std::string& c) {
    const Tensor x = ref("x_" + c), context = ref("context_" + c);
    const int64_t n = x.shape[0], h = x.shape[2], w = x.shape[3];
    std::vector<float> out(static_cast<size_t>(n * unet.config().out_channels * h * w));
    Status s = unet.forward(x.ptr<const float>(), n, h, w, ref("t_" + c).ptr<const float>(),
                            context.ptr<const float>(), context.shape[1], out.data());
    EXPECT_TRUE(s.ok()) << s.message();
    return out;
  }

  // Loads `checkpoint` and runs case `c` through it.
  std::vector<float> output_of(const std::string& checkpoint, const std::string& c) {
    std::unique_ptr<Checkpoint> ckpt = open_checkpoint(checkpoint);
    if (!ckpt) return {};
    Result<Unet> unet = Unet::load(ckpt->store);
    EXPECT_TRUE(unet.ok()) << unet.status().message();
    return unet.ok() ? run(*unet, c) : std::vector<float>{};
  }

  // The relative error of `out` against the reference `expected`, printed.
  double error_of(const std::vector<float>& out, const std::string& what, const std::string& expected) {
    const Tensor r = ref(expected);
    if (out.empty() || int64_t(out.size()) != r.numel()) return INFINITY;
    const double err = relative_error(out, r);
    std::printf("  %s vs %s: max|diff|/max|ref| = %.2e\n", what.c_str(), expected.c_str(), err);
    return err;
  }

  std::unique_ptr<SafetensorsFile> cases_;
};

TEST_F(UnetTest, ConfigFromWeights) {
  std::unique_ptr<Checkpoint> small = open_checkpoint("small_f32.safetensors");
  ASSERT_TRUE(small);
  Result<Unet> unet = Unet::load(small->store);
  ASSERT_TRUE(unet.ok()) << unet.status().message();
  const UnetConfig& c = unet->config();
  EXPECT_EQ(c.in_channels, 4);
  EXPECT_EQ(c.out_channels, 4);
  EXPECT_EQ(c.model_channels, 32);
  EXPECT_EQ(c.context_dim, 64);
  EXPECT_EQ(c.n_heads, 8);
  EXPECT_EQ(c.channel_mult, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(c.n_res_blocks, 1);
  EXPECT_EQ(c.attention, (std::vector<bool>{true, true}));
  EXPECT_EQ(c.transformer_depth, 1);

  std::unique_ptr<Checkpoint> inpaint = open_checkpoint("inpaint_f32.safetensors");
  ASSERT_TRUE(inpaint);
  Result<Unet> unet9 = Unet::load(inpaint->store);
  ASSERT_TRUE(unet9.ok()) << unet9.status().message();
  const UnetConfig& c9 = unet9->config();
  EXPECT_EQ(c9.in_channels, 9);
  EXPECT_EQ(c9.channel_mult, (std::vector<int64_t>{1, 1, 2}));
  EXPECT_EQ(c9.n_res_blocks, 2);
  EXPECT_EQ(c9.attention, (std::vector<bool>{true, true, false}));
  EXPECT_EQ(c9.transformer_depth, 2);
}

TEST_F(UnetTest, MatchesReferenceF32) {
  EXPECT_LT(error_of(output_of("small_f32.safetensors", "a"), "F32 weights, case a", "out_f32_a"), kTolerance);
  EXPECT_LT(error_of(output_of("small_f32.safetensors", "b"), "F32 weights, case b", "out_f32_b"), kTolerance);
}

TEST_F(UnetTest, MatchesReferenceF16AndBf16Weights) {
  const std::vector<float> f16 = output_of("small_f16.safetensors", "a");
  const std::vector<float> bf16 = output_of("small_bf16.safetensors", "a");
  EXPECT_LT(error_of(f16, "F16 weights", "out_f16_a"), kTolerance);
  EXPECT_LT(error_of(bf16, "BF16 weights", "out_bf16_a"), kTolerance);
  // What rounding the weights costs against the F32 model (printed, not a contract of the code).
  error_of(f16, "F16 weights", "out_f32_a");
  error_of(bf16, "BF16 weights", "out_f32_a");
}

// Odd latents, as diffusers runs them: the stride-2 conv gives ceil(h / 2), each
// upsample resizes to its skip. Case d (33 x 31, batch 2) is large enough for the
// Winograd 3x3 convolutions at full size; case e halves 5 x 7 twice.
TEST_F(UnetTest, OddLatentSizesMatchReference) {
  EXPECT_LT(error_of(output_of("small_f32.safetensors", "d"), "F32 weights, 33x31 latent", "out_f32_d"), kTolerance);
  EXPECT_LT(error_of(output_of("inpaint_f32.safetensors", "e"), "9-channel model, 5x7 latent", "out_inpaint_e"),
            kTolerance);
}

TEST_F(UnetTest, InpaintingVariantMatchesReference) {
  // 9 input channels, three levels, two res blocks, depth-2 transformers, linear projections.
  EXPECT_LT(error_of(output_of("inpaint_f32.safetensors", "c"), "9-channel model", "out_inpaint_c"), kTolerance);
}

TEST_F(UnetTest, SameBitsForOneAndTwoThreads) {
  std::unique_ptr<Checkpoint> ckpt = open_checkpoint("small_f16.safetensors");
  ASSERT_TRUE(ckpt);
  Result<Unet> unet = Unet::load(ckpt->store);
  ASSERT_TRUE(unet.ok()) << unet.status().message();
  const int saved = num_threads();
  set_num_threads(1);
  const std::vector<float> one = run(*unet, "d");  // odd sizes, Winograd convolutions
  set_num_threads(2);
  const std::vector<float> two = run(*unet, "d");
  set_num_threads(saved);
  ASSERT_EQ(one.size(), two.size());
  EXPECT_EQ(0, std::memcmp(one.data(), two.data(), one.size() * sizeof(float)));
}

TEST_F(UnetTest, FlopsMatchTheReferenceCount) {
  std::unique_ptr<Checkpoint> small = open_checkpoint("small_f32.safetensors");
  std::unique_ptr<Checkpoint> inpaint = open_checkpoint("inpaint_f32.safetensors");
  ASSERT_TRUE(small && inpaint);
  Result<Unet> a = Unet::load(small->store);
  Result<Unet> c = Unet::load(inpaint->store);
  ASSERT_TRUE(a.ok() && c.ok());
  EXPECT_EQ(a->flops(2, 16, 16, 77), double(count("flops_a")));
  EXPECT_EQ(c->flops(2, 8, 12, 77), double(count("flops_c")));
  EXPECT_EQ(a->flops(2, 33, 31, 77), double(count("flops_d")));
}

TEST_F(UnetTest, RejectsEmptyInputs) {
  std::unique_ptr<Checkpoint> ckpt = open_checkpoint("inpaint_f32.safetensors");
  ASSERT_TRUE(ckpt);
  Result<Unet> unet = Unet::load(ckpt->store);
  ASSERT_TRUE(unet.ok());
  std::vector<float> x(9 * 8 * 6), out(4 * 8 * 6), context(77 * 64);
  const float t = 10;
  Status s = unet->forward(x.data(), 1, 0, 6, &t, context.data(), 77, out.data());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("h=0"), std::string::npos) << s.message();
}

TEST_F(UnetTest, LoadErrorsNameTheTensor) {
  std::unique_ptr<Checkpoint> ckpt = open_checkpoint("small_f32.safetensors");
  ASSERT_TRUE(ckpt);
  const std::string missing = "output_blocks.2.1.transformer_blocks.0.attn2.to_v.weight";
  const std::string misshaped = "input_blocks.1.0.emb_layers.1.weight";
  ASSERT_TRUE(ckpt->store.has(missing) && ckpt->store.has(misshaped));

  WeightStore without("UNet");
  for (const auto& [name, t] : ckpt->store.tensors()) {
    if (name != missing) without.add(name, t);
  }
  Result<Unet> a = Unet::load(without);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("missing tensor '" + missing + "'"), std::string::npos)
      << a.status().message();

  WeightStore wrong("UNet");
  for (const auto& [name, t] : ckpt->store.tensors()) wrong.add(name, t);
  Tensor t = *ckpt->store.find(misshaped);  // [32, 128] seen as [16, 256]
  wrong.add(misshaped, make_tensor(t.dtype, {16, 256}, t.data));
  Result<Unet> b = Unet::load(wrong);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("'" + misshaped + "' has shape [16, 256], expected [32, 128]"),
            std::string::npos)
      << b.status().message();

  WeightStore empty("UNet");
  Result<Unet> c = Unet::load(empty);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("input_blocks.0.0.weight"), std::string::npos) << c.status().message();
}

}  // namespace
}  // namespace aigc
