// UTF-8 helpers for the tokenizers: validation with the offending byte
// offset, sequence lengths, code point encoding and decoding.
//
// "Valid" means RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF. All functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace aigc {

// Length of the sequence that `lead` starts (1..4), or 0 if `lead` cannot
// start a sequence (a continuation byte or 0xF8..0xFF).
size_t utf8_sequence_length(uint8_t lead);

// Length of the valid sequence at the start of `s` (1..4), or 0 if `s` does
// not start with a complete valid sequence (empty, invalid or truncated).
size_t utf8_valid_prefix(std::string_view s);

// True if `s` is a proper prefix of some valid sequence (an incomplete
// character that more bytes could complete). False for "" and for complete
// or impossible sequences.
bool utf8_is_incomplete(std::string_view s);

// OK, or InvalidArgument "<what>: invalid UTF-8 at byte offset N (0xAB)".
Status utf8_validate(std::string_view s, std::string_view what);

// Decodes the valid sequence at s[0..len) (len from utf8_valid_prefix).
uint32_t utf8_decode(std::string_view s, size_t len);

// Appends the UTF-8 encoding of `cp` (cp <= 0x10FFFF, not a surrogate).
void utf8_append(uint32_t cp, std::string& out);

}  // namespace aigc
