// Vae: decode and encode against the PyTorch reference (tools/reference/image/
// vae.py, written by vae_ref.py with a small random VAE), tiled decode, thread
// independence, FLOP counts, load errors. Tolerance: max |diff| / max |ref|
// below 1e-3 (the reference runs in float64 on the same, possibly rounded,
// weights).
#include "image/vae.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "core/threads.h"
#include "formats/safetensors.h"

namespace aigc {
namespace {

constexpr double kTolerance = 1e-3;

std::string vae_dir() { return std::string(AIGC_BUILD_TESTDATA_DIR) + "/image/vae/"; }

// A safetensors file and the VAE store over it (the file must outlive the views).
struct Checkpoint {
  SafetensorsFile file;
  WeightStore store{"VAE"};
};

std::unique_ptr<Checkpoint> open_checkpoint(const std::string& name) {
  Result<SafetensorsFile> file = SafetensorsFile::open(vae_dir() + name);
  EXPECT_TRUE(file.ok()) << file.status().message();
  if (!file.ok()) return nullptr;
  auto ckpt = std::make_unique<Checkpoint>(Checkpoint{std::move(*file), WeightStore("VAE")});
  ckpt->store.add_from_safetensors(ckpt->file, "first_stage_model.");
  return ckpt;
}

Vae load_vae(const Checkpoint& ckpt) {
  Result<Vae> vae = Vae::load(ckpt.store);
  EXPECT_TRUE(vae.ok()) << vae.status().message();
  return std::move(*vae);
}

class VaeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cases_ = open_checkpoint("cases.safetensors").release();
    f32_ = open_checkpoint("small_f32.safetensors").release();
  }
  static void TearDownTestSuite() {
    delete cases_;
    delete f32_;
  }
  void SetUp() override {
    ASSERT_NE(cases_, nullptr);
    ASSERT_NE(f32_, nullptr);
  }

  // A reference tensor of the cases file, checked against `shape`.
  static std::vector<float> ref(const std::string& name, std::initializer_list<int64_t> shape) {
    Result<Tensor> t = cases_->file.tensor(name);
    EXPECT_TRUE(t.ok()) << t.status().message();
    if (!t.ok()) return {};
    int64_t n = 1;
    for (int i = 0; i < t->n_dims; ++i) {
      EXPECT_EQ(t->shape[i], shape.begin()[i]) << name;
      n *= t->shape[i];
    }
    EXPECT_EQ(t->dtype, DType::F32);
    return std::vector<float>(t->ptr<float>(), t->ptr<float>() + n);
  }

  static inline Checkpoint* cases_ = nullptr;
  static inline Checkpoint* f32_ = nullptr;
};

// max |got - want| / max |want|
double relative_error(const std::vector<float>& got, const std::vector<float>& want) {
  EXPECT_EQ(got.size(), want.size());
  double max_diff = 0, max_ref = 0;
  for (size_t i = 0; i < want.size() && i < got.size(); ++i) {
    max_diff = std::max(max_diff, std::abs(double(got[i]) - want[i]));
    max_ref = std::max(max_ref, std::abs(double(want[i])));
    if (!std::isfinite(got[i])) return INFINITY;
  }
  return max_diff / max_ref;
}

// PSNR (dB) for images in [-1, 1] (peak-to-peak 2).
double psnr(const std::vector<float>& a, const std::vector<float>& b) {
  double se = 0;
  for (size_t i = 0; i < a.size(); ++i) se += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
  return 10 * std::log10(4.0 / (se / double(a.size())));
}

std::vector<float> decode(const Vae& vae, const std::vector<float>& z, int64_t h, int64_t w) {
  std::vector<float> image(static_cast<size_t>(3 * 64 * h * w));
  Status s = vae.decode(z.data(), h, w, image.data());
  EXPECT_TRUE(s.ok()) << s.message();
  return image;
}

struct Moments {
  std::vector<float> mean, logvar;
};

