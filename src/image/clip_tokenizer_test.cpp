// Tests for ClipTokenizer and the CLIP text cleaner: the shared
// tokenizer_cases.json, windows, diffusers folders and bad files.
#include "image/clip_tokenizer.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "image/clip_text_clean.h"

namespace aigc {
namespace {

const std::string kClipDir = std::string(AIGC_SHARED_DATA_DIR) + "/clip";
const std::string kMergesGz = kClipDir + "/bpe_simple_vocab_16e6.txt.gz";

// A temporary folder removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("clip_tokenizer_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& data) const {
    std::filesystem::path p = path / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << data;
    return p.string();
  }
};

std::string gzip(const std::string& data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, data.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// The real tokenizer, loaded once for all tests (null when the data is absent).
const ClipTokenizer* real_tokenizer() {
  static const ClipTokenizer* t = []() -> const ClipTokenizer* {
    if (!std::filesystem::exists(kMergesGz)) return nullptr;
    auto r = ClipTokenizer::from_merges_file(kMergesGz);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? new ClipTokenizer(std::move(r).value()) : nullptr;
  }();
  return t;
}

#define REQUIRE_REAL_TOKENIZER()               \
  const ClipTokenizer* tok = real_tokenizer(); \
  if (tok == nullptr) GTEST_SKIP() << "CLIP merges file absent: " << kMergesGz;

TEST(ClipTokenizer, VocabularyLayout) {
  REQUIRE_REAL_TOKENIZER();
  EXPECT_EQ(tok->vocab_size(), 49408);
  EXPECT_EQ(tok->start_id(), 49406);
  EXPECT_EQ(tok->end_id(), 49407);
  EXPECT_EQ(tok->token(0), "!");
  EXPECT_EQ(tok->token(256), "!</w>");
  EXPECT_EQ(tok->token(49406), "<|startoftext|>");
  EXPECT_EQ(tok->token(-1), "");
  EXPECT_EQ(tok->token(49408), "");
}

TEST(ClipTokenizer, SharedCases) {
  REQUIRE_REAL_TOKENIZER();
  std::ifstream in(kClipDir + "/tokenizer_cases.json");
  if (!in) GTEST_SKIP() << "tokenizer_cases.json absent in " << kClipDir;
  nlohmann::json cases = nlohmann::json::parse(in);
  ASSERT_GE(cases["cases"].size(), 15u);
  for (const auto& c : cases["cases"]) {
    std::string text = c["text"];
    auto ids = tok->encode(text);
    ASSERT_TRUE(ids.ok()) << text << ": " << ids.status().to_string();
    EXPECT_EQ(*ids, c["ids"].get<std::vector<int32_t>>()) << "text: " << text;
  }
}

TEST(ClipTokenizer, DiffusersFolderGivesTheSameIds) {
  REQUIRE_REAL_TOKENIZER();
  // Write the folder as HF's CLIPTokenizer files are laid out.
  nlohmann::json vocab = nlohmann::json::object();
  for (int32_t id = 0; id < tok->vocab_size(); ++id) vocab[tok->token(id)] = id;
  std::string merges = "#version: 0.2\n";
  {
    // Merges are the tokens after the 512 byte symbols, split where the
    // plain-text file splits them: read them back from the original file.
    gzFile f = gzopen(kMergesGz.c_str(), "rb");
    ASSERT_NE(f, nullptr);
    std::string all;
    char buf[1 << 16];
    int n;
    while ((n = gzread(f, buf, sizeof buf)) > 0) all.append(buf, static_cast<size_t>(n));
    gzclose(f);
    size_t pos = all.find('\n') + 1;
    for (int i = 0; i < 48894; ++i) {
      size_t end = all.find('\n', pos);
      merges += all.substr(pos, end - pos + 1);
      pos = end + 1;
    }
  }
  TempDir dir;
  dir.write("tokenizer/vocab.json", vocab.dump());
  dir.write("tokenizer/merges.txt", merges);
  auto hf = ClipTokenizer::from_diffusers_folder(dir.path.string());
  ASSERT_TRUE(hf.ok()) << hf.status().to_string();
  EXPECT_EQ(hf->start_id(), 49406);
  EXPECT_EQ(hf->end_id(), 49407);
  for (const char* text : {"a photo of a cat", "supercalifragilisticexpialidocious", "emoji 🙂👍🏽 and ❤️"}) {
    EXPECT_EQ(*hf->encode(text), *tok->encode(text)) << text;
  }
}

TEST(ClipTokenizer, PlainMergesFileEqualsGzip) {
  // A tiny merges file: "a b" -> "ab", "ab c</w>" -> "abc</w>".
  std::string merges = "#version: test\na b\nab c</w>\n";
  TempDir dir;
  auto plain = ClipTokenizer::from_merges_file(dir.write("m.txt", merges));
  auto gz = ClipTokenizer::from_merges_file(dir.write("m.txt.gz", gzip(merges)));
  ASSERT_TRUE(plain.ok()) << plain.status().to_string();
  ASSERT_TRUE(gz.ok()) << gz.status().to_string();
  EXPECT_EQ(plain->vocab_size(), 512 + 2 + 2);
  EXPECT_EQ(plain->token(512), "ab");
  EXPECT_EQ(plain->token(513), "abc</w>");
  EXPECT_EQ(plain->start_id(), 514);
  // "abc" -> a b c</w> -> ab c</w> -> abc</w>; "abd" -> ab d</w>.
  EXPECT_EQ(*plain->encode("ABC abd"), (std::vector<int32_t>{513, 512, 256 + 'd' - '!'}));
  EXPECT_EQ(*gz->encode("ABC abd"), *plain->encode("ABC abd"));
}

TEST(ClipTokenizer, Windows) {
  REQUIRE_REAL_TOKENIZER();
  std::vector<int32_t> ids(200);
  std::vector<float> weights(200);
  for (int i = 0; i < 200; ++i) ids[i] = 1000 + i, weights[i] = 1.0f + 0.01f * static_cast<float>(i);
  auto w = tok->windows(ids, weights);
  ASSERT_EQ(w.size(), 3u);
  for (size_t k = 0; k < 3; ++k) {
    ASSERT_EQ(w[k].ids.size(), 77u);
    ASSERT_EQ(w[k].weights.size(), 77u);
    EXPECT_EQ(w[k].ids[0], 49406);
    EXPECT_EQ(w[k].weights[0], 1.0f);
  }
  // Windows 0 and 1: 75 ids each, then the end token.
  for (size_t k = 0; k < 2; ++k) {
    for (int i = 0; i < 75; ++i) {
      EXPECT_EQ(w[k].ids[1 + i], 1000 + 75 * static_cast<int>(k) + i);
      EXPECT_EQ(w[k].weights[1 + i], weights[75 * k + i]);
    }
    EXPECT_EQ(w[k].ids[76], 49407);
  }
  // Window 2: the last 50 ids, then end and 26 more end tokens of weight 1.
  for (int i = 0; i < 50; ++i) EXPECT_EQ(w[2].ids[1 + i], 1150 + i);
  for (int i = 51; i < 77; ++i) {
    EXPECT_EQ(w[2].ids[i], 49407);
    EXPECT_EQ(w[2].weights[i], 1.0f);
  }

  // Exactly 75 ids: one window; 76: two; none: one window of padding.
  EXPECT_EQ(tok->windows(std::vector<int32_t>(75, 320)).size(), 1u);
  EXPECT_EQ(tok->windows(std::vector<int32_t>(76, 320)).size(), 2u);
  auto empty = tok->windows({});
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_EQ(empty[0].ids[0], 49406);
  for (int i = 1; i < 77; ++i) EXPECT_EQ(empty[0].ids[i], 49407);
}

TEST(ClipTokenizer, LongPromptFromText) {
  REQUIRE_REAL_TOKENIZER();
  // "a photo of a cat, " is 6 ids; 34 of them is 204 ids.
  std::string text;
  for (int i = 0; i < 34; ++i) text += "a photo of a cat, ";
  auto ids = tok->encode(text);
  ASSERT_TRUE(ids.ok());
  ASSERT_EQ(ids->size(), 204u);
  auto w = tok->windows(*ids);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[2].ids[1 + 204 - 150 - 1], 267);  // the last ',' of the prompt
  EXPECT_EQ(w[2].ids[1 + 204 - 150], 49407);
}

