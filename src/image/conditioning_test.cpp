// Prompt conditioning against the PyTorch reference (tools/reference/image/
// clip_text.py: the web UI's weighting with mean restoration, windows
// concatenated, the shorter prompt padded with the empty prompt), written by
// clip_text_ref.py with the small random encoder:
//   - window cases (ids and weights chosen by the script): always;
//   - prompt cases (prompt strings through the real tokenizer and the prompt
//     parser; the script knows their ids from ../shared/data/clip/
//     tokenizer_cases.json): skipped with a message when that data is absent.
// Tolerance: max |diff| / max |ref| below 1e-5 (measured about 3e-7; the
// reference runs in float64).
#include "image/conditioning.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "formats/safetensors.h"

namespace aigc {
namespace {

constexpr double kTolerance = 1e-5;
constexpr int64_t kPositions = 77, kDim = 128;
constexpr int32_t kStartId = 49406, kEndId = 49407;

std::string clip_dir() { return std::string(AIGC_BUILD_TESTDATA_DIR) + "/image/clip_text/"; }
std::string merges_path() { return std::string(AIGC_SHARED_DATA_DIR) + "/clip/bpe_simple_vocab_16e6.txt.gz"; }

double relative_error(const std::vector<float>& got, const std::vector<float>& want) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    diff = std::max(diff, std::fabs(double(got[i]) - double(want[i])));
    scale = std::max(scale, std::fabs(double(want[i])));
  }
  return diff / scale;
}

ClipWindow empty_window() {
  ClipWindow w;
  w.ids.assign(kPositions, kEndId);
  w.ids[0] = kStartId;
  w.weights.assign(kPositions, 1.0f);
  return w;
}

class ConditioningTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Result<SafetensorsFile> cases = SafetensorsFile::open(clip_dir() + "cases.safetensors");
    Result<SafetensorsFile> model = SafetensorsFile::open(clip_dir() + "small_f32.safetensors");
    if (!cases.ok() || !model.ok()) return;
    cases_ = new SafetensorsFile(std::move(*cases));
    model_file_ = new SafetensorsFile(std::move(*model));
    store_ = new WeightStore("text encoder");
    store_->add_from_safetensors(*model_file_, "cond_stage_model.transformer.");
    Result<ClipTextEncoder> enc = ClipTextEncoder::load(*store_);
    if (enc.ok()) enc_ = new ClipTextEncoder(std::move(*enc));
  }
  static void TearDownTestSuite() {
    delete enc_;
    delete store_;
    delete model_file_;
    delete cases_;
  }
  void SetUp() override {
    ASSERT_NE(cases_, nullptr) << "cannot open " << clip_dir() << "cases.safetensors";
    ASSERT_NE(enc_, nullptr) << "cannot load " << clip_dir() << "small_f32.safetensors";
  }

  static std::vector<float> ref(const std::string& name, std::vector<int64_t> shape) {
    Result<Tensor> t = cases_->tensor(name);
    EXPECT_TRUE(t.ok()) << t.status().message();
    if (!t.ok()) return {};
    EXPECT_EQ(t->n_dims, static_cast<int>(shape.size())) << name;
    for (int i = 0; i < t->n_dims && i < static_cast<int>(shape.size()); ++i) {
      if (shape[i] >= 0) {
        EXPECT_EQ(t->shape[i], shape[i]) << name << " dim " << i;
      }
    }
    return std::vector<float>(t->ptr<float>(), t->ptr<float>() + t->numel());
  }

  // The windows stored as `<name>_ids` and `<name>_weights`, [n, 77] each.
  static std::vector<ClipWindow> windows(const std::string& name) {
    const std::vector<float> ids = ref(name + "_ids", {-1, kPositions});
    const std::vector<float> weights = ref(name + "_weights", {-1, kPositions});
    EXPECT_EQ(ids.size(), weights.size());
    std::vector<ClipWindow> out(ids.size() / kPositions);
    for (size_t i = 0; i < ids.size(); ++i) {
      out[i / kPositions].ids.push_back(static_cast<int32_t>(ids[i]));
      out[i / kPositions].weights.push_back(weights[i]);
    }
    return out;
  }

  static void expect_matches(const PromptConditioning& got, const std::string& name) {
    const std::vector<float> cond = ref(name + "_cond", {-1, kDim});
    const std::vector<float> uncond = ref(name + "_uncond", {-1, kDim});
    ASSERT_EQ(got.dim, kDim);
    ASSERT_EQ(got.n_tokens * kDim, static_cast<int64_t>(cond.size())) << name;
    ASSERT_EQ(got.cond.size(), cond.size());
    ASSERT_EQ(got.uncond.size(), uncond.size());
    const double err_cond = relative_error(got.cond, cond), err_uncond = relative_error(got.uncond, uncond);
    EXPECT_LE(err_cond, kTolerance) << name;
    EXPECT_LE(err_uncond, kTolerance) << name;
    std::printf("  %s: %lld tokens, relative error cond %.2e, uncond %.2e\n", name.c_str(),
                static_cast<long long>(got.n_tokens), err_cond, err_uncond);
  }

  static inline SafetensorsFile* cases_ = nullptr;
  static inline SafetensorsFile* model_file_ = nullptr;
  static inline WeightStore* store_ = nullptr;
  static inline ClipTextEncoder* enc_ = nullptr;
};