Moments encode(const Vae& vae, const std::vector<float>& image, int64_t H, int64_t W) {
  Moments m{std::vector<float>(static_cast<size_t>(4 * H * W / 64)), std::vector<float>(static_cast<size_t>(4 * H * W / 64))};
  Status s = vae.encode(image.data(), H, W, m.mean.data(), m.logvar.data());
  EXPECT_TRUE(s.ok()) << s.message();
  return m;
}

TEST_F(VaeTest, ConfigFromShapes) {
  Vae vae = load_vae(*f32_);
  const VaeConfig& cfg = vae.config();
  EXPECT_EQ(cfg.latent_channels, 4);
  EXPECT_EQ(cfg.image_channels, 3);
  EXPECT_EQ(cfg.n_levels, 4);
  EXPECT_EQ(cfg.scale(), 8);
  EXPECT_EQ(cfg.n_res_blocks, 1);
  EXPECT_EQ(cfg.level_channels, (std::vector<int64_t>{32, 64, 64, 128}));  // ch 32 x ch_mult (1, 2, 2, 4)
  EXPECT_TRUE(cfg.has_encoder);
}

TEST_F(VaeTest, DecodeMatchesReferenceInEveryWeightType) {
  struct Case { const char* file; const char* tag; const char* name; int64_t h, w; };
  for (const Case& c : {Case{"small_f32.safetensors", "f32", "a", 8, 8}, Case{"small_f32.safetensors", "f32", "b", 6, 10},
                        Case{"small_f16.safetensors", "f16", "a", 8, 8}, Case{"small_f16.safetensors", "f16", "b", 6, 10},
                        Case{"small_bf16.safetensors", "bf16", "a", 8, 8}}) {
    SCOPED_TRACE(std::string(c.file) + " case " + c.name);
    std::unique_ptr<Checkpoint> ckpt = open_checkpoint(c.file);
    ASSERT_NE(ckpt, nullptr);
    Vae vae = load_vae(*ckpt);
    const std::vector<float> z = ref(std::string("decode_z_") + c.name, {4, c.h, c.w});
    const std::vector<float> image = decode(vae, z, c.h, c.w);
    const std::vector<float> want = ref(std::string("decode_") + c.tag + "_" + c.name, {3, 8 * c.h, 8 * c.w});
    const double err = relative_error(image, want);
    EXPECT_LT(err, kTolerance);
    // How far the rounded weights move the image (information, not a bound).
    const double vs_f32 = relative_error(image, ref(std::string("decode_f32_") + c.name, {3, 8 * c.h, 8 * c.w}));
    std::printf("decode %s %s: rel err %.2e vs its reference, %.2e vs the F32 weights' image\n", c.tag, c.name, err,
                vs_f32);
  }
}

TEST_F(VaeTest, EncodeMatchesReference) {
  struct Case { const char* file; const char* tag; const char* name; int64_t H, W; };
  for (const Case& c : {Case{"small_f32.safetensors", "f32", "a", 64, 64}, Case{"small_f32.safetensors", "f32", "b", 48, 80},
                        Case{"small_f16.safetensors", "f16", "b", 48, 80}}) {
    SCOPED_TRACE(std::string(c.file) + " case " + c.name);
    std::unique_ptr<Checkpoint> ckpt = open_checkpoint(c.file);
    ASSERT_NE(ckpt, nullptr);
    Vae vae = load_vae(*ckpt);
    const Moments m = encode(vae, ref(std::string("encode_x_") + c.name, {3, c.H, c.W}), c.H, c.W);
    const std::string suffix = std::string(c.tag) + "_" + c.name;
    const double err_mean = relative_error(m.mean, ref("encode_mean_" + suffix, {4, c.H / 8, c.W / 8}));
    const double err_logvar = relative_error(m.logvar, ref("encode_logvar_" + suffix, {4, c.H / 8, c.W / 8}));
    EXPECT_LT(err_mean, kTolerance);
    EXPECT_LT(err_logvar, kTolerance);
    std::printf("encode %s: rel err mean %.2e, logvar %.2e\n", suffix.c_str(), err_mean, err_logvar);
  }
}