TEST(ClipTokenizer, InvalidUtf8NamesTheOffset) {
  REQUIRE_REAL_TOKENIZER();
  auto r = tok->encode(std::string("ok \xC3\x28 bad"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("byte offset 3"), std::string::npos) << r.status().message();
  EXPECT_FALSE(tok->encode(std::string("\xED\xA0\x80")).ok());  // a surrogate
  EXPECT_FALSE(tok->encode(std::string("\xE2\x82")).ok());      // truncated
}

TEST(ClipTokenizer, BadMergesFiles) {
  TempDir dir;
  auto missing = ClipTokenizer::from_merges_file((dir.path / "none.txt").string());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("none.txt"), std::string::npos);

  auto bad_line = ClipTokenizer::from_merges_file(dir.write("bad.txt", "#version\na b\na b c\n"));
  ASSERT_FALSE(bad_line.ok());
  EXPECT_EQ(bad_line.status().code(), StatusCode::kCorruption);
  EXPECT_NE(bad_line.status().message().find("bad.txt: line 3"), std::string::npos) << bad_line.status().message();

  EXPECT_FALSE(ClipTokenizer::from_merges_file(dir.write("header_only.txt", "#version\n")).ok());
  EXPECT_FALSE(ClipTokenizer::from_merges_file(dir.write("bad_utf8.txt", "#v\na \xFF\n")).ok());

  std::string gz = gzip("#version\na b\n");
  auto truncated = ClipTokenizer::from_merges_file(dir.write("t.txt.gz", gz.substr(0, gz.size() - 6)));
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.status().message().find("t.txt.gz"), std::string::npos);
  std::string flipped = gz;
  flipped[12] = static_cast<char>(flipped[12] ^ 0x55);
  EXPECT_FALSE(ClipTokenizer::from_merges_file(dir.write("f.txt.gz", flipped)).ok());
}

