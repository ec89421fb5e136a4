// Tests for the AUTOMATIC1111-style prompt weight parser and the weighted
// windows. Expected pieces follow the web UI's parse_prompt_attention rules,
// cited per case: "(" / "[" push the current piece index; ")" / "]" / ":w)"
// pop the innermost opener of that kind and multiply every piece from it to
// the end by 1.1 / (1/1.1) / w; openers still open at the end multiply up to
// the end; anything else is text; equal neighbouring weights merge.
#include "image/prompt_weights.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace aigc {
namespace {

using Pieces = std::vector<std::pair<std::string, double>>;

Pieces parse(std::string_view prompt) {
  auto r = parse_prompt_weights(prompt);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  Pieces out;
  if (r.ok())
    for (const PromptPiece& p : *r) out.emplace_back(p.text, p.weight);
  return out;
}

void expect_pieces(std::string_view prompt, const Pieces& expected) {
  Pieces got = parse(prompt);
  ASSERT_EQ(got.size(), expected.size()) << prompt;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].first, expected[i].first) << prompt << " piece " << i;
    EXPECT_DOUBLE_EQ(got[i].second, expected[i].second) << prompt << " piece " << i;
  }
}

TEST(PromptWeights, PlainAndSimpleBrackets) {
  expect_pieces("normal text", {{"normal text", 1.0}});
  // ")" pops "(": x1.1 on "important" only.
  expect_pieces("an (important) word", {{"an ", 1.0}, {"important", 1.1}, {" word", 1.0}});
  expect_pieces("((a))", {{"a", 1.1 * 1.1}});
  // "]" pops "[": x(1/1.1).
  expect_pieces("[a]", {{"a", 1 / 1.1}});
  expect_pieces("[[a]]", {{"a", 1.0 * (1 / 1.1) * (1 / 1.1)}});
  // ":w)" pops "(": weight w replaces the 1.1, whitespace around w allowed.
  expect_pieces("(a:1.3)", {{"a", 1.3}});
  expect_pieces("(a: 0.5 )", {{"a", 0.5}});
  expect_pieces("(a:-0.5)", {{"a", -0.5}});
  expect_pieces("(a:.5)", {{"a", 0.5}});
  expect_pieces("(a:2.)", {{"a", 2.0}});
  // An empty prompt gives one empty piece.
  expect_pieces("", {{"", 1.0}});
}

TEST(PromptWeights, NestingMultiplies) {
  // (a:1.5) inside (b ...): a gets 1.5, then the outer ")" multiplies by 1.1.
  expect_pieces("(b (a:1.5) c)", {{"b ", 1.1}, {"a", 1.5 * 1.1}, {" c", 1.1}});
  expect_pieces("[(a:1.5)]", {{"a", 1.5 * (1 / 1.1)}});
  expect_pieces("([a])", {{"a", 1.0 * (1 / 1.1) * 1.1}});
  // Inner ":2)" closes the inner "(", ":0.5)" the outer one.
  expect_pieces("((a:2) b:0.5)", {{"a", 2 * 0.5}, {" b", 0.5}});
  // The web UI's own documented example: the first "(" of "(((house" stays
  // open, so everything after it gets a final x1.1.
  expect_pieces("a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).", {{"a ", 1.0},
                                                                        {"house", 1.3 * 1.1 * 1.1},
                                                                        {" ", 1.1},
                                                                        {"on", 1.0 * (1 / 1.1) * 1.1},
                                                                        {" a ", 1.1},
                                                                        {"hill", 0.5 * 1.1},
                                                                        {", sun, ", 1.1},
                                                                        {"sky", 1.1 * 1.1 * 1.1 * 1.1},
                                                                        {".", 1.1}});
  // Equal neighbours merge.
  expect_pieces("(unnecessary)(parens)", {{"unnecessaryparens", 1.1}});
}

