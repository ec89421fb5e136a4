// apply_loras against the torch merge of tools/reference/image/lora.py on the
// fixtures of loader_ref.py: F32 (relative 1e-6), F16/BF16 (one unit in the
// last place of the stored type), several LoRAs, ldm and diffusers module
// names, unmatched and mis-shaped keys, thread-count independence.
#include "image/lora.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <tuple>

#include "core/dtype.h"
#include "formats/safetensors.h"
#include "image/sd_checkpoint.h"

namespace aigc {
namespace {

const std::string kDir = std::string(AIGC_BUILD_TESTDATA_DIR) + "/image/loader/";

SdCheckpoint open_ok(const std::string& file) {
  Result<SdCheckpoint> ckpt = SdCheckpoint::open(kDir + file);
  if (!ckpt.ok()) throw std::runtime_error(ckpt.status().to_string());  // gtest reports it as a failure
  return std::move(ckpt).value();
}

std::vector<float> values(const Tensor& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  dtype_traits(t.dtype)->to_float(t.data, v.data(), t.numel());
  return v;
}

// The store and name of a full single-file checkpoint name.
const Tensor* find(const SdCheckpoint& ckpt, const std::string& full) {
  for (const auto& [prefix, store] : {std::pair{"model.diffusion_model.", &ckpt.unet()},
                                      std::pair{"cond_stage_model.transformer.", &ckpt.text_encoder()}}) {
    if (full.starts_with(prefix)) return store->find(full.substr(std::string_view(prefix).size()));
  }
  return nullptr;
}

// Every weight of `ckpt` but those named in `except` is byte-identical to `original`'s.
void expect_unchanged(const SdCheckpoint& ckpt, const SdCheckpoint& original, const SafetensorsFile* except) {
  for (const auto& [prefix, store, before] :
       {std::tuple{"model.diffusion_model.", &ckpt.unet(), &original.unet()},
        std::tuple{"cond_stage_model.transformer.", &ckpt.text_encoder(), &original.text_encoder()}}) {
    for (const auto& [name, t] : store->tensors()) {
      if (except && except->find(prefix + name)) continue;
      EXPECT_EQ(std::memcmp(t.data, before->find(name)->data, t.nbytes()), 0) << prefix + name << " changed";
    }
  }
}

// Every merged weight of `reference_file` equals `ckpt`'s: F32 within 1e-6 of
// the tensor's largest magnitude; F16/BF16 within one unit in the last place
// of the reference value (the F32 sums may differ in the last bits and round
// the other way). Every other weight is byte-identical to `original`.
void expect_merged(const SdCheckpoint& ckpt, const SdCheckpoint& original, const std::string& reference_file) {
  Result<SafetensorsFile> ref = SafetensorsFile::open(kDir + reference_file);
  ASSERT_TRUE(ref.ok()) << ref.status().to_string();
  size_t n_exact = 0, n_total = 0;
  for (const SafetensorsTensorInfo& info : ref->tensors()) {
    const Tensor* got = find(ckpt, info.name);
    ASSERT_NE(got, nullptr) << info.name;
    Tensor want = ref->tensor(info.name).value();
    ASSERT_EQ(got->dtype, want.dtype) << info.name;
    ASSERT_EQ(got->shape_string(), want.shape_string()) << info.name;
    ASSERT_NE(got->data, find(original, info.name)->data) << info.name << ": not an owned copy";
    const std::vector<float> g = values(*got), w = values(want);
    float max_abs = 0;
    for (float x : w) max_abs = std::max(max_abs, std::fabs(x));
    const int mantissa_bits = want.dtype == DType::F32 ? 0 : want.dtype == DType::F16 ? 10 : 7;
    for (size_t i = 0; i < w.size(); ++i) {
      const float tol = mantissa_bits == 0 ? 1e-6f * max_abs
                                           : std::ldexp(1.0f, std::ilogb(std::fabs(w[i])) - mantissa_bits);
      ASSERT_LE(std::fabs(g[i] - w[i]), tol) << info.name << " [" << i << "]: " << g[i] << " vs " << w[i];
      n_exact += g[i] == w[i];
      ++n_total;
    }
  }
  std::printf("%s: %zu tensors, %zu of %zu values bit-exact\n", reference_file.c_str(), ref->tensors().size(),
              n_exact, n_total);
  expect_unchanged(ckpt, original, &ref.value());
}

TEST(Lora, OneLoraMatchesTheReferenceMergeInF32) {
  SdCheckpoint ckpt = open_ok("tiny_sd.safetensors");
  std::vector<LoraReport> reports;
  ASSERT_TRUE(apply_loras(ckpt, {{kDir + "lora_ldm.safetensors", 0.75f}}, &reports).ok());
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].n_modules, 7u);
  EXPECT_EQ(reports[0].n_unmatched_keys, 0u);
  expect_merged(ckpt, open_ok("tiny_sd.safetensors"), "merged_f32_ldm.safetensors");
}

