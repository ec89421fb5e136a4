// Vocab building: inconsistent or missing tokenizer metadata, given as
// vectors or as a GGUF file, is rejected with a Status naming the key.
#include "text/tokenizer/vocab.h"

#include <gtest/gtest.h>

#include <functional>

#include "core/test_temp_path.h"
#include "formats/gguf.h"
#include "text/tokenizer/tiny_vocabs.h"
#include "text/tokenizer/tokenizer.h"

namespace aigc {
namespace {

void expect_rejected(const VocabSpec& spec, const std::string& key, const std::string& detail = "") {
  Result<Vocab> v = Vocab::build(spec);
  ASSERT_FALSE(v.ok()) << key;
  EXPECT_NE(v.status().message().find(key), std::string::npos) << v.status().to_string();
  EXPECT_NE(v.status().message().find(detail), std::string::npos) << v.status().to_string();
  EXPECT_NE(v.status().message().find(spec.source), std::string::npos) << v.status().to_string();
}

TEST(Vocab, BuildsTheTinyVocabularies) {
  Result<Vocab> spm = Vocab::build(tiny_vocabs::spm());
  ASSERT_TRUE(spm.ok()) << spm.status().to_string();
  EXPECT_EQ(spm->kind(), TokenizerKind::kSpm);
  EXPECT_EQ(spm->byte_token(0x0A), 3 + 0x0A);
  EXPECT_EQ(spm->byte_value(3 + 0xAB), 0xAB);
  EXPECT_EQ(spm->find("<s>"), 1);
  EXPECT_EQ(spm->find("nope"), -1);
  EXPECT_TRUE(spm->add_bos());
  EXPECT_TRUE(spm->add_space_prefix());
  // Special tokens: control, user-defined and unknown; longest first.
  EXPECT_EQ(spm->special_tokens().size(), 4u);
  EXPECT_EQ(spm->text(spm->special_tokens()[0]), "<tool>");
  EXPECT_EQ(spm->text(spm->special_tokens()[1]), "<unk>");

  Result<Vocab> bpe = Vocab::build(tiny_vocabs::bpe());
  ASSERT_TRUE(bpe.ok()) << bpe.status().to_string();
  const Vocab::Merge* m = bpe->find_merge(bpe->find("h"), bpe->find("e"));
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->rank, 0);
  EXPECT_EQ(bpe->text(m->result), "he");
  EXPECT_EQ(bpe->find_merge(bpe->find("e"), bpe->find("h")), nullptr);
  EXPECT_FALSE(bpe->add_bos());
  EXPECT_FALSE(bpe->add_space_prefix());
}

TEST(Vocab, RejectsInconsistentVectors) {
  VocabSpec s = tiny_vocabs::spm();
  s.scores.pop_back();
  expect_rejected(s, "tokenizer.ggml.scores", "scores for");

  s = tiny_vocabs::spm();
  s.token_types.push_back(1);
  expect_rejected(s, "tokenizer.ggml.token_type", "types for");

  s = tiny_vocabs::spm();
  s.token_types[5] = 9;
  expect_rejected(s, "tokenizer.ggml.token_type[5]", "unknown token type 9");

  s = tiny_vocabs::spm();
  s.tokens[270] = "<s>";
  expect_rejected(s, "tokenizer.ggml.tokens[270]", "duplicate of token 1");

  s = tiny_vocabs::spm();
  s.tokens[4] = "<0xZZ>";
  expect_rejected(s, "tokenizer.ggml.tokens[4]", "BYTE");

  s = tiny_vocabs::spm();
  s.tokens.clear();
  s.scores.clear();
  s.token_types.clear();
  expect_rejected(s, "tokenizer.ggml.tokens", "empty");

  s = tiny_vocabs::spm();
  s.bos_id = 100000;
  expect_rejected(s, "tokenizer.ggml.bos_token_id", "100000");

  s = tiny_vocabs::spm();
  s.bos_id = -1;
  expect_rejected(s, "tokenizer.ggml.add_bos_token", "no BOS");

  s = tiny_vocabs::bpe();
  s.merges.push_back("x qqq");
  expect_rejected(s, "tokenizer.ggml.merges[9]", "'qqq'");

  s = tiny_vocabs::bpe();
  s.merges.push_back("h e l");
  expect_rejected(s, "tokenizer.ggml.merges[9]", "not in the vocabulary");

  s = tiny_vocabs::bpe();
  s.merges[2] = "hell";
  expect_rejected(s, "tokenizer.ggml.merges[2]", "separated by a space");

  s = tiny_vocabs::bpe();
  s.merges.clear();
  expect_rejected(s, "tokenizer.ggml.merges", "missing");

  s = tiny_vocabs::bpe("no-such-pre");
  expect_rejected(s, "tokenizer.ggml.pre", "no-such-pre");
}

// A GGUF file with the tiny BPE vocabulary's metadata, changed by `edit`.
std::string write_gguf(const std::string& name, const std::function<void(GgufWriter&)>& edit) {
  const VocabSpec s = tiny_vocabs::bpe();
  GgufWriter w;
  w.add_string("general.architecture", "gpt2");
  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string("tokenizer.ggml.pre", "gpt-2");
  w.add_string_array("tokenizer.ggml.tokens", s.tokens);
  w.add_int32_array("tokenizer.ggml.token_type", s.token_types);
  w.add_string_array("tokenizer.ggml.merges", s.merges);
  w.add_uint32("tokenizer.ggml.bos_token_id", uint32_t(*s.bos_id));
  w.add_uint32("tokenizer.ggml.eos_token_id", uint32_t(*s.eos_id));
  edit(w);
  const std::string path = test_temp_path("tokenizer_" + name + ".gguf");
  const Status st = w.write(path);
  EXPECT_TRUE(st.ok()) << st.to_string();
  return path;
}

Status load(const std::string& path) {
  Result<GgufFile> f = GgufFile::open(path);
  if (!f.ok()) return f.status();
  Result<Tokenizer> t = Tokenizer::from_gguf(*f);
  return t.ok() ? Status() : t.status();
}

TEST(Vocab, FromGgufReadsTheTokenizer) {
  const std::string path = write_gguf("good", [](GgufWriter& w) { w.add_bool("tokenizer.ggml.add_eos_token", true); });
  Result<GgufFile> f = GgufFile::open(path);
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  Result<Tokenizer> t = Tokenizer::from_gguf(*f);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->vocab().source(), path);
  EXPECT_TRUE(t->vocab().add_eos());
  Result<std::vector<int32_t>> ids = t->encode("hello world", true, false);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<int32_t>{259, 264, 266}));
}