TEST(PromptWeights, UnbalancedBrackets) {
  // Openers left at the end multiply up to the end.
  expect_pieces("(unbalanced", {{"unbalanced", 1.1}});
  expect_pieces("[a", {{"a", 1 / 1.1}});
  // ":1.2" without ")" is not a weight: ":" and "1.2" are text.
  expect_pieces("(a:1.2", {{"a:1.2", 1.1}});
  // Closers without an opener fall through to the text branch.
  expect_pieces("a) b] c", {{"a) b] c", 1.0}});
  expect_pieces(")", {{")", 1.0}});
  expect_pieces("a:1.3)", {{"a:1.3)", 1.0}});
  // "1e2" is not [.\d]+: ":" "1e2" are text and ")" closes with 1.1.
  expect_pieces("(a:1e2)", {{"a:1e2", 1.1}});
  // Not a number for float(): kept as text (the web UI raises ValueError).
  expect_pieces("(a:1.2.3)", {{"a:1.2.3)", 1.1}});
  expect_pieces("(a:.)", {{"a:.)", 1.1}});
}

TEST(PromptWeights, Escapes) {
  // "\(" "\)" "\[" "\]" "\\" give the character after the backslash at weight 1.
  expect_pieces("\\(literal\\]", {{"(literal]", 1.0}});
  expect_pieces("(\\(a\\))", {{"(a)", 1.1}});
  expect_pieces("a\\\\b", {{"a\\b", 1.0}});
  // A lone backslash matches "\\" alone and leaves text[1:] = "".
  expect_pieces("a\\b", {{"ab", 1.0}});
  expect_pieces("\\", {{"", 1.0}});
}

TEST(PromptWeights, Break) {
  // re_break splits text on a whole-word BREAK with its surrounding spaces.
  expect_pieces("a BREAK b", {{"a", 1.0}, {"BREAK", -1.0}, {"b", 1.0}});
  expect_pieces("aBREAKb", {{"aBREAKb", 1.0}});
  expect_pieces("BREAK", {{"", 1.0}, {"BREAK", -1.0}, {"", 1.0}});
  // A bracket around BREAK multiplies its -1 too: then it is text.
  auto r = parse_prompt_weights("(a BREAK b)");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_DOUBLE_EQ((*r)[1].weight, -1.1);
  EXPECT_FALSE((*r)[1].is_break());
}

TEST(PromptWeights, InvalidUtf8) {
  auto r = parse_prompt_weights(std::string("(ab\xFF)"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("byte offset 3"), std::string::npos) << r.status().message();
}

const ClipTokenizer* real_tokenizer() {
  static const ClipTokenizer* t = []() -> const ClipTokenizer* {
    std::string path = std::string(AIGC_SHARED_DATA_DIR) + "/clip/bpe_simple_vocab_16e6.txt.gz";
    if (!std::filesystem::exists(path)) return nullptr;
    auto r = ClipTokenizer::from_merges_file(path);
    return r.ok() ? new ClipTokenizer(std::move(r).value()) : nullptr;
  }();
  return t;
}

#define REQUIRE_REAL_TOKENIZER()               \
  const ClipTokenizer* tok = real_tokenizer(); \
  if (tok == nullptr) GTEST_SKIP() << "CLIP merges file absent under " << AIGC_SHARED_DATA_DIR << "/clip";

TEST(PromptWeights, TokenWeightsAlignWithIds) {
  REQUIRE_REAL_TOKENIZER();
  // "a photo of a (cat:1.3)": pieces "a photo of a " and "cat", each tokenized alone.
  auto pieces = parse_prompt_weights("a photo of a (cat:1.3)");
  ASSERT_TRUE(pieces.ok());
  auto parts = tokenize_weighted(*tok, *pieces);
  ASSERT_TRUE(parts.ok());
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].ids, (std::vector<int32_t>{320, 1125, 539, 320, 2368}));
  EXPECT_EQ((*parts)[0].weights, (std::vector<float>{1, 1, 1, 1, 1.3f}));

  auto windows = weighted_prompt_windows(*tok, "a photo of a (cat:1.3)");
  ASSERT_TRUE(windows.ok());
  ASSERT_EQ(windows->size(), 1u);
  const ClipWindow& w = (*windows)[0];
  EXPECT_EQ(w.ids[0], 49406);
  EXPECT_EQ(w.ids[5], 2368);
  EXPECT_EQ(w.ids[6], 49407);
  EXPECT_EQ(w.weights[5], 1.3f);
  EXPECT_EQ(w.weights[6], 1.0f);
}

