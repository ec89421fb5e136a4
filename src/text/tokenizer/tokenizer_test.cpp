// Tokenizer on small in-memory vocabularies: SPM merging by score, byte
// fallback, space prefix; BPE merging by rank, ignore_merges; special and
// user-defined tokens; BOS/EOS; invalid UTF-8; decoding and streaming.
#include "text/tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include "text/tokenizer/streaming_decoder.h"
#include "text/tokenizer/tiny_vocabs.h"

namespace aigc {
namespace {

using Ids = std::vector<int32_t>;

Tokenizer make(const VocabSpec& spec) {
  Result<Tokenizer> t = Tokenizer::create(spec);
  EXPECT_TRUE(t.ok()) << t.status().to_string();
  return std::move(t).value();
}

Ids encode(const Tokenizer& t, std::string_view text, bool add_special = false, bool parse_special = false) {
  Result<Ids> ids = t.encode(text, add_special, parse_special);
  EXPECT_TRUE(ids.ok()) << ids.status().to_string();
  return ids.ok() ? *ids : Ids{};
}

std::string decode(const Tokenizer& t, const Ids& ids, bool render_special = false) {
  Result<std::string> s = t.decode(ids, render_special);
  EXPECT_TRUE(s.ok()) << s.status().to_string();
  return s.ok() ? *s : "";
}

// SPM ids (see tiny_vocabs.h).
constexpr int32_t kSpmHSp = 273, kSpmHelloSp = 267, kSpmHello = 268, kSpmWorldSp = 274, kSpmTool = 279;
int32_t spm_byte(uint8_t b) { return 3 + b; }
// BPE ids.
constexpr int32_t kBpeHe = 256, kBpeHello = 259, kBpeWorldSp = 264, kBpeHel = 265, kBpeEot = 266, kBpeTool = 267;

TEST(TokenizerSpm, MergesByScoreWithSpacePrefix) {
  const Tokenizer t = make(tiny_vocabs::spm());
  EXPECT_EQ(encode(t, "hello world"), (Ids{kSpmHelloSp, kSpmWorldSp}));
  EXPECT_EQ(decode(t, {kSpmHelloSp, kSpmWorldSp}), "hello world");
  EXPECT_EQ(encode(t, ""), Ids{});
  EXPECT_EQ(encode(t, "", true), Ids{1});
}

TEST(TokenizerSpm, ByteFallbackAndRoundTrip) {
  const Tokenizer t = make(tiny_vocabs::spm());
  // 'é' is not a piece: its two UTF-8 bytes become <0xC3> <0xA9>.
  EXPECT_EQ(encode(t, "hé"), (Ids{kSpmHSp, spm_byte(0xC3), spm_byte(0xA9)}));
  for (const char* text : {"hé", " hello  world ", "\n\t€😀", "a<s>b"}) {
    EXPECT_EQ(decode(t, encode(t, text, true)), text) << text;
  }
}

TEST(TokenizerSpm, NoSpacePrefixWhenTheModelSaysSo) {
  VocabSpec spec = tiny_vocabs::spm();
  spec.add_space_prefix = false;
  const Tokenizer t = make(spec);
  EXPECT_EQ(encode(t, "hello"), Ids{kSpmHello});
  EXPECT_EQ(decode(t, {kSpmHelloSp}), " hello");
}

TEST(TokenizerSpm, SpecialTokensOnlyWhenParsed) {
  const Tokenizer t = make(tiny_vocabs::spm());
  const Ids plain = encode(t, "<s>hello");
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 1), 0);
  // Parsed: BOS as a token, then the text restarts with a space prefix.
  EXPECT_EQ(encode(t, "<s>hello", false, true), (Ids{1, kSpmHelloSp}));
  // User-defined tokens are always matched.
  EXPECT_EQ(encode(t, "hello<tool>hello"), (Ids{kSpmHelloSp, kSpmTool, kSpmHelloSp}));
  EXPECT_EQ(decode(t, {1, kSpmHelloSp}), "hello");
  EXPECT_EQ(decode(t, {1, kSpmHelloSp}, true), "<s>hello");
  EXPECT_EQ(decode(t, encode(t, "<s>hello</s> hello", false, true), true), "<s>hello</s> hello");
}

TEST(TokenizerSpm, BosAndEosFlags) {
  VocabSpec spec = tiny_vocabs::spm();
  spec.add_eos = true;
  const Tokenizer t = make(spec);
  EXPECT_EQ(encode(t, "hello", true), (Ids{1, kSpmHelloSp, 2}));
  EXPECT_EQ(encode(t, "hello", false), Ids{kSpmHelloSp});
  EXPECT_EQ(t.bos_id(), 1);
  EXPECT_EQ(t.eos_id(), 2);
  EXPECT_EQ(t.unk_id(), 0);
  EXPECT_EQ(t.pad_id(), -1);
}