TEST(Vocab, FromGgufRejectsBadMetadataNamingTheKey) {
  struct Case {
    const char* name;
    std::function<void(GgufWriter&)> edit;
    const char* key;
  };
  const std::vector<float> short_scores(10, 0.0f);
  const Case cases[] = {
      {"unknown_model", [](GgufWriter& w) { w.add_string("tokenizer.ggml.model", "bert"); }, "tokenizer.ggml.model"},
      {"model_not_string", [](GgufWriter& w) { w.add_uint32("tokenizer.ggml.model", 1); }, "tokenizer.ggml.model"},
      {"unknown_pre", [](GgufWriter& w) { w.add_string("tokenizer.ggml.pre", "klingon"); }, "tokenizer.ggml.pre"},
      {"short_scores", [&](GgufWriter& w) { w.add_float_array("tokenizer.ggml.scores", short_scores); },
       "tokenizer.ggml.scores"},
      {"short_types", [](GgufWriter& w) { w.add_int32_array("tokenizer.ggml.token_type", {1, 1}); },
       "tokenizer.ggml.token_type"},
      {"types_not_ints", [](GgufWriter& w) { w.add_string_array("tokenizer.ggml.token_type", {"a"}); },
       "tokenizer.ggml.token_type"},
      {"bad_merge", [](GgufWriter& w) { w.add_string_array("tokenizer.ggml.merges", {"h e", "zz top"}); },
       "tokenizer.ggml.merges[1]"},
      {"bos_out_of_range", [](GgufWriter& w) { w.add_uint32("tokenizer.ggml.bos_token_id", 5000); },
       "tokenizer.ggml.bos_token_id"},
      {"add_bos_not_bool", [](GgufWriter& w) { w.add_string("tokenizer.ggml.add_bos_token", "yes"); },
       "tokenizer.ggml.add_bos_token"},
  };
  for (const Case& c : cases) {
    const Status st = load(write_gguf(c.name, c.edit));
    ASSERT_FALSE(st.ok()) << c.name;
    EXPECT_NE(st.message().find(c.key), std::string::npos) << c.name << ": " << st.to_string();
  }
}

TEST(Vocab, FromGgufRejectsMissingKeys) {
  // A file with no tokenizer at all, and one whose BPE model lacks merges.
  GgufWriter w;
  w.add_string("general.architecture", "llama");
  const std::string empty = test_temp_path("tokenizer_none.gguf");
  ASSERT_TRUE(w.write(empty).ok());
  Status st = load(empty);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("tokenizer.ggml.model"), std::string::npos) << st.to_string();

  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string_array("tokenizer.ggml.tokens", {"a", "b"});
  const std::string no_merges = test_temp_path("tokenizer_no_merges.gguf");
  ASSERT_TRUE(w.write(no_merges).ok());
  st = load(no_merges);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("tokenizer.ggml.merges"), std::string::npos) << st.to_string();
}

}  // namespace
}  // namespace aigc
