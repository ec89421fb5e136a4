// SdPipeline on the tiny random checkpoint of tools/reference/image/sd_ref.py:
// a 4-step Euler txt2img from a given noise file against the PyTorch
// reference image (PSNR >= 40 dB), the same for inpainting with a 9-channel
// UNet, seed/noise reproducibility, the same bytes
// on 1 and 2 threads, img2img/inpainting properties, and bad requests.
#include "image/pipeline.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>

#include "core/test_temp_path.h"
#include "core/threads.h"
#include "image/gaussian_rng.h"
#include "image/image_io.h"
#include "image/npy.h"
#include "image/sd_checkpoint.h"
#include "kernels/op_test_util.h"

namespace aigc {
namespace {

const std::string kDir = std::string(AIGC_BUILD_TESTDATA_DIR) + "/image/sd";
const std::string kMerges = std::string(AIGC_SHARED_DATA_DIR) + "/clip/bpe_simple_vocab_16e6.txt.gz";

// What sd_ref.py used (reference.json states the same).
constexpr const char* kPrompt = "an astronaut riding a horse on mars, 4k, trending on artstation";
constexpr const char* kNegative = "A Red CAR, parked on the street!!!";
constexpr int kWidth = 64, kHeight = 48, kSteps = 4;
constexpr float kCfg = 7.0f;

// The tiny model's reference needs the shared CLIP data (absent from a user's clone).
#define SKIP_WITHOUT_CLIP_DATA()                                                                \
  if (!std::filesystem::exists(kMerges) || !std::filesystem::exists(kDir + "/reference.json")) \
  GTEST_SKIP() << "no CLIP merges file at " << kMerges << " (../shared/data absent): nothing to compare"

// The models, loaded once for all tests.
struct TinySd {
  SdCheckpoint ckpt;
  ClipTokenizer tokenizer;
  ClipTextEncoder text;
  Unet unet;
  Vae vae;
};

std::optional<TinySd> load_tiny_sd(const std::string& file) {
  auto ckpt = SdCheckpoint::open(kDir + "/" + file);
  if (!ckpt.ok()) { ADD_FAILURE() << ckpt.status().to_string(); return std::nullopt; }
  auto tok = ClipTokenizer::from_merges_file(kMerges);
  if (!tok.ok()) { ADD_FAILURE() << tok.status().to_string(); return std::nullopt; }
  auto text = ClipTextEncoder::load(ckpt->text_encoder());
  if (!text.ok()) { ADD_FAILURE() << text.status().to_string(); return std::nullopt; }
  auto unet = Unet::load(ckpt->unet());
  if (!unet.ok()) { ADD_FAILURE() << unet.status().to_string(); return std::nullopt; }
  auto vae = Vae::load(ckpt->vae());
  if (!vae.ok()) { ADD_FAILURE() << vae.status().to_string(); return std::nullopt; }
  return TinySd{std::move(*ckpt), std::move(*tok), std::move(*text), std::move(*unet), std::move(*vae)};
}

TinySd* tiny_sd() {
  static std::optional<TinySd> sd = load_tiny_sd("sd_tiny.safetensors");
  return sd ? &*sd : nullptr;
}

ImageRequest reference_request() {
  ImageRequest r;
  r.prompt = kPrompt;
  r.negative = kNegative;
  r.width = kWidth;
  r.height = kHeight;
  r.steps = kSteps;
  r.cfg = kCfg;
  r.sampler = SamplerKind::kEuler;
  r.spacing = Spacing::kNormal;
  r.seed = 42;
  return r;
}

// PSNR in dB of two [-1, 1] images (clamped) on the [0, 1] scale.
double psnr(const std::vector<float>& a, const std::vector<float>& b) {
  double se = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = 0.5 * (std::clamp(a[i], -1.0f, 1.0f) - std::clamp(b[i], -1.0f, 1.0f));
    se += d * d;
  }
  const double mse = se / double(a.size());
  return mse == 0 ? 200.0 : 10.0 * std::log10(1.0 / mse);
}

// At every ISA this CPU has: the whole pipeline (CLIP, UNet, VAE) on each ISA's kernels.
class SdPipelineAtIsa : public IsaTest {};

TEST_P(SdPipelineAtIsa, FourStepEulerMatchesReference) {
  SKIP_WITHOUT_CLIP_DATA();
  TinySd* sd = tiny_sd();
  ASSERT_NE(sd, nullptr);
  auto noise = read_npy(kDir + "/noise.npy");
  ASSERT_TRUE(noise.ok()) << noise.status().to_string();
  auto expected = read_npy(kDir + "/image.npy");
  ASSERT_TRUE(expected.ok()) << expected.status().to_string();
  ASSERT_EQ(expected->shape, (std::vector<int64_t>{1, 3, kHeight, kWidth}));

  ImageRequest r = reference_request();
  r.noise = noise->data;
  r.noise_items = noise->shape[0];
  SdPipeline pipeline(sd->tokenizer, sd->text, sd->unet, sd->vae);
  auto out = pipeline.generate(r);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  const double db = psnr(out->decoded[0], expected->data);
  std::printf("4-step Euler txt2img vs PyTorch (%s): PSNR %.1f dB\n", isa_name(GetParam()), db);
  EXPECT_GE(db, 40.0);
  // The 8-bit image: the rounding of the same values (one level where the two differ near a half).
  auto png = load_image(kDir + "/image.png");
  ASSERT_TRUE(png.ok()) << png.status().to_string();
  ASSERT_EQ(png->pixels.size(), out->images[0].pixels.size());
  int worst = 0;
  for (size_t i = 0; i < png->pixels.size(); ++i)
    worst = std::max(worst, std::abs(int(png->pixels[i]) - int(out->images[0].pixels[i])));
  EXPECT_LE(worst, 3) << "8-bit pixels differ from the reference PNG by up to " << worst;
}

INSTANTIATE_TEST_SUITE_P(Isa, SdPipelineAtIsa, ::testing::Values(Isa::kScalar, Isa::kAvx2, Isa::kAvx512),
                         isa_test_name);

// The 9-channel UNet of an inpainting checkpoint: img2img at strength 0.75
// with a soft-edged mask off the 8-pixel grid, against sd_ref.py's run (which
// builds the mask and masked-image channels as the diffusers pipeline does).
TEST(SdPipeline, InpaintingModelMatchesReference) {
  SKIP_WITHOUT_CLIP_DATA();
  std::optional<TinySd> sd = load_tiny_sd("sd_inpaint_tiny.safetensors");
  ASSERT_TRUE(sd.has_value());
  ASSERT_EQ(sd->unet.config().in_channels, 9);
  auto noise = read_npy(kDir + "/noise.npy");
  ASSERT_TRUE(noise.ok()) << noise.status().to_string();
  auto expected = read_npy(kDir + "/inpaint_image.npy");
  ASSERT_TRUE(expected.ok()) << expected.status().to_string();
  ASSERT_EQ(expected->shape, (std::vector<int64_t>{1, 3, kHeight, kWidth}));
  auto init = load_image(kDir + "/inpaint_init.png");
  ASSERT_TRUE(init.ok()) << init.status().to_string();
  auto mask = load_image(kDir + "/inpaint_mask.png");
  ASSERT_TRUE(mask.ok()) << mask.status().to_string();

  ImageRequest r = reference_request();
  r.noise = noise->data;
  r.noise_items = noise->shape[0];
  r.init_image = &*init;
  r.mask = &*mask;
  r.strength = 0.75f;
  SdPipeline pipeline(sd->tokenizer, sd->text, sd->unet, sd->vae);
  ASSERT_TRUE(pipeline.is_inpainting_model());
  auto out = pipeline.generate(r);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  const double db = psnr(out->decoded[0], expected->data);
  std::printf("9-channel inpainting (3 of 4 Euler steps) vs PyTorch: PSNR %.1f dB\n", db);
  EXPECT_GE(db, 40.0);
}

TEST(SdPipeline, SeedIsTheNoiseOfTheGenerator) {
  SKIP_WITHOUT_CLIP_DATA();
  TinySd* sd = tiny_sd();
  ASSERT_NE(sd, nullptr);
  SdPipeline pipeline(sd->tokenizer, sd->text, sd->unet, sd->vae);
  ImageRequest seeded = reference_request();
  seeded.steps = 1;
  seeded.batch = 2;
  auto a = pipeline.generate(seeded);
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  // Item k is seed + k's first 4 h w samples, given as a noise file.
  const int64_t n = 4 * (kHeight / 8) * (kWidth / 8);
  for (int k = 0; k < 2; ++k) {
    ImageRequest given = seeded;
    given.batch = 1;
    given.seed = 1000;  // unused by the deterministic sampler
    given.noise.resize(size_t(n));
    GaussianRng(seeded.seed + uint64_t(k)).fill(given.noise.data(), n);
    given.noise_items = 1;
    auto b = pipeline.generate(given);
    ASSERT_TRUE(b.ok()) << b.status().to_string();
    EXPECT_EQ(a->images[size_t(k)].pixels, b->images[0].pixels) << "item " << k;
    EXPECT_EQ(a->decoded[size_t(k)], b->decoded[0]) << "item " << k;
  }
  EXPECT_NE(a->images[0].pixels, a->images[1].pixels);
  EXPECT_EQ(a->seeds, (std::vector<uint64_t>{42, 43}));
}

TEST(SdPipeline, SameBytesOnOneAndTwoThreads) {
  SKIP_WITHOUT_CLIP_DATA();
  TinySd* sd = tiny_sd();
  ASSERT_NE(sd, nullptr);
  SdPipeline pipeline(sd->tokenizer, sd->text, sd->unet, sd->vae);
  ImageRequest r = reference_request();
  r.steps = 3;
  r.sampler = SamplerKind::kEulerAncestral;  // also draws sampler noise
  std::string bytes[2];
  const int saved = num_threads();
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    auto out = pipeline.generate(r);
    ASSERT_TRUE(out.ok()) << out.status().to_string();
    const std::string path = test_temp_path("pipeline_threads_" + std::to_string(threads) + ".png");
    ASSERT_TRUE(save_png(path, out->images[0], {{"parameters", "x"}}).ok());
    std::ifstream f(path, std::ios::binary);
    bytes[threads - 1].assign(std::istreambuf_iterator<char>(f), {});
  }
  set_num_threads(saved);
  EXPECT_FALSE(bytes[0].empty());
  EXPECT_EQ(bytes[0], bytes[1]);
}

