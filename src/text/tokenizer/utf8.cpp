// UTF-8 helpers for the tokenizers.
#include "text/tokenizer/utf8.h"

#include <cstdio>

#include "core/assert.h"

namespace aigc {

size_t utf8_sequence_length(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xC2) return 0;  // continuation byte, or overlong 0xC0/0xC1
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  if (lead < 0xF5) return 4;
  return 0;
}

namespace {

// Allowed range of the second byte after `lead` (the first continuation
// byte carries the overlong, surrogate and > U+10FFFF restrictions).
void second_byte_range(uint8_t lead, uint8_t& lo, uint8_t& hi) {
  lo = 0x80;
  hi = 0xBF;
  if (lead == 0xE0) lo = 0xA0;
  if (lead == 0xED) hi = 0x9F;
  if (lead == 0xF0) lo = 0x90;
  if (lead == 0xF4) hi = 0x8F;
}

// Number of leading bytes of `s` (at most its length) that are consistent
// with a valid sequence; `need` receives the full sequence length (0 if the
// lead byte is invalid).
size_t consistent_bytes(std::string_view s, size_t& need) {
  need = s.empty() ? 0 : utf8_sequence_length(uint8_t(s[0]));
  if (need == 0) return 0;
  size_t n = 1;
  for (; n < need && n < s.size(); ++n) {
    const uint8_t b = uint8_t(s[n]);
    uint8_t lo = 0x80, hi = 0xBF;
    if (n == 1) second_byte_range(uint8_t(s[0]), lo, hi);
    if (b < lo || b > hi) break;
  }
  return n;
}

}  // namespace

size_t utf8_valid_prefix(std::string_view s) {
  size_t need = 0;
  const size_t n = consistent_bytes(s, need);
  return need != 0 && n == need ? need : 0;
}

bool utf8_is_incomplete(std::string_view s) {
  size_t need = 0;
  const size_t n = consistent_bytes(s, need);
  return need != 0 && n == s.size() && n < need;
}

Status utf8_validate(std::string_view s, std::string_view what) {
  size_t i = 0;
  while (i < s.size()) {
    const size_t len = utf8_valid_prefix(s.substr(i));
    if (len == 0) {
      char byte[8];
      std::snprintf(byte, sizeof byte, "0x%02X", unsigned(uint8_t(s[i])));
      return Status::invalid_argument(std::string(what) + ": invalid UTF-8 at byte offset " + std::to_string(i) +
                                      " (" + byte + ")");
    }
    i += len;
  }
  return Status::ok_status();
}

uint32_t utf8_decode(std::string_view s, size_t len) {
  AIGC_ASSERT(len >= 1 && len <= 4 && len <= s.size());
  const uint8_t b0 = uint8_t(s[0]);
  if (len == 1) return b0;
  uint32_t cp = b0 & (0x7F >> len);
  for (size_t i = 1; i < len; ++i) cp = (cp << 6) | (uint8_t(s[i]) & 0x3F);
  return cp;
}

void utf8_append(uint32_t cp, std::string& out) {
  AIGC_ASSERT(cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF));
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

}  // namespace aigc
