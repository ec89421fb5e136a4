// GPT-2's byte-level alphabet (bytes_to_unicode), built once as tables.
#include "text/tokenizer/byte_level.h"

#include <array>

#include "text/tokenizer/utf8.h"

namespace aigc {

namespace {

struct ByteLevelTables {
  std::array<std::string, 256> spelling;  // byte -> UTF-8 of its character
  std::array<int16_t, 324> byte_of;       // code point (< 324) -> byte, or -1

  ByteLevelTables() {
    byte_of.fill(-1);
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const uint32_t cp = printable ? b : next++;
      utf8_append(cp, spelling[b]);
      byte_of[cp] = int16_t(b);
    }
  }
};

const ByteLevelTables& tables() {
  static const ByteLevelTables t;  // thread-safe static initialisation
  return t;
}

}  // namespace

void byte_level_encode(std::string_view bytes, std::string& out) {
  const ByteLevelTables& t = tables();
  for (char c : bytes) out += t.spelling[uint8_t(c)];
}

void byte_level_decode(std::string_view text, std::string& out) {
  const ByteLevelTables& t = tables();
  size_t i = 0;
  while (i < text.size()) {
    size_t len = utf8_valid_prefix(text.substr(i));
    if (len == 0) {  // not UTF-8: copy the byte through
      out += text[i++];
      continue;
    }
    const uint32_t cp = utf8_decode(text.substr(i), len);
    if (cp < t.byte_of.size() && t.byte_of[cp] >= 0) {
      out += char(t.byte_of[cp]);
    } else {
      out.append(text.substr(i, len));
    }
    i += len;
  }
}

}  // namespace aigc
