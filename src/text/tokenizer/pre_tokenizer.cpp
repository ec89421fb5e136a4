// PreTokenizer: regex splitting rules per tokenizer.ggml.pre, on PCRE2.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "text/tokenizer/pre_tokenizer.h"

#include <pcre2.h>

#include <algorithm>
#include <string>

#include "core/assert.h"
#include "text/tokenizer/utf8.h"

namespace aigc {

namespace {

// The regexes as the models' tokenizer.json files write them (HuggingFace
// tokenizers semantics), applied in order.
// GPT-2's ByteLevel pre-tokenizer.
constexpr const char* kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
// Llama 3 (tiktoken cl100k-style: digits in groups of at most three).
constexpr const char* kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Qwen2: as Llama 3 but every digit on its own.
constexpr const char* kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// DeepSeek LLM: newlines, letters of cased scripts, ASCII/full-width
// punctuation, trailing whitespace, CJK/Hangul runs, digits. Written with
// \x{...} escapes so that no editor or tool can normalise the characters.
constexpr const char* kDeepseekLetters =
    "\\s?["
    "A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}"
    "\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}\\x{37F}\\x{386}"
    "\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}"
    "\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}"
    "\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}"
    "\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}"
    "\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}"
    "\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}"
    "\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}"
    "\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}"
    "\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}"
    "\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}"
    "\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}"
    "\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}"
    "\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}"
    "\\x{1E900}-\\x{1E943}"
    "]+";
constexpr const char* kDeepseekPunct = "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+";
constexpr const char* kDeepseekCjk = "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+";

std::vector<const char*> regexes_for(PreTokenizerType type) {
  switch (type) {
    case PreTokenizerType::kGpt2:
      return {kGpt2Regex};
    case PreTokenizerType::kLlama3:
      return {kLlama3Regex};
    case PreTokenizerType::kQwen2:
      return {kQwen2Regex};
    case PreTokenizerType::kDeepseekLlm:
      return {"[\\r\\n]", kDeepseekLetters, kDeepseekPunct, "\\s+$", kDeepseekCjk, "\\p{N}+"};
    case PreTokenizerType::kStarcoder:
      return {"\\p{N}", kGpt2Regex};
    case PreTokenizerType::kDefault:
      // llama.cpp's rules for a BPE vocabulary without a known pre-tokenizer.
      return {"[\\p{P}\\$\\+<=>\\^~\\|]+", kGpt2Regex, "\\p{N}+", "[0-9][0-9][0-9]"};
  }
  return {};
}

struct NameEntry {
  const char* name;
  PreTokenizerType type;
};

// tokenizer.ggml.pre values (as llama.cpp's converter writes them) whose
// splitting rules are one of ours.
constexpr NameEntry kNames[] = {
    {"default", PreTokenizerType::kDefault},      {"gpt-2", PreTokenizerType::kGpt2},
    {"phi-2", PreTokenizerType::kGpt2},           {"mpt", PreTokenizerType::kGpt2},
    {"olmo", PreTokenizerType::kGpt2},            {"jina-es", PreTokenizerType::kGpt2},
    {"jina-de", PreTokenizerType::kGpt2},         {"roberta-bpe", PreTokenizerType::kGpt2},
    {"llama3", PreTokenizerType::kLlama3},        {"llama-v3", PreTokenizerType::kLlama3},
    {"llama-bpe", PreTokenizerType::kLlama3},     {"falcon3", PreTokenizerType::kLlama3},
    {"pixtral", PreTokenizerType::kLlama3},       {"dbrx", PreTokenizerType::kLlama3},
    {"smaug-bpe", PreTokenizerType::kLlama3},     {"qwen2", PreTokenizerType::kQwen2},
    {"deepseek-r1-qwen", PreTokenizerType::kQwen2}, {"stablelm2", PreTokenizerType::kQwen2},
    {"megrez", PreTokenizerType::kQwen2},         {"deepseek-llm", PreTokenizerType::kDeepseekLlm},
    {"starcoder", PreTokenizerType::kStarcoder},  {"refact", PreTokenizerType::kStarcoder},
    {"command-r", PreTokenizerType::kStarcoder},  {"smollm", PreTokenizerType::kStarcoder},
    {"codeshell", PreTokenizerType::kStarcoder},  {"exaone", PreTokenizerType::kStarcoder},
};

}  // namespace

Result<PreTokenizerType> pre_tokenizer_type(std::string_view name) {
  if (name.empty()) return PreTokenizerType::kDefault;
  for (const NameEntry& e : kNames)
    if (name == e.name) return e.type;
  return Status::unsupported("tokenizer.ggml.pre: unknown pre-tokenizer '" + std::string(name) + "'");
}

const char* pre_tokenizer_name(PreTokenizerType type) {
  switch (type) {
    case PreTokenizerType::kDefault: return "default";
    case PreTokenizerType::kGpt2: return "gpt-2";
    case PreTokenizerType::kLlama3: return "llama3";
    case PreTokenizerType::kQwen2: return "qwen2";
    case PreTokenizerType::kDeepseekLlm: return "deepseek-llm";
    case PreTokenizerType::kStarcoder: return "starcoder";
  }
  return "unknown";
}

struct PreTokenizer::Regex {
  pcre2_code* code = nullptr;
  ~Regex() { pcre2_code_free(code); }
};

Result<PreTokenizer> PreTokenizer::create(PreTokenizerType type) {
  PreTokenizer p;
  for (const char* pattern : regexes_for(type)) {
    int error = 0;
    PCRE2_SIZE error_offset = 0;
    auto regex = std::make_shared<Regex>();
    regex->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern), PCRE2_ZERO_TERMINATED,
                                PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &error, &error_offset, nullptr);
    if (regex->code == nullptr) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(error, message, sizeof message);
      return Status::unsupported(std::string("pre-tokenizer ") + pre_tokenizer_name(type) + ": regex '" + pattern +
                                 "' does not compile at offset " + std::to_string(error_offset) + ": " +
                                 reinterpret_cast<const char*>(message));
    }
    // JIT is an optimisation: a build of PCRE2 without it still matches.
    pcre2_jit_compile(regex->code, PCRE2_JIT_COMPLETE);
    p.regexes_.push_back(std::move(regex));
  }
  return p;
}