TEST(ClipTokenizer, BadDiffusersFolders) {
  TempDir dir;
  auto missing = ClipTokenizer::from_diffusers_folder(dir.path.string());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("tokenizer/vocab.json"), std::string::npos);

  const std::string merges = "#version: 0.2\na b\n";
  auto load = [&](const std::string& vocab) {
    return ClipTokenizer::from_vocab_and_merges(vocab, "vocab.json", merges, "merges.txt");
  };
  auto not_json = load("{\"a\": ");
  EXPECT_EQ(not_json.status().code(), StatusCode::kCorruption);
  EXPECT_NE(not_json.status().message().find("vocab.json"), std::string::npos);
  EXPECT_FALSE(load("[1, 2]").ok());
  auto bad_id = load(R"({"<|startoftext|>": 0, "<|endoftext|>": "x"})");
  ASSERT_FALSE(bad_id.ok());
  EXPECT_NE(bad_id.status().message().find("<|endoftext|>"), std::string::npos) << bad_id.status().message();
  EXPECT_FALSE(load(R"({"<|startoftext|>": 0, "<|endoftext|>": -1})").ok());
  EXPECT_FALSE(load(R"({"<|startoftext|>": 0, "<|endoftext|>": 99999999999})").ok());
  // Ids must be below the number of entries (a huge id would size a huge table).
  auto sparse = load(R"({"<|startoftext|>": 0, "<|endoftext|>": 2})");
  ASSERT_FALSE(sparse.ok());
  EXPECT_NE(sparse.status().message().find("id 2 is not an integer in [0, 2)"), std::string::npos)
      << sparse.status().message();
  auto no_end = load(R"({"<|startoftext|>": 0, "a": 1})");
  ASSERT_FALSE(no_end.ok());
  EXPECT_NE(no_end.status().message().find("token \"<|endoftext|>\" is missing"), std::string::npos)
      << no_end.status().message();

  // A small vocabulary: unknown symbols become <|endoftext|> (HF's unk).
  auto small = load(R"({"a": 0, "b</w>": 1, "ab</w>": 2, "<|startoftext|>": 3, "<|endoftext|>": 4})");
  ASSERT_TRUE(small.ok()) << small.status().to_string();
  // "ab" -> a b</w> (the merge "a b" does not apply to "b</w>"); "z</w>" is unknown.
  EXPECT_EQ(*small->encode("ab b z"), (std::vector<int32_t>{0, 1, 1, 4}));
  auto merged = ClipTokenizer::from_vocab_and_merges(
      R"({"a": 0, "b</w>": 1, "ab</w>": 2, "<|startoftext|>": 3, "<|endoftext|>": 4})", "vocab.json",
      "#version: 0.2\na b</w>\n", "merges.txt");
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(*merged->encode("ab b"), (std::vector<int32_t>{2, 1}));
}

TEST(ClipTextClean, MatchesPythonRules) {
  // Expected values: Python's html.unescape twice, re.sub(r"\s+", " "), strip, lower.
  EXPECT_EQ(clip_clean_text("  A  B\t\nC  "), "a b c");
  EXPECT_EQ(clip_clean_text("Tom &amp; Jerry &lt;3"), "tom & jerry <3");
  EXPECT_EQ(clip_clean_text("&amp;lt; &ampx &#65;&#x42;&#0;"), "< &x ab\xEF\xBF\xBD");
  EXPECT_EQ(clip_clean_text("&notit; &zzz; & &#; &#x;"), "\xC2\xACit; &zzz; & &#; &#x;");
  EXPECT_EQ(clip_clean_text("&#150; &#55296; &#1;x"), "\xE2\x80\x93 \xEF\xBF\xBD x");
  EXPECT_EQ(clip_clean_text("\xC3\x89T\xC3\x89 \xCE\x9F\xCE\x94\xCE\x9F\xCE\xA3."),
            "\xC3\xA9t\xC3\xA9 \xCE\xBF\xCE\xB4\xCE\xBF\xCF\x82.");
  EXPECT_EQ(clip_clean_text("\xCE\xA3"), "\xCF\x83");   // lone sigma is not final
  EXPECT_EQ(clip_clean_text("\xC4\xB0"), "i\xCC\x87");  // U+0130
  EXPECT_EQ(clip_clean_text("a\xE3\x80\x80"
                            "b\xC2\xA0"
                            "c\xE2\x80\xA8"),
            "a b c");  // Unicode spaces
  // ftfy: curly quotes, ligatures, full-width forms, control characters.
  EXPECT_EQ(clip_clean_text("don\xE2\x80\x99t \xE2\x80\x9C"
                            "fine\xE2\x80\x9D"),
            "don't \"fine\"");
  EXPECT_EQ(clip_clean_text("\xEF\xAC\x81ne \xEF\xBC\xA1\xEF\xBC\xA2"), "fine ab");
  EXPECT_EQ(clip_clean_text("a\x01"
                            "b\xEF\xBB\xBF"
                            "c"),
            "abc");
  EXPECT_EQ(clip_clean_text(""), "");
}

}  // namespace
}  // namespace aigc