TEST(PromptWeights, LongWeightedPromptCarriesWeightsAcrossWindows) {
  REQUIRE_REAL_TOKENIZER();
  // 40 x "cat, " = 80 ids ("cat" ","), the second half weighted 1.5.
  std::string prompt;
  for (int i = 0; i < 20; ++i) prompt += "cat, ";
  prompt += "(";
  for (int i = 0; i < 20; ++i) prompt += "cat, ";
  prompt += ":1.5)";
  auto windows = weighted_prompt_windows(*tok, prompt);
  ASSERT_TRUE(windows.ok());
  ASSERT_EQ(windows->size(), 2u);
  for (int i = 1; i <= 40; ++i) EXPECT_EQ((*windows)[0].weights[i], 1.0f) << i;
  for (int i = 41; i <= 75; ++i) EXPECT_EQ((*windows)[0].weights[i], 1.5f) << i;
  EXPECT_EQ((*windows)[0].ids[76], 49407);
  for (int i = 1; i <= 5; ++i) EXPECT_EQ((*windows)[1].weights[i], 1.5f) << i;
  EXPECT_EQ((*windows)[1].ids[6], 49407);
  EXPECT_EQ((*windows)[1].weights[6], 1.0f);
}

// The comma padding backtrack, expected chunks derived by hand from the rule
// (prompt_weights.h) on ids where 7 is the comma and 1, 2 are words.
WeightedIds ids_of(const std::vector<std::pair<int32_t, int>>& runs, float weight = 1.0f) {
  WeightedIds w;
  for (auto [id, count] : runs) {
    w.ids.insert(w.ids.end(), size_t(count), id);
    w.weights.insert(w.weights.end(), size_t(count), weight);
  }
  return w;
}

TEST(PromptWeights, CommaBacktrackMovesTheWordsAfterALateComma) {
  constexpr int32_t kComma = 7;
  // 60 words, a comma at index 60, 20 words: the window is full (comma at 60,
  // 14 words after it) when the 15th word comes; 75 - 60 = 15 <= 20, so the
  // 14 words move on: [60 x 1, comma] and [20 x 2].
  auto chunks = comma_backtrack_chunks(ids_of({{1, 60}, {kComma, 1}, {2, 20}}), kComma, 20);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].ids, ids_of({{1, 60}, {kComma, 1}}).ids);
  EXPECT_EQ(chunks[1].ids, ids_of({{2, 20}}).ids);
  // Backtrack 0: plain windows of 75: [60 x 1, comma, 14 x 2] and [6 x 2].
  chunks = comma_backtrack_chunks(ids_of({{1, 60}, {kComma, 1}, {2, 20}}), kComma, 0);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].ids, ids_of({{1, 60}, {kComma, 1}, {2, 14}}).ids);
  EXPECT_EQ(chunks[1].ids, ids_of({{2, 6}}).ids);
  // The limit: a comma at index 55 is 20 from the end (moves: [55, comma], [25]);
  // at index 54 it is 21 away (plain: [54, comma, 20], [5]).
  chunks = comma_backtrack_chunks(ids_of({{1, 55}, {kComma, 1}, {2, 25}}), kComma, 20);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].ids.size(), 56u);
  EXPECT_EQ(chunks[1].ids, ids_of({{2, 25}}).ids);
  chunks = comma_backtrack_chunks(ids_of({{1, 54}, {kComma, 1}, {2, 25}}), kComma, 20);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].ids, ids_of({{1, 54}, {kComma, 1}, {2, 20}}).ids);
  EXPECT_EQ(chunks[1].ids, ids_of({{2, 5}}).ids);
  // Only the last comma counts, and the moved words keep their weights: commas
  // at 10 and 65, 9 words of weight 1 after it, then 71 words of weight 2 (the
  // first meets the full window): [66 ids ending with the comma at 65], then
  // [9 of weight 1, 66 of weight 2] (full, no comma: closed as it is), [5 of weight 2].
  WeightedIds part = ids_of({{1, 10}, {kComma, 1}, {1, 54}, {kComma, 1}, {1, 9}});
  WeightedIds heavy = ids_of({{2, 20 + 46 + 5}}, 2.0f);
  part.ids.insert(part.ids.end(), heavy.ids.begin(), heavy.ids.end());
  part.weights.insert(part.weights.end(), heavy.weights.begin(), heavy.weights.end());
  chunks = comma_backtrack_chunks(part, kComma, 20);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].ids.size(), 66u);
  EXPECT_EQ(chunks[0].ids.back(), kComma);
  EXPECT_EQ(chunks[1].ids.size(), 75u);
  EXPECT_EQ(chunks[1].weights[8], 1.0f);
  EXPECT_EQ(chunks[1].weights[9], 2.0f);
  EXPECT_EQ(chunks[2].ids.size(), 5u);
  // A comma that meets a full window starts the next one; an empty part is one empty chunk.
  chunks = comma_backtrack_chunks(ids_of({{1, 75}, {kComma, 1}, {2, 3}}), kComma, 20);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[1].ids, (std::vector<int32_t>{kComma, 2, 2, 2}));
  EXPECT_EQ(comma_backtrack_chunks(WeightedIds{}, kComma, 20).size(), 1u);
}

