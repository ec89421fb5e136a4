// The real vocabularies in ../shared/data/vocab: token ids must equal the
// reference tokenizers' on every case, and decoding must give the text back.
#include <gtest/gtest.h>

#include <filesystem>

#include "formats/gguf.h"
#include "text/tokenizer/streaming_decoder.h"
#include "text/tokenizer/tokenizer.h"
#include "text/tokenizer/tokenizer_test_util.h"
#include "text/tokenizer/utf8.h"

namespace aigc {
namespace {

using tokenizer_test::kVocabDir;
using tokenizer_test::read_cases;

std::string ids_string(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) {
    s += ' ';
    s += std::to_string(id);
  }
  return s;
}

class VocabCases : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    const std::string path = kVocabDir + GetParam();
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "test data absent: " << path;
    Result<GgufFile> file = GgufFile::open(path);
    ASSERT_TRUE(file.ok()) << file.status().to_string();
    Result<Tokenizer> tok = Tokenizer::from_gguf(*file);
    ASSERT_TRUE(tok.ok()) << tok.status().to_string();
    tokenizer_ = std::make_unique<Tokenizer>(std::move(tok).value());
    cases_ = read_cases(GetParam());
    ASSERT_FALSE(cases_.empty()) << "no cases read for " << path;
  }

  std::unique_ptr<Tokenizer> tokenizer_;
  std::vector<tokenizer_test::VocabCase> cases_;
};

TEST_P(VocabCases, IdsMatchReference) {
  int mismatches = 0;
  for (size_t i = 0; i < cases_.size(); ++i) {
    Result<std::vector<int32_t>> ids = tokenizer_->encode(cases_[i].text, false, false);
    ASSERT_TRUE(ids.ok()) << ids.status().to_string();
    if (*ids != cases_[i].ids) ++mismatches;
    EXPECT_EQ(*ids, cases_[i].ids) << "case " << i << " '" << cases_[i].text << "'\n got:     "
                                   << ids_string(*ids) << "\n expected:" << ids_string(cases_[i].ids);
  }
  EXPECT_EQ(mismatches, 0) << "of " << cases_.size() << " cases";
}

TEST_P(VocabCases, DecodeAndStreamingRoundTrip) {
  for (size_t i = 0; i < cases_.size(); ++i) {
    const std::string& text = cases_[i].text;
    Result<std::vector<int32_t>> ids = tokenizer_->encode(text, true, false);
    ASSERT_TRUE(ids.ok()) << ids.status().to_string();
    bool lossless = true;
    for (int32_t id : *ids) lossless &= id != tokenizer_->unk_id();
    if (!lossless) continue;  // the vocabulary does not cover this text
    Result<std::string> decoded = tokenizer_->decode(*ids);
    ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
    EXPECT_EQ(*decoded, text) << "case " << i;

    StreamingDecoder stream(*tokenizer_);
    std::string streamed;
    for (int32_t id : *ids) {
      Result<std::string> piece = stream.push(id);
      ASSERT_TRUE(piece.ok()) << piece.status().to_string();
      // Every emitted chunk is whole characters.
      EXPECT_TRUE(utf8_validate(*piece, "chunk").ok()) << "case " << i;
      streamed += *piece;
    }
    EXPECT_EQ(stream.pending_bytes(), 0u) << "case " << i;
    streamed += stream.finish();
    EXPECT_EQ(streamed, text) << "case " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(SharedData, VocabCases,
                         ::testing::Values("ggml-vocab-llama-spm.gguf", "ggml-vocab-phi-3.gguf",
                                           "ggml-vocab-gpt-2.gguf", "ggml-vocab-deepseek-llm.gguf",
                                           "ggml-vocab-starcoder.gguf"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string name = info.param;
                           name = name.substr(11, name.size() - 16);  // ggml-vocab-NAME.gguf
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

}  // namespace
}  // namespace aigc
