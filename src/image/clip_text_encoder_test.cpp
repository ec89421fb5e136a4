// ClipTextEncoder against the PyTorch reference (tools/reference/image/
// clip_text.py, written by clip_text_ref.py with a small random encoder:
// dim 128, 2 heads, 3 layers, ffn 256, the real 49,408-token vocabulary).
// The reference runs in float64 on the same (possibly rounded) weights.
// Tolerance: max |diff| / max |ref| below 1e-5 for F32, F16 and BF16 weights
// (measured: 2e-7 to 4e-7 for all three: the weights are the same numbers,
// only the float32 rounding of the activations differs). Also: config from the shapes,
// clip_skip, bad ids, missing / mis-shaped / mistyped tensors, thread-count
// independence. The full-size (SD 1.5) speed is in bench/sd_models_bench.cpp.
#include "image/clip_text_encoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/threads.h"
#include "formats/safetensors.h"

namespace aigc {
namespace {

constexpr double kTolerance = 1e-5;
constexpr int64_t kPositions = 77, kDim = 128;

std::string clip_dir() { return std::string(AIGC_BUILD_TESTDATA_DIR) + "/image/clip_text/"; }

// max |got - want| / max |want|
double relative_error(const std::vector<float>& got, const std::vector<float>& want) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    diff = std::max(diff, std::fabs(double(got[i]) - double(want[i])));
    scale = std::max(scale, std::fabs(double(want[i])));
  }
  return diff / scale;
}

// A safetensors file and the text-encoder store over it (the file must outlive the views).
struct Checkpoint {
  SafetensorsFile file;
  WeightStore store{"text encoder"};
};

std::unique_ptr<Checkpoint> open_checkpoint(const std::string& name) {
  Result<SafetensorsFile> file = SafetensorsFile::open(clip_dir() + name);
  EXPECT_TRUE(file.ok()) << file.status().message();
  if (!file.ok()) return nullptr;
  auto ckpt = std::make_unique<Checkpoint>(Checkpoint{std::move(*file), WeightStore("text encoder")});
  ckpt->store.add_from_safetensors(ckpt->file, "cond_stage_model.transformer.");
  return ckpt;
}

class ClipTextEncoderTest : public ::testing::Test {
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

  static std::vector<float> ref(const std::string& name, int64_t n) {
    Result<Tensor> t = cases_->file.tensor(name);
    EXPECT_TRUE(t.ok()) << t.status().message();
    if (!t.ok()) return {};
    EXPECT_EQ(t->numel(), n) << name;
    EXPECT_EQ(t->dtype, DType::F32) << name;
    return std::vector<float>(t->ptr<float>(), t->ptr<float>() + std::min(n, t->numel()));
  }

  static std::vector<int32_t> ids(const std::string& name) {
    std::vector<int32_t> out;
    for (float f : ref(name, kPositions)) out.push_back(static_cast<int32_t>(f));
    return out;
  }

  static ClipTextEncoder load(const WeightStore& store) {
    Result<ClipTextEncoder> enc = ClipTextEncoder::load(store);
    EXPECT_TRUE(enc.ok()) << enc.status().message();
    return std::move(*enc);
  }

  static inline Checkpoint* cases_ = nullptr;
  static inline Checkpoint* f32_ = nullptr;
};

TEST_F(ClipTextEncoderTest, ConfigFromShapes) {
  const ClipTextEncoder enc = load(f32_->store);
  const ClipTextConfig& c = enc.config();
  EXPECT_EQ(c.vocab, 49408);
  EXPECT_EQ(c.n_positions, kPositions);
  EXPECT_EQ(c.dim, kDim);
  EXPECT_EQ(c.n_layers, 3);
  EXPECT_EQ(c.n_heads, 2);
  EXPECT_EQ(c.ffn_dim, 256);
  // 3 layers x (77 x (4 x 128^2 + 2 x 128 x 256) + 77 x 78 / 2 x 2 x 128) multiply-adds, x 2
  EXPECT_DOUBLE_EQ(enc.flops(), 2.0 * 3 * (77.0 * (4 * 128 * 128 + 2 * 128 * 256) + 77.0 * 78 / 2 * 2 * 128));
}

TEST_F(ClipTextEncoderTest, MatchesReferenceForEachWeightType) {
  for (const char* type : {"f32", "f16", "bf16"}) {
    std::unique_ptr<Checkpoint> ckpt = open_checkpoint(std::string("small_") + type + ".safetensors");
    ASSERT_NE(ckpt, nullptr);
    const ClipTextEncoder enc = load(ckpt->store);
    for (const char* window : {"a", "b"}) {
      const std::vector<int32_t> window_ids = ids(std::string("ids_") + window);
      for (int skip : {1, 2}) {
        const std::string name = std::string("encode_") + type + "_" + window + "_skip" + std::to_string(skip);
        std::vector<float> got(kPositions * kDim);
        ASSERT_TRUE(enc.encode(window_ids.data(), skip, got.data()).ok());
        const double err = relative_error(got, ref(name, kPositions * kDim));
        EXPECT_LE(err, kTolerance) << name;
        std::printf("  %-24s relative error %.2e\n", name.c_str(), err);
      }
    }
  }
}

TEST_F(ClipTextEncoderTest, ClipSkipThreeRunsOnlyTheFirstLayer) {
  const ClipTextEncoder enc = load(f32_->store);
  const std::vector<int32_t> window_ids = ids("ids_a");
  std::vector<float> got(kPositions * kDim), skip1(kPositions * kDim);
  ASSERT_TRUE(enc.encode(window_ids.data(), 3, got.data()).ok());
  EXPECT_LE(relative_error(got, ref("encode_f32_a_skip3", kPositions * kDim)), kTolerance);
  ASSERT_TRUE(enc.encode(window_ids.data(), 1, skip1.data()).ok());
  EXPECT_GT(relative_error(got, skip1), 0.1);  // the layers do change the result
}