TEST_F(ConditioningTest, WindowsMatchReference) {
  const int clip_skip[] = {1, 2};
  const char* names[] = {"w1", "w2"};
  for (int c = 0; c < 2; ++c) {
    const std::vector<ClipWindow> cond = windows(std::string(names[c]) + "_cond");
    const std::vector<ClipWindow> uncond = windows(std::string(names[c]) + "_uncond");
    Result<PromptConditioning> got = encode_prompt_windows(*enc_, cond, uncond, empty_window(), clip_skip[c]);
    ASSERT_TRUE(got.ok()) << got.status().message();
    expect_matches(*got, names[c]);
  }
}

TEST_F(ConditioningTest, UnitWeightsGiveThePlainEncoding) {
  ClipWindow w = windows("w2_cond")[1];
  std::fill(w.weights.begin(), w.weights.end(), 1.0f);
  std::vector<float> weighted(kPositions * kDim), plain(kPositions * kDim);
  ASSERT_TRUE(encode_weighted_window(*enc_, w, 2, weighted.data()).ok());
  ASSERT_TRUE(enc_->encode(w.ids.data(), 2, plain.data()).ok());
  EXPECT_EQ(std::memcmp(weighted.data(), plain.data(), plain.size() * sizeof(float)), 0);
}

TEST_F(ConditioningTest, RejectsBadWindows) {
  ClipWindow short_window = empty_window();
  short_window.ids.pop_back();
  short_window.weights.pop_back();
  Result<PromptConditioning> got = encode_prompt_windows(*enc_, {short_window}, {empty_window()}, empty_window(), 1);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("76 ids and 76 weights; the text encoder takes 77"), std::string::npos)
      << got.status().message();

  got = encode_prompt_windows(*enc_, {empty_window()}, {}, empty_window(), 1);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("negative has no windows"), std::string::npos) << got.status().message();

  got = encode_prompt_windows(*enc_, {empty_window()}, {empty_window()}, empty_window(), 9);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("clip_skip 9"), std::string::npos) << got.status().message();
}

TEST_F(ConditioningTest, PromptsMatchReference) {
  if (!std::filesystem::exists(merges_path()) || !cases_->find_metadata("p1_prompt")) {
    GTEST_SKIP() << "no CLIP tokenizer data (" << merges_path()
                 << " and tokenizer_cases.json beside it): prompt cases not tested";
  }
  Result<ClipTokenizer> tok = ClipTokenizer::from_merges_file(merges_path());
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  for (const std::string name : {"p1", "p2", "p3"}) {
    const std::string* prompt = cases_->find_metadata(name + "_prompt");
    const std::string* negative = cases_->find_metadata(name + "_negative");
    const std::string* clip_skip = cases_->find_metadata(name + "_clip_skip");
    ASSERT_TRUE(prompt && negative && clip_skip) << name;
    Result<PromptConditioning> got = encode_prompts(*tok, *enc_, *prompt, *negative, std::stoi(*clip_skip));
    ASSERT_TRUE(got.ok()) << got.status().message();
    expect_matches(*got, name);
  }
}

TEST_F(ConditioningTest, BadPromptIsReported) {
  if (!std::filesystem::exists(merges_path())) GTEST_SKIP() << "no CLIP merges file at " << merges_path();
  Result<ClipTokenizer> tok = ClipTokenizer::from_merges_file(merges_path());
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  Result<PromptConditioning> got = encode_prompts(*tok, *enc_, "a cat", "bad \xff utf-8", 1);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument) << got.status().message();
}

}  // namespace
}  // namespace aigc