TEST_F(VaeTest, TiledDecodeMatchesReferenceWithBoundedMemory) {
  Vae vae = load_vae(*f32_);
  const int64_t h = 20, w = 12, tile = 8;  // 3 x 2 tiles; the last column overlaps by 4 latents, not 2
  const std::vector<float> z = ref("tiled_z", {4, h, w});
  const std::vector<float> small_z = ref("decode_z_a", {4, tile, tile});

  vae.reset_peak_activation_bytes();
  const std::vector<float> one_tile = decode(vae, small_z, tile, tile);
  const int64_t tile_peak = vae.peak_activation_bytes();
  vae.reset_peak_activation_bytes();
  std::vector<float> tiled(static_cast<size_t>(3 * 64 * h * w));
  ASSERT_TRUE(vae.decode_tiled(z.data(), h, w, tile, tiled.data()).ok());
  const int64_t tiled_peak = vae.peak_activation_bytes();
  vae.reset_peak_activation_bytes();
  const std::vector<float> full = decode(vae, z, h, w);
  const int64_t full_peak = vae.peak_activation_bytes();

  const std::vector<float> want_tiled = ref("tiled_t8", {3, 8 * h, 8 * w});
  const std::vector<float> want_full = ref("tiled_full", {3, 8 * h, 8 * w});
  EXPECT_LT(relative_error(tiled, want_tiled), kTolerance);
  EXPECT_LT(relative_error(full, want_full), kTolerance);
  // Tiling changes the image (GroupNorm statistics and attention are per
  // tile): as much as in the reference. Small tiles of a random VAE are a
  // harsh case (~17 dB); the SD VAE with 32+ latent tiles differs far less.
  const double got_psnr = psnr(tiled, full), want_psnr = psnr(want_tiled, want_full);
  EXPECT_NEAR(got_psnr, want_psnr, 0.1);
  // Memory: one tile's activations plus the tile's image buffer.
  const int64_t tile_image_bytes = 3 * 64 * tile * tile * int64_t(sizeof(float));
  EXPECT_LE(tiled_peak, tile_peak + tile_image_bytes);
  EXPECT_LT(tiled_peak * 2, full_peak);
  std::printf("tiled (8) vs untiled PSNR %.2f dB (reference %.2f); peak activations tiled %.1f MB, untiled %.1f MB\n",
              got_psnr, want_psnr, tiled_peak / 1e6, full_peak / 1e6);

  // One column of tiles (the latent is narrower than a tile).
  std::vector<float> narrow_z(static_cast<size_t>(4 * h * 6)), narrow(static_cast<size_t>(3 * 64 * h * 6));
  for (int64_t row = 0; row < 4 * h; ++row) std::copy_n(z.data() + row * w, 6, narrow_z.data() + row * 6);
  ASSERT_TRUE(vae.decode_tiled(narrow_z.data(), h, 6, tile, narrow.data()).ok());
  EXPECT_LT(relative_error(narrow, ref("tiled_t8_narrow", {3, 8 * h, 48})), kTolerance);

  // A tile that covers the latent is the plain decode.
  std::vector<float> whole(one_tile.size());
  ASSERT_TRUE(vae.decode_tiled(small_z.data(), tile, tile, tile, whole.data()).ok());
  EXPECT_EQ(whole, one_tile);
}

TEST_F(VaeTest, SameBitsForOneAndTwoThreads) {
  Vae vae = load_vae(*f32_);
  const std::vector<float> z = ref("decode_z_b", {4, 6, 10});
  const std::vector<float> x = ref("encode_x_b", {3, 48, 80});
  const int saved = num_threads();
  set_num_threads(1);
  const std::vector<float> image1 = decode(vae, z, 6, 10);
  const Moments m1 = encode(vae, x, 48, 80);
  set_num_threads(2);
  const std::vector<float> image2 = decode(vae, z, 6, 10);
  const Moments m2 = encode(vae, x, 48, 80);
  set_num_threads(saved);
  EXPECT_EQ(image1, image2);
  EXPECT_EQ(m1.mean, m2.mean);
  EXPECT_EQ(m1.logvar, m2.logvar);
}