TEST(Lora, TwoLorasWithLdmAndDiffusersNamesMatchTheReference) {
  SdCheckpoint ckpt = open_ok("tiny_sd.safetensors");
  std::vector<LoraReport> reports;
  ASSERT_TRUE(apply_loras(ckpt, {{kDir + "lora_ldm.safetensors", 0.75f}, {kDir + "lora_diffusers.safetensors", -0.5f}},
                          &reports)
                  .ok());
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[1].n_modules, 5u);
  expect_merged(ckpt, open_ok("tiny_sd.safetensors"), "merged_f32_two.safetensors");
}

TEST(Lora, F16AndBf16WeightsAreMergedInF32AndRoundedOnce) {
  for (const char* file : {"tiny_sd_f16.safetensors", "tiny_sd_diffusers"}) {
    SdCheckpoint ckpt = open_ok(file);
    Status s = apply_loras(ckpt, {{kDir + "lora_ldm.safetensors", 0.75f}, {kDir + "lora_diffusers.safetensors", 1.0f}});
    ASSERT_TRUE(s.ok()) << s.to_string();
    expect_merged(ckpt, open_ok(file), "merged_f16_two.safetensors");
  }
}

TEST(Lora, SameBitsWithAnyThreadCount) {
  std::vector<std::vector<uint8_t>> results;
  const int saved = omp_get_max_threads();
  for (int threads : {1, 3}) {
    omp_set_num_threads(threads);
    SdCheckpoint ckpt = open_ok("tiny_sd.safetensors");
    ASSERT_TRUE(apply_loras(ckpt, {{kDir + "lora_diffusers.safetensors", 0.3f}}).ok());
    const Tensor* w = ckpt.unet().find("output_blocks.5.0.in_layers.2.weight");
    const uint8_t* p = static_cast<const uint8_t*>(w->data);
    results.emplace_back(p, p + w->nbytes());
  }
  omp_set_num_threads(saved);
  EXPECT_EQ(results[0], results[1]);
}

TEST(Lora, PartlyMatchingLoraReportsItsUnmatchedKeys) {
  SdCheckpoint ckpt = open_ok("tiny_sd.safetensors");
  std::vector<LoraReport> reports;
  ASSERT_TRUE(apply_loras(ckpt, {{kDir + "lora_partial.safetensors", 1.0f}}, &reports).ok());
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].n_modules, 1u);
  EXPECT_EQ(reports[0].n_unmatched_keys, 3u);  // up, down and alpha of input_blocks.99
  ASSERT_FALSE(reports[0].unmatched_examples.empty());
  EXPECT_TRUE(reports[0].unmatched_examples[0].starts_with("lora_unet_input_blocks_99_1_proj_in."));
  EXPECT_NE(std::memcmp(ckpt.text_encoder().find("text_model.encoder.layers.0.mlp.fc2.weight")->data,
                        open_ok("tiny_sd.safetensors").text_encoder().find("text_model.encoder.layers.0.mlp.fc2.weight")->data,
                        16 * 64 * 4),
            0);
}

TEST(Lora, LoraMatchingNothingIsAnErrorNamingFileAndKeys) {
  SdCheckpoint ckpt = open_ok("tiny_sd.safetensors");
  Status s = apply_loras(ckpt, {{kDir + "lora_ldm.safetensors", 1.0f}, {kDir + "lora_nomatch.safetensors", 1.0f}});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("lora_nomatch.safetensors: none of its 6 keys"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("'lora_te2_text_model_encoder_layers_0_self_attn_q_proj.alpha'"), std::string::npos)
      << s.message();
  // Nothing was merged, not even the first LoRA.
  expect_unchanged(ckpt, open_ok("tiny_sd.safetensors"), nullptr);
}

TEST(Lora, MisShapedModuleIsAnErrorAndChangesNothing) {
  SdCheckpoint ckpt = open_ok("tiny_sd.safetensors");
  Status s = apply_loras(ckpt, {{kDir + "lora_bad_shape.safetensors", 1.0f}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("LoRA module 'lora_unet_out_2': up [4, 2, 1, 1] and down [2, 8, 1, 1] do not fit the "
                             "weight's shape [4, 8, 3, 3]"),
            std::string::npos)
      << s.message();
  expect_unchanged(ckpt, open_ok("tiny_sd.safetensors"), nullptr);
  EXPECT_FALSE(apply_loras(ckpt, {{kDir + "absent_lora.safetensors", 1.0f}}).ok());
  Status loha = apply_loras(ckpt, {{kDir + "lora_loha.safetensors", 1.0f}});
  EXPECT_EQ(loha.code(), StatusCode::kUnsupported);
  EXPECT_NE(loha.message().find("LyCORIS"), std::string::npos) << loha.message();
}

}  // namespace
}  // namespace aigc