TEST_F(ClipTextEncoderTest, RejectsBadIdsAndClipSkip) {
  const ClipTextEncoder enc = load(f32_->store);
  std::vector<int32_t> window_ids = ids("ids_a");
  std::vector<float> out(kPositions * kDim);
  for (int skip : {0, 4, -1}) {
    const Status s = enc.encode(window_ids.data(), skip, out.data());
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << skip;
    EXPECT_NE(s.message().find("clip_skip " + std::to_string(skip)), std::string::npos) << s.message();
  }
  for (int32_t bad : {49408, -1}) {
    window_ids[5] = bad;
    const Status s = enc.encode(window_ids.data(), 1, out.data());
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("token id " + std::to_string(bad) + " at position 5"), std::string::npos)
        << s.message();
  }
}

TEST_F(ClipTextEncoderTest, ResultDoesNotDependOnThreadCount) {
  const ClipTextEncoder enc = load(f32_->store);
  const std::vector<int32_t> window_ids = ids("ids_b");
  std::vector<float> one(kPositions * kDim), two(kPositions * kDim);
  const int saved = num_threads();
  set_num_threads(1);
  ASSERT_TRUE(enc.encode(window_ids.data(), 1, one.data()).ok());
  set_num_threads(2);
  ASSERT_TRUE(enc.encode(window_ids.data(), 1, two.data()).ok());
  set_num_threads(saved);
  EXPECT_EQ(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)), 0);
}

// A store with every tensor of `from` except `skip`, optionally replacing one
// by `replacement`.
WeightStore copy_store(const WeightStore& from, const std::string& skip, const Tensor* replacement = nullptr) {
  WeightStore out("text encoder");
  for (const auto& [name, t] : from.tensors()) {
    if (name != skip) out.add(name, t);
  }
  if (replacement) out.add(skip, *replacement);
  return out;
}

TEST_F(ClipTextEncoderTest, MissingTensorIsNamed) {
  for (const char* name : {"text_model.encoder.layers.1.mlp.fc2.bias", "text_model.final_layer_norm.weight",
                           "text_model.embeddings.position_embedding.weight",
                           "text_model.embeddings.token_embedding.weight"}) {
    const WeightStore store = copy_store(f32_->store, name);
    Result<ClipTextEncoder> enc = ClipTextEncoder::load(store);
    ASSERT_FALSE(enc.ok()) << name;
    EXPECT_EQ(enc.status().code(), StatusCode::kNotFound) << enc.status().message();
    EXPECT_NE(enc.status().message().find(name), std::string::npos) << enc.status().message();
  }
  // Without layer 0 there are no layers at all.
  WeightStore store = copy_store(f32_->store, "text_model.encoder.layers.0.layer_norm1.weight");
  Result<ClipTextEncoder> enc = ClipTextEncoder::load(store);
  ASSERT_FALSE(enc.ok());
  EXPECT_NE(enc.status().message().find("no transformer layers"), std::string::npos) << enc.status().message();
}

TEST_F(ClipTextEncoderTest, MisShapedOrMistypedTensorIsNamed) {
  const Tensor* fc1 = f32_->store.find("text_model.encoder.layers.2.mlp.fc1.weight");
  ASSERT_NE(fc1, nullptr);
  const Tensor narrow = make_tensor(DType::F32, {256, 64}, fc1->data);  // [ffn, dim / 2]
  {
    const WeightStore store = copy_store(f32_->store, "text_model.encoder.layers.2.mlp.fc1.weight", &narrow);
    Result<ClipTextEncoder> enc = ClipTextEncoder::load(store);
    ASSERT_FALSE(enc.ok());
    EXPECT_EQ(enc.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(enc.status().message().find("layers.2.mlp.fc1.weight"), std::string::npos) << enc.status().message();
    EXPECT_NE(enc.status().message().find("[256, 64]"), std::string::npos) << enc.status().message();
  }
  {  // a width that is not a multiple of the 64-wide heads
    const Tensor* token = f32_->store.find("text_model.embeddings.token_embedding.weight");
    const Tensor odd = make_tensor(DType::F32, {49408, 96}, token->data);
    const WeightStore store = copy_store(f32_->store, "text_model.embeddings.token_embedding.weight", &odd);
    Result<ClipTextEncoder> enc = ClipTextEncoder::load(store);
    ASSERT_FALSE(enc.ok());
    EXPECT_NE(enc.status().message().find("not a multiple of the head size 64"), std::string::npos)
        << enc.status().message();
  }
  {  // a quantized type
    const Tensor* q = f32_->store.find("text_model.encoder.layers.0.self_attn.q_proj.weight");
    const Tensor q8 = make_tensor(DType::Q8_0, {128, 128}, q->data);
    const WeightStore store = copy_store(f32_->store, "text_model.encoder.layers.0.self_attn.q_proj.weight", &q8);
    Result<ClipTextEncoder> enc = ClipTextEncoder::load(store);
    ASSERT_FALSE(enc.ok());
    EXPECT_EQ(enc.status().code(), StatusCode::kUnsupported);
    EXPECT_NE(enc.status().message().find("q_proj.weight' has type Q8_0"), std::string::npos)
        << enc.status().message();
  }
}

}  // namespace
}  // namespace aigc
