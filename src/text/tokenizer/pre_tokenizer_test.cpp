// PreTokenizer: splits against an independent Python reference
// (tools/reference/pretokenize_ref.py, hand-written matchers over
// unicodedata, no regex engine) for gpt-2, llama3 and qwen2, on the shared
// vocabulary inputs; concatenation on every type; hand-checked splits.
#include "text/tokenizer/pre_tokenizer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "text/tokenizer/tokenizer_test_util.h"

namespace aigc {
namespace {

using tokenizer_test::kVocabDir;

std::vector<std::string> split(const PreTokenizer& p, std::string_view text) {
  std::vector<std::string_view> views;
  p.split(text, views);
  return {views.begin(), views.end()};
}

PreTokenizer make(PreTokenizerType type) {
  Result<PreTokenizer> p = PreTokenizer::create(type);
  EXPECT_TRUE(p.ok()) << p.status().to_string();
  return std::move(p).value();
}

nlohmann::json reference_splits() {
  std::string text;
  const std::string path = std::string(AIGC_SOURCE_DIR) + "/src/text/tokenizer/testdata/pre_split_cases.json";
  EXPECT_TRUE(tokenizer_test::read_file(path, text)) << path;
  return nlohmann::json::parse(text);
}

TEST(PreTokenizer, MatchesIndependentReference) {
  const nlohmann::json ref = reference_splits();
  const std::pair<const char*, PreTokenizerType> types[] = {
      {"gpt-2", PreTokenizerType::kGpt2}, {"llama3", PreTokenizerType::kLlama3}, {"qwen2", PreTokenizerType::kQwen2}};
  for (const auto& [name, type] : types) {
    const PreTokenizer p = make(type);
    ASSERT_TRUE(ref.contains(name)) << name;
    ASSERT_GT(ref[name].size(), 40u) << name;
    for (size_t i = 0; i < ref[name].size(); ++i) {
      const std::vector<std::string> expected = ref[name][i].get<std::vector<std::string>>();
      std::string input;
      for (const std::string& piece : expected) input += piece;
      EXPECT_EQ(split(p, input), expected) << name << " case " << i << " '" << input << "'";
    }
  }
}

// The Llama 3 and Qwen2 vocabularies are not shipped, so their ids cannot be
// reproduced here; what can fail is that BPE never merges across pieces, so
// each input needs at least as many ids as pieces (and none iff no pieces).
TEST(PreTokenizer, PieceCountsFitReferenceIds) {
  const std::pair<const char*, PreTokenizerType> sets[] = {{"cases-llama-bpe", PreTokenizerType::kLlama3},
                                                           {"cases-qwen2", PreTokenizerType::kQwen2}};
  for (const auto& [name, type] : sets) {
    const std::vector<tokenizer_test::VocabCase> cases = tokenizer_test::read_cases(name);
    if (cases.empty()) GTEST_SKIP() << "test data absent: " << kVocabDir << name << ".inp/.out";
    const PreTokenizer p = make(type);
    for (size_t i = 0; i < cases.size(); ++i) {
      const size_t pieces = split(p, cases[i].text).size();
      EXPECT_GE(cases[i].ids.size(), pieces) << name << " case " << i;
      EXPECT_EQ(cases[i].ids.empty(), pieces == 0) << name << " case " << i;
    }
  }
}

TEST(PreTokenizer, PiecesConcatenateToInputForEveryType) {
  std::vector<std::string> inputs = tokenizer_test::read_inputs(kVocabDir + "cases-llama-bpe.inp");
  inputs.push_back("naïve café 12345 — ½ \u00a0\u3000x\r\n\r\n\t end  ");
  for (PreTokenizerType type : {PreTokenizerType::kDefault, PreTokenizerType::kGpt2, PreTokenizerType::kLlama3,
                                PreTokenizerType::kQwen2, PreTokenizerType::kDeepseekLlm,
                                PreTokenizerType::kStarcoder}) {
    const PreTokenizer p = make(type);
    for (const std::string& text : inputs) {
      std::string joined;
      for (const std::string& piece : split(p, text)) {
        EXPECT_FALSE(piece.empty()) << pre_tokenizer_name(type);
        joined += piece;
      }
      EXPECT_EQ(joined, text) << pre_tokenizer_name(type);
    }
  }
}

TEST(PreTokenizer, HandCheckedSplits) {
  using V = std::vector<std::string>;
  EXPECT_EQ(split(make(PreTokenizerType::kGpt2), "Hello world's  42!!\n"),
            (V{"Hello", " world", "'s", " ", " 42", "!!", "\n"}));
  EXPECT_EQ(split(make(PreTokenizerType::kLlama3), "I'VE 12345 apples\n\n  x"),
            (V{"I", "'VE", " ", "123", "45", " apples", "\n\n", " ", " x"}));
  EXPECT_EQ(split(make(PreTokenizerType::kQwen2), "ab 123"), (V{"ab", " ", "1", "2", "3"}));
  EXPECT_EQ(split(make(PreTokenizerType::kStarcoder), "x=12 ab"), (V{"x", "=", "1", "2", " ab"}));
  // DeepSeek: newlines alone, letter runs with one leading space, CJK runs, digit runs.
  EXPECT_EQ(split(make(PreTokenizerType::kDeepseekLlm), "Hi there\n你好 42"),
            (V{"Hi", " there", "\n", "你好", " ", "42"}));
  EXPECT_TRUE(split(make(PreTokenizerType::kGpt2), "").empty());
}

TEST(PreTokenizer, NamesFromGguf) {
  EXPECT_EQ(*pre_tokenizer_type("llama-bpe"), PreTokenizerType::kLlama3);
  EXPECT_EQ(*pre_tokenizer_type("qwen2"), PreTokenizerType::kQwen2);
  EXPECT_EQ(*pre_tokenizer_type("gpt-2"), PreTokenizerType::kGpt2);
  EXPECT_EQ(*pre_tokenizer_type("deepseek-llm"), PreTokenizerType::kDeepseekLlm);
  EXPECT_EQ(*pre_tokenizer_type("starcoder"), PreTokenizerType::kStarcoder);
  EXPECT_EQ(*pre_tokenizer_type(""), PreTokenizerType::kDefault);
  Result<PreTokenizerType> unknown = pre_tokenizer_type("no-such-pre");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(unknown.status().message().find("tokenizer.ggml.pre"), std::string::npos);
  EXPECT_NE(unknown.status().message().find("no-such-pre"), std::string::npos);
}

}  // namespace
}  // namespace aigc
