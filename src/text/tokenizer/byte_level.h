// GPT-2's byte-level alphabet: every byte 0..255 stands for one printable
// Unicode character (printable Latin-1 bytes for themselves, the others for
// U+0100 onwards), so that byte-level BPE vocabularies are valid UTF-8 text
// with no spaces or control characters (' ' is 'Ġ', '\n' is 'Ċ').
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace aigc {

// Appends the byte-level spelling of every byte of `bytes` to `out`.
void byte_level_encode(std::string_view bytes, std::string& out);

// Appends the bytes that the byte-level text `text` (valid UTF-8) spells to
// `out`. A character outside the alphabet is copied through unchanged, as
// llama.cpp does.
void byte_level_decode(std::string_view text, std::string& out);

}  // namespace aigc
