// libFuzzer target for the infotext parser: any text either parses or gives
// an InvalidArgument; a parsed text formats again and that text parses.
// Seeds: fuzz/seeds/infotext/.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/assert.h"
#include "image/infotext.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  aigc::Result<aigc::GenerationParams> p = aigc::parse_infotext(text);
  if (!p.ok()) {
    AIGC_ASSERT(p.status().code() == aigc::StatusCode::kInvalidArgument);
    return 0;
  }
  const std::string formatted = aigc::format_infotext(*p);
  (void)aigc::parse_infotext(formatted);
  return 0;
}