// An all-white mask (repaint everything) is plain img2img; an all-black one
// keeps the init image's latent: the result is the VAE round trip of the init image.
TEST(SdPipeline, LatentMaskingLimits) {
  SKIP_WITHOUT_CLIP_DATA();
  TinySd* sd = tiny_sd();
  ASSERT_NE(sd, nullptr);
  SdPipeline pipeline(sd->tokenizer, sd->text, sd->unet, sd->vae);
  Image init{kWidth, kHeight, 3, {}};
  for (int y = 0; y < kHeight; ++y)
    for (int x = 0; x < kWidth; ++x)
      for (int c = 0; c < 3; ++c) init.pixels.push_back(uint8_t((x * 4 + y * 3 + c * 80) % 256));
  Image white{kWidth, kHeight, 1, std::vector<uint8_t>(size_t(kWidth) * kHeight, 255)};
  Image black{kWidth, kHeight, 1, std::vector<uint8_t>(size_t(kWidth) * kHeight, 0)};

  ImageRequest r = reference_request();
  r.steps = 4;
  r.init_image = &init;
  r.strength = 0.6f;
  auto plain = pipeline.generate(r);
  ASSERT_TRUE(plain.ok()) << plain.status().to_string();
  r.mask = &white;
  auto repaint_all = pipeline.generate(r);
  ASSERT_TRUE(repaint_all.ok()) << repaint_all.status().to_string();
  EXPECT_EQ(plain->decoded[0], repaint_all->decoded[0]);

  r.mask = &black;
  auto keep_all = pipeline.generate(r);
  ASSERT_TRUE(keep_all.ok()) << keep_all.status().to_string();
  const int64_t h = kHeight / 8, w = kWidth / 8;
  std::vector<float> pixels = image_to_planar(init), mean(size_t(4 * h * w)), logvar(mean.size());
  ASSERT_TRUE(sd->vae.encode(pixels.data(), kHeight, kWidth, mean.data(), logvar.data()).ok());
  std::vector<float> round_trip(size_t(3 * kHeight * kWidth));
  ASSERT_TRUE(sd->vae.decode(mean.data(), h, w, round_trip.data()).ok());
  // Only float rounding separates them (the latent goes through * 0.18215 and back).
  const double db = psnr(keep_all->decoded[0], round_trip);
  EXPECT_GE(db, 80.0) << "black mask: PSNR " << db << " dB against the VAE round trip";
  EXPECT_LT(psnr(plain->decoded[0], round_trip), 80.0);  // img2img did change the image
}