void PreTokenizer::split(std::string_view text, std::vector<std::string_view>& pieces) const {
  const size_t first = pieces.size();
  if (text.empty()) return;
  pieces.push_back(text);
  std::vector<std::string_view> next;
  for (const auto& regex : regexes_) {
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(regex->code, nullptr);
    AIGC_ASSERT(md != nullptr);
    next.clear();
    for (size_t i = first; i < pieces.size(); ++i) {
      const std::string_view piece = pieces[i];
      const auto* subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
      size_t start = 0;  // where the next search begins
      size_t last = 0;   // end of the last piece emitted
      while (start < piece.size()) {
        const int rc = pcre2_match(regex->code, subject, piece.size(), start, PCRE2_NO_UTF_CHECK, md, nullptr);
        if (rc < 0) break;  // no more matches (or a resource limit: keep the rest whole)
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        const size_t s = ov[0], e = ov[1];
        if (e == s) {  // empty match: move on by one character
          start = s + std::max<size_t>(1, utf8_valid_prefix(piece.substr(s)));
          continue;
        }
        if (s > last) next.push_back(piece.substr(last, s - last));
        next.push_back(piece.substr(s, e - s));
        last = start = e;
      }
      if (last < piece.size()) next.push_back(piece.substr(last));
    }
    pcre2_match_data_free(md);
    pieces.resize(first);
    pieces.insert(pieces.end(), next.begin(), next.end());
  }
}

}  // namespace aigc