TEST_F(VaeTest, FlopsMatchTheReferenceCount) {
  Vae vae = load_vae(*f32_);
  const double decode_want = ref("flops_decode_a", {1})[0], encode_want = ref("flops_encode_b", {1})[0];
  EXPECT_NEAR(vae.decode_flops(8, 8) / decode_want, 1.0, 1e-6);
  EXPECT_NEAR(vae.encode_flops(48, 80) / encode_want, 1.0, 1e-6);
}

TEST_F(VaeTest, AcceptsAttentionWeightsAsMatrices) {
  WeightStore store = WeightStore("VAE");
  for (const auto& [name, t] : f32_->store.tensors()) store.add(name, t);
  for (const char* p : {"q", "k", "v", "proj_out"}) {
    for (const char* part : {"decoder", "encoder"}) {
      const std::string name = std::string(part) + ".mid.attn_1." + p + ".weight";
      const Tensor t = *store.find(name);
      store.add(name, make_tensor(t.dtype, {t.shape[0], t.shape[1]}, t.data));
    }
  }
  Result<Vae> flat = Vae::load(store);
  ASSERT_TRUE(flat.ok()) << flat.status().message();
  Vae vae = load_vae(*f32_);
  const std::vector<float> z = ref("decode_z_a", {4, 8, 8});
  EXPECT_EQ(decode(*flat, z, 8, 8), decode(vae, z, 8, 8));
}

TEST_F(VaeTest, LoadErrorsNameTheTensor) {
  auto copy_without = [&](const std::string& skip) {
    WeightStore store("VAE");
    for (const auto& [name, t] : f32_->store.tensors()) {
      if (name.rfind(skip, 0) != 0) store.add(name, t);
    }
    return store;
  };
  Result<Vae> missing = Vae::load(copy_without("decoder.up.2.block.1.norm2.bias"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("'decoder.up.2.block.1.norm2.bias'"), std::string::npos)
      << missing.status().message();

  WeightStore wrong = copy_without("(nothing)");
  const Tensor conv2 = *wrong.find("decoder.up.1.block.0.conv2.weight");  // [64, 64, 3, 3]
  wrong.add("decoder.up.1.block.0.conv2.weight", make_tensor(DType::F32, {64, 32, 3, 3}, conv2.data));
  Result<Vae> misshaped = Vae::load(wrong);
  ASSERT_FALSE(misshaped.ok());
  EXPECT_NE(misshaped.status().message().find("'decoder.up.1.block.0.conv2.weight' has shape [64, 32, 3, 3], "
                                              "expected [64, 64, 3, 3]"),
            std::string::npos)
      << misshaped.status().message();

  // Decoder only: loads; encode says what is missing.
  Result<Vae> decoder_only = Vae::load(copy_without("encoder."));
  ASSERT_TRUE(decoder_only.ok()) << decoder_only.status().message();
  EXPECT_FALSE(decoder_only->config().has_encoder);
  std::vector<float> image(3 * 64 * 64), mean(4 * 8 * 8), logvar(4 * 8 * 8);
  Status s = decoder_only->encode(image.data(), 64, 64, mean.data(), logvar.data());
  EXPECT_NE(s.message().find("no encoder"), std::string::npos) << s.message();
}

TEST_F(VaeTest, RejectsBadSizes) {
  Vae vae = load_vae(*f32_);
  std::vector<float> buf(3 * 64 * 64 * 4);
  EXPECT_FALSE(vae.decode(buf.data(), 0, 8, buf.data()).ok());
  EXPECT_FALSE(vae.decode_tiled(buf.data(), 8, 8, 3, buf.data()).ok());
  Status s = vae.encode(buf.data(), 60, 64, buf.data(), buf.data());
  EXPECT_NE(s.message().find("not a multiple of 8"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace aigc
