// SdCheckpoint on the fixtures of tools/reference/image/loader_ref.py: single
// file vs diffusers folder (the same weights, and the same model outputs), the
// older CLIP layout, VAE overrides, other families, pickle refusal.
#include "image/sd_checkpoint.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "core/test_temp_path.h"
#include "formats/safetensors.h"
#include "image/clip_text_encoder.h"
#include "image/gaussian_rng.h"
#include "image/unet.h"
#include "image/vae.h"

namespace aigc {
namespace {

const std::string kDir = std::string(AIGC_BUILD_TESTDATA_DIR) + "/image/loader/";

SdCheckpoint open_ok(const std::string& file, const SdCheckpointOptions& options = {}) {
  Result<SdCheckpoint> ckpt = SdCheckpoint::open(kDir + file, options);
  if (!ckpt.ok()) throw std::runtime_error(ckpt.status().to_string());  // gtest reports it as a failure
  return std::move(ckpt).value();
}

std::string open_error(const std::string& file, const SdCheckpointOptions& options = {}) {
  Result<SdCheckpoint> ckpt = SdCheckpoint::open(kDir + file, options);
  EXPECT_FALSE(ckpt.ok()) << file << " opened";
  return ckpt.ok() ? "" : ckpt.status().to_string();
}

// Same names, dtypes, shapes and bytes.
void expect_same_store(const WeightStore& a, const WeightStore& b) {
  ASSERT_EQ(a.size(), b.size()) << a.component();
  auto ia = a.tensors().begin();
  for (auto ib = b.tensors().begin(); ib != b.tensors().end(); ++ia, ++ib) {
    ASSERT_EQ(ia->first, ib->first);
    const Tensor &x = ia->second, &y = ib->second;
    ASSERT_EQ(x.dtype, y.dtype) << ia->first;
    ASSERT_EQ(x.shape_string(), y.shape_string()) << ia->first;
    ASSERT_EQ(std::memcmp(x.data, y.data, x.nbytes()), 0) << ia->first;
  }
}

TEST(SdCheckpoint, SingleFileSplitsComponentsAndIgnoresEmaAndBuffers) {
  SdCheckpoint ckpt = open_ok("tiny_sd.safetensors");
  EXPECT_EQ(ckpt.name(), "tiny_sd");
  EXPECT_FALSE(ckpt.is_inpainting());
  EXPECT_EQ(ckpt.tokenizer(), nullptr);
  Result<SafetensorsFile> file = SafetensorsFile::open(kDir + "tiny_sd.safetensors");
  ASSERT_TRUE(file.ok());
  size_t n_unet = 0, n_vae = 0, n_text = 0;
  for (const SafetensorsTensorInfo& t : file->tensors()) {
    n_unet += t.name.starts_with("model.diffusion_model.");
    n_vae += t.name.starts_with("first_stage_model.");
    n_text += t.name.starts_with("cond_stage_model.transformer.");
  }
  EXPECT_EQ(ckpt.unet().size(), n_unet);
  EXPECT_EQ(ckpt.vae().size(), n_vae);
  EXPECT_EQ(ckpt.text_encoder().size(), n_text - 1);  // without position_ids
  EXPECT_FALSE(ckpt.text_encoder().has("text_model.embeddings.position_ids"));
  EXPECT_TRUE(ckpt.unet().get("input_blocks.0.0.weight", {8, 4, 3, 3}).ok());
  EXPECT_TRUE(ckpt.vae().get("decoder.mid.attn_1.q.weight", {16, 16, 1, 1}).ok());
  EXPECT_TRUE(ckpt.text_encoder().get("text_model.final_layer_norm.weight", {16}).ok());
  Result<Tensor> w = file->tensor("model.diffusion_model.out.2.weight");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(std::memcmp(ckpt.unet().find("out.2.weight")->data, w->data, w->nbytes()), 0);
}

TEST(SdCheckpoint, DiffusersFolderGivesTheSameWeightsAsTheSingleFile) {
  SdCheckpoint single = open_ok("tiny_sd_f16.safetensors");
  SdCheckpoint folder = open_ok("tiny_sd_diffusers");
  EXPECT_EQ(folder.name(), "tiny_sd_diffusers");
  expect_same_store(single.unet(), folder.unet());
  expect_same_store(single.vae(), folder.vae());
  expect_same_store(single.text_encoder(), folder.text_encoder());
  EXPECT_EQ(single.unet().find("input_blocks.1.0.in_layers.2.weight")->dtype, DType::F16);
  EXPECT_EQ(single.text_encoder().find("text_model.encoder.layers.0.mlp.fc1.weight")->dtype, DType::BF16);
  ASSERT_NE(folder.tokenizer(), nullptr);
  Result<std::vector<int32_t>> ids = folder.tokenizer()->encode("ca");
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, std::vector<int32_t>{512});  // the folder's one merge
  EXPECT_EQ(SdCheckpoint::open(kDir + "tiny_sd_diffusers/").value().name(), "tiny_sd_diffusers");
}

// The outputs of the three models of one checkpoint on fixed inputs.
struct ModelOutputs {
  std::vector<float> unet, decoded, mean, logvar, text_skip1, text_skip2;
};

std::vector<float> gaussian(uint64_t seed, int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  GaussianRng(seed).fill(v.data(), n);
  return v;
}

ModelOutputs run_models(const SdCheckpoint& ckpt) {
  ModelOutputs o;
  Result<Unet> unet = Unet::load(ckpt.unet());
  Result<Vae> vae = Vae::load(ckpt.vae());
  Result<ClipTextEncoder> text = ClipTextEncoder::load(ckpt.text_encoder());
  if (!unet.ok()) throw std::runtime_error(unet.status().to_string());
  if (!vae.ok()) throw std::runtime_error(vae.status().to_string());
  if (!text.ok()) throw std::runtime_error(text.status().to_string());
  const int64_t h = 8, w = 8, n_tokens = 77, dim = unet->config().context_dim;
  const std::vector<float> x = gaussian(1, 4 * h * w), context = gaussian(2, n_tokens * dim);
  const float t = 321.5f;
  o.unet.resize(x.size());
  EXPECT_TRUE(unet->forward(x.data(), 1, h, w, &t, context.data(), n_tokens, o.unet.data()).ok());
  const int64_t f = vae->config().scale();
  o.decoded.resize(size_t(3 * f * h * f * w));
  EXPECT_TRUE(vae->decode(x.data(), h, w, o.decoded.data()).ok());
  std::vector<float> image = gaussian(3, 3 * f * h * f * w);
  for (float& v : image) v = std::tanh(v);
  o.mean.resize(x.size());
  o.logvar.resize(x.size());
  EXPECT_TRUE(vae->encode(image.data(), f * h, f * w, o.mean.data(), o.logvar.data()).ok());
  std::vector<int32_t> ids(77);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t((i * 37 + 5) % size_t(text->config().vocab));
  o.text_skip1.resize(size_t(77 * text->config().dim));
  o.text_skip2.resize(o.text_skip1.size());
  EXPECT_TRUE(text->encode(ids.data(), 1, o.text_skip1.data()).ok());
  EXPECT_TRUE(text->encode(ids.data(), 2, o.text_skip2.data()).ok());
  return o;
}

// Finite, and not all one value (a model that computes nothing would compare equal too).
void expect_informative(const std::vector<float>& v, const char* what) {
  ASSERT_FALSE(v.empty()) << what;
  bool finite = true, varied = false;
  for (float x : v) {
    finite = finite && std::isfinite(x);
    varied = varied || x != v[0];
  }
  EXPECT_TRUE(finite) << what;
  EXPECT_TRUE(varied) << what;
}

TEST(SdCheckpoint, DiffusersFolderComputesTheSameAsTheSingleFile) {
  const ModelOutputs single = run_models(open_ok("runnable_sd.safetensors"));
  const ModelOutputs folder = run_models(open_ok("runnable_sd_diffusers"));
  expect_informative(single.unet, "UNet");
  expect_informative(single.decoded, "VAE decode");
  expect_informative(single.mean, "VAE encode");
  expect_informative(single.text_skip1, "text encoder");
  EXPECT_EQ(single.unet, folder.unet) << "UNet outputs differ";
  EXPECT_EQ(single.decoded, folder.decoded) << "VAE decoder outputs differ";
  EXPECT_EQ(single.mean, folder.mean) << "VAE encoder means differ";
  EXPECT_EQ(single.logvar, folder.logvar) << "VAE encoder log-variances differ";
  EXPECT_EQ(single.text_skip1, folder.text_skip1) << "text encoder outputs differ";
  EXPECT_EQ(single.text_skip2, folder.text_skip2) << "text encoder outputs (clip skip 2) differ";
}

TEST(SdCheckpoint, OlderTextEncoderLayoutIsRenamedIntoTextModel) {
  expect_same_store(open_ok("tiny_sd.safetensors").text_encoder(),
                    open_ok("tiny_sd_old_clip.safetensors").text_encoder());
}

TEST(SdCheckpoint, SeparateVaeReplacesTheBuiltInOneInEveryLayout) {
  SdCheckpoint bare = open_ok("tiny_sd.safetensors", {kDir + "vae_bare.safetensors"});
  Result<SafetensorsFile> file = SafetensorsFile::open(kDir + "vae_bare.safetensors");
  ASSERT_TRUE(file.ok());
  ASSERT_EQ(bare.vae().size(), file->tensors().size());
  for (const SafetensorsTensorInfo& t : file->tensors()) {
    const Tensor* loaded = bare.vae().find(t.name);
    ASSERT_NE(loaded, nullptr) << t.name;
    EXPECT_EQ(std::memcmp(loaded->data, file->tensor(t.name)->data, t.nbytes()), 0) << t.name;
  }
  EXPECT_NE(std::memcmp(bare.vae().find("decoder.conv_out.weight")->data,
                        open_ok("tiny_sd.safetensors").vae().find("decoder.conv_out.weight")->data, 4),
            0);
  expect_same_store(bare.vae(), open_ok("tiny_sd.safetensors", {kDir + "vae_prefixed.safetensors"}).vae());
  expect_same_store(bare.vae(), open_ok("tiny_sd.safetensors", {kDir + "vae_diffusers.safetensors"}).vae());
  expect_same_store(bare.vae(), open_ok("tiny_sd_diffusers", {kDir + "vae_bare.safetensors"}).vae());
  // A diffusers vae/ folder as the separate VAE.
  expect_same_store(open_ok("tiny_sd_f16.safetensors").vae(),
                    open_ok("tiny_sd.safetensors", {kDir + "tiny_sd_diffusers/vae"}).vae());
  expect_same_store(bare.unet(), open_ok("tiny_sd.safetensors").unet());

  std::string not_vae = open_error("tiny_sd.safetensors", {kDir + "sd3.safetensors"});
  EXPECT_NE(not_vae.find("not a VAE"), std::string::npos) << not_vae;
}

TEST(SdCheckpoint, ShardedSingleFileGivesTheSameWeights) {
  SdCheckpoint sharded = open_ok("tiny_sd_sharded.safetensors.index.json");
  EXPECT_EQ(sharded.name(), "tiny_sd_sharded");
  SdCheckpoint single = open_ok("tiny_sd.safetensors");
  expect_same_store(single.unet(), sharded.unet());
  expect_same_store(single.vae(), sharded.vae());
  expect_same_store(single.text_encoder(), sharded.text_encoder());
}

TEST(SdCheckpoint, FileWithoutVaeNeedsASeparateOne) {
  std::string message = open_error("tiny_sd_no_vae.safetensors");
  EXPECT_NE(message.find("has no VAE (first_stage_model.*); name one with --vae FILE"), std::string::npos) << message;
  expect_same_store(open_ok("tiny_sd_no_vae.safetensors", {kDir + "vae_bare.safetensors"}).vae(),
                    open_ok("tiny_sd.safetensors", {kDir + "vae_bare.safetensors"}).vae());
}

TEST(SdCheckpoint, InpaintingUnetHasNineInputChannels) {
  EXPECT_TRUE(open_ok("tiny_sd_inpaint.safetensors").is_inpainting());
}

TEST(SdCheckpoint, OtherFamiliesSayWhatWasFound) {
  const std::pair<const char*, const char*> cases[] = {
      {"sdxl.safetensors", "SDXL checkpoint (found 'conditioner.embedders."},
      {"sd2_openclip.safetensors", "SD 2.x checkpoint (found 'cond_stage_model.model."},
      {"sd2_width.safetensors", "attn2.to_k.weight' has shape [8, 1024]"},
      {"sd3.safetensors", "SD3 checkpoint (found 'model.diffusion_model.joint_blocks."},
      {"flux.safetensors", "Flux checkpoint (found 'double_blocks."},
      {"no_components.safetensors", "no Stable Diffusion component"},
  };
  for (const auto& [file, expected] : cases) {
    std::string message = open_error(file);
    EXPECT_NE(message.find(expected), std::string::npos) << message;
  }
  EXPECT_NE(open_error("no_components.safetensors").find("'encoder.layer.0.weight'"), std::string::npos);
}

TEST(SdCheckpoint, PicklesAreRefusedWithAConversionHint) {
  for (const char* file : {"model.ckpt", "legacy.pt", "pickle_named.safetensors"}) {
    Result<SdCheckpoint> ckpt = SdCheckpoint::open(kDir + file);
    ASSERT_FALSE(ckpt.ok()) << file;
    EXPECT_EQ(ckpt.status().code(), StatusCode::kUnsupported) << file;
    const std::string& m = ckpt.status().message();
    EXPECT_NE(m.find("never loaded"), std::string::npos) << m;
    EXPECT_NE(m.find("st.save_file"), std::string::npos) << m;
  }
  EXPECT_NE(SdCheckpoint::open(kDir + "pickle_named.safetensors").status().message().find("by its content"),
            std::string::npos);
}

TEST(SdCheckpoint, DiffusersConfigGivesGroupNormGroupsAndAttentionHeads) {
  EXPECT_EQ(open_ok("tiny_sd_diffusers").unet().norm_groups(), 32);  // config.json without norm_num_groups
  EXPECT_EQ(open_ok("tiny_sd_diffusers").vae().norm_groups(), 32);   // no config.json
  const std::filesystem::path dir = std::filesystem::path(test_temp_path("sd_norm_groups"));
  std::filesystem::remove_all(dir);
  std::filesystem::copy(kDir + "tiny_sd_diffusers", dir, std::filesystem::copy_options::recursive);
  auto write = [&](const char* component, const char* text) { std::ofstream(dir / component / "config.json") << text; };
  write("unet", R"({"_class_name": "UNet2DConditionModel", "norm_num_groups": 4})");
  write("vae", R"({"_class_name": "AutoencoderKL", "norm_num_groups": 8})");
  Result<SdCheckpoint> ckpt = SdCheckpoint::open(dir.string());
  ASSERT_TRUE(ckpt.ok()) << ckpt.status().to_string();
  EXPECT_EQ(ckpt.value().unet().norm_groups(), 4);
  EXPECT_EQ(ckpt.value().vae().norm_groups(), 8);
  // The separate VAE given as a folder brings its own.
  Result<SdCheckpoint> with_vae = SdCheckpoint::open(kDir + "tiny_sd.safetensors", {(dir / "vae").string()});
  ASSERT_TRUE(with_vae.ok()) << with_vae.status().to_string();
  EXPECT_EQ(with_vae.value().vae().norm_groups(), 8);
  for (const char* bad : {R"({"norm_num_groups": 0})", R"({"norm_num_groups": "8"})", R"({"norm_num_groups": 1e9})"}) {
    write("unet", bad);
    Result<SdCheckpoint> r = SdCheckpoint::open(dir.string());
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().to_string().find("unet/config.json: norm_num_groups"), std::string::npos) << r.status().to_string();
  }
  // Attention heads: SD 1.x configs name the head count attention_head_dim; num_attention_heads wins.
  const std::pair<const char*, int64_t> heads_cases[] = {
      {R"({"norm_num_groups": 4})", 8},
      {R"({"attention_head_dim": 4})", 4},
      {R"({"attention_head_dim": [5, 5, 5]})", 5},
      {R"({"attention_head_dim": 8, "num_attention_heads": 2})", 2},
      {R"({"attention_head_dim": 8, "num_attention_heads": null})", 8}};
  for (const auto& [config, heads] : heads_cases) {
    write("unet", config);
    Result<SdCheckpoint> r = SdCheckpoint::open(dir.string());
    ASSERT_TRUE(r.ok()) << config << ": " << r.status().to_string();
    EXPECT_EQ(r.value().unet().attention_heads(), heads) << config;
  }
  write("unet", R"({"attention_head_dim": [5, 10, 20, 20]})");
  Result<SdCheckpoint> per_level = SdCheckpoint::open(dir.string());
  ASSERT_FALSE(per_level.ok());
  EXPECT_NE(per_level.status().to_string().find("attention_head_dim [5,10,20,20] differs between blocks"),
            std::string::npos) << per_level.status().to_string();
  write("unet", "[1, 2");
  Result<SdCheckpoint> r = SdCheckpoint::open(dir.string());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().to_string().find("unet/config.json: not a JSON object"), std::string::npos) << r.status().to_string();
  std::filesystem::remove_all(dir);
}

TEST(SdCheckpoint, MissingPathsAreErrors) {
  EXPECT_FALSE(SdCheckpoint::open(kDir + "absent.safetensors").ok());
  std::string message = open_error("tiny_sd.safetensors", {kDir + "absent_vae.safetensors"});
  EXPECT_NE(message.find("absent_vae.safetensors"), std::string::npos) << message;
}

}  // namespace
}  // namespace aigc