TEST(TokenizerBpe, MergesByRank) {
  const Tokenizer t = make(tiny_vocabs::bpe());
  EXPECT_EQ(encode(t, "hello world"), (Ids{kBpeHello, kBpeWorldSp}));
  EXPECT_EQ(encode(t, "hel"), (Ids{kBpeHe, 'l'}));  // 'l' is its own byte-level character
  EXPECT_EQ(decode(t, {kBpeHello, kBpeWorldSp}), "hello world");
  // GPT-2 does not add BOS by default.
  EXPECT_EQ(encode(t, "hello", true), Ids{kBpeHello});
}

TEST(TokenizerBpe, Llama3IgnoresMergesForWholeTokens) {
  const Tokenizer t = make(tiny_vocabs::bpe("llama-bpe"));
  EXPECT_EQ(encode(t, "hel"), Ids{kBpeHel});
  EXPECT_EQ(encode(t, "hel", true), (Ids{kBpeEot, kBpeHel}));  // Llama 3 adds BOS by default
}

TEST(TokenizerBpe, SpecialTokensAndRoundTrip) {
  const Tokenizer t = make(tiny_vocabs::bpe());
  EXPECT_EQ(encode(t, "hello<|endoftext|>", false, true), (Ids{kBpeHello, kBpeEot}));
  const Ids plain = encode(t, "hello<|endoftext|>");
  EXPECT_EQ(std::count(plain.begin(), plain.end(), kBpeEot), 0);
  EXPECT_EQ(encode(t, "<tool>hello"), (Ids{kBpeTool, kBpeHello}));
  EXPECT_EQ(decode(t, {kBpeHello, kBpeEot}), "hello");
  EXPECT_EQ(decode(t, {kBpeHello, kBpeEot}, true), "hello<|endoftext|>");
  for (const char* text : {"hello world", "  \n\n x", "naïve €😀 123", "a<|endoftext|>b"})
    EXPECT_EQ(decode(t, encode(t, text)), text) << text;
}

TEST(Tokenizer, InvalidUtf8IsRejectedWithItsOffset) {
  for (const VocabSpec& spec : {tiny_vocabs::spm(), tiny_vocabs::bpe()}) {
    const Tokenizer t = make(spec);
    const std::pair<std::string, size_t> bad[] = {
        {"ab\xFF" "cd", 2},          // never valid
        {"hello\xC3", 5},            // truncated at the end
        {"x\xC0\x80", 1},            // overlong
        {"\xED\xA0\x80", 0},         // surrogate
        {"ok\xF4\x90\x80\x80", 2},   // above U+10FFFF
        {"\xE2\x82" "x", 0},         // continuation missing
    };
    for (const auto& [text, offset] : bad) {
      Result<Ids> ids = t.encode(text, true, true);
      ASSERT_FALSE(ids.ok());
      EXPECT_EQ(ids.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(ids.status().message().find("byte offset " + std::to_string(offset)), std::string::npos)
          << ids.status().message();
    }
  }
}

TEST(Tokenizer, TokenToPieceAndBadIds) {
  const Tokenizer t = make(tiny_vocabs::spm());
  EXPECT_EQ(t.token_to_piece(kSpmHelloSp), " hello");
  EXPECT_EQ(t.token_to_piece(spm_byte('\n')), "\n");
  EXPECT_EQ(t.token_to_piece(0), "");
  EXPECT_EQ(t.token_to_piece(0, true), "<unk>");
  EXPECT_EQ(t.token_to_piece(-1), "");
  EXPECT_EQ(t.token_to_piece(t.n_vocab()), "");
  Result<std::string> bad = t.decode(Ids{kSpmHello, 99999});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("99999"), std::string::npos);
  EXPECT_NE(bad.status().message().find("position 1"), std::string::npos);
}

TEST(StreamingDecoder, HoldsBackSplitCharacters) {
  const Tokenizer t = make(tiny_vocabs::spm());
  StreamingDecoder d(t);
  EXPECT_EQ(*d.push(kSpmHelloSp), "hello");  // the space prefix of the text start is dropped
  EXPECT_EQ(*d.push(spm_byte(0xF0)), "");    // 😀 = F0 9F 98 80, one byte per token
  EXPECT_EQ(*d.push(spm_byte(0x9F)), "");
  EXPECT_EQ(*d.push(spm_byte(0x98)), "");
  EXPECT_EQ(d.pending_bytes(), 3u);
  EXPECT_EQ(*d.push(spm_byte(0x80)), "😀");
  EXPECT_EQ(*d.push(kSpmWorldSp), " world");
  EXPECT_EQ(d.finish(), "");
}

TEST(StreamingDecoder, ReplacesBytesThatCannotBecomeUtf8) {
  const Tokenizer t = make(tiny_vocabs::spm());
  StreamingDecoder d(t);
  EXPECT_EQ(*d.push(spm_byte(0xFF)), "\xEF\xBF\xBD");             // never valid
  EXPECT_EQ(*d.push(spm_byte(0xE2)), "");                          // could start €
  EXPECT_EQ(*d.push(spm_byte('a')), "\xEF\xBF\xBD" "a");           // ... but did not
  EXPECT_EQ(*d.push(spm_byte(0xC3)), "");
  EXPECT_EQ(d.finish(), "\xEF\xBF\xBD");                           // cut off by the end
  Result<std::string> bad = d.push(-5);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace aigc