TEST(PromptWeights, LongPromptWindowsEndAtALateComma) {
  REQUIRE_REAL_TOKENIZER();
  // "cat" is 2368, "a" 320, "," 267 (tokenizer_cases.json): 60 cats, a comma,
  // 20 x "a": windows [start, 60 x 2368, 267, end...] and [start, 20 x 320, end...].
  std::string prompt;
  for (int i = 0; i < 60; ++i) prompt += "cat ";
  prompt += ",";
  for (int i = 0; i < 20; ++i) prompt += " a";
  auto windows = weighted_prompt_windows(*tok, prompt);
  ASSERT_TRUE(windows.ok()) << windows.status().to_string();
  ASSERT_EQ(windows->size(), 2u);
  std::vector<int32_t> first(77, 49407), second(77, 49407);
  first[0] = second[0] = 49406;
  for (int i = 1; i <= 60; ++i) first[size_t(i)] = 2368;
  first[61] = 267;
  for (int i = 1; i <= 20; ++i) second[size_t(i)] = 320;
  EXPECT_EQ((*windows)[0].ids, first);
  EXPECT_EQ((*windows)[1].ids, second);
  // Turned off: the first window runs to 75 ids.
  auto plain = weighted_prompt_windows(*tok, prompt, 0);
  ASSERT_TRUE(plain.ok());
  ASSERT_EQ(plain->size(), 2u);
  EXPECT_EQ((*plain)[0].ids[75], 320);
  EXPECT_EQ((*plain)[1].ids[6], 320);
  EXPECT_EQ((*plain)[1].ids[7], 49407);
  EXPECT_FALSE(weighted_prompt_windows(*tok, prompt, -1).ok());
}

TEST(PromptWeights, BreakStartsANewWindow) {
  REQUIRE_REAL_TOKENIZER();
  auto w = weighted_prompt_windows(*tok, "a cat BREAK a dog");
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->size(), 2u);
  EXPECT_EQ((*w)[0].ids[2], 2368);   // cat
  EXPECT_EQ((*w)[0].ids[3], 49407);  // padding
  EXPECT_EQ((*w)[1].ids[1], 320);    // a
  // A trailing BREAK adds no window; a leading one pads a whole window.
  EXPECT_EQ(weighted_prompt_windows(*tok, "a cat BREAK")->size(), 1u);
  EXPECT_EQ(weighted_prompt_windows(*tok, "BREAK a cat")->size(), 2u);
  EXPECT_EQ(weighted_prompt_windows(*tok, "")->size(), 1u);
}

}  // namespace
}  // namespace aigc