TEST(SdPipeline, BadRequestsAreNamed) {
  SKIP_WITHOUT_CLIP_DATA();
  TinySd* sd = tiny_sd();
  ASSERT_NE(sd, nullptr);
  SdPipeline pipeline(sd->tokenizer, sd->text, sd->unet, sd->vae);
  auto message = [&](const ImageRequest& r) {
    Status s = pipeline.validate(r);
    EXPECT_FALSE(s.ok());
    return s.message();
  };
  ImageRequest r = reference_request();
  r.width = 60;
  EXPECT_NE(message(r).find("width 60 is not a positive multiple of 8"), std::string::npos) << message(r);
  r = reference_request();
  r.height = 4096;
  EXPECT_NE(message(r).find("height 4096 is above the maximum 2048"), std::string::npos) << message(r);
  r = reference_request();
  Image init{kWidth, kHeight, 3, std::vector<uint8_t>(size_t(kWidth) * kHeight * 3, 128)};
  Image small_mask{32, 32, 1, std::vector<uint8_t>(32 * 32, 255)};
  r.init_image = &init;
  r.mask = &small_mask;
  EXPECT_NE(message(r).find("mask is 32x32, the init image is 64x48"), std::string::npos) << message(r);
  r = reference_request();
  r.noise.assign(10, 0.0f);
  r.noise_items = 1;
  EXPECT_NE(message(r).find("noise has 10 values"), std::string::npos) << message(r);
  r = reference_request();
  r.strength = 0.5f;
  r.init_image = &init;
  r.strength = 1.5f;
  EXPECT_NE(message(r).find("strength"), std::string::npos) << message(r);
  r = reference_request();
  r.comma_backtrack = 76;
  EXPECT_NE(message(r).find("comma backtrack 76 is not in 0..75"), std::string::npos) << message(r);
}

}  // namespace
}  // namespace aigc
