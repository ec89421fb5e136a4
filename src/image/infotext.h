// The AUTOMATIC1111 web UI's "parameters" text (PNG tEXt chunk), which most
// SD tools write and read:
//
//   a photo of a cat, 4k
//   Negative prompt: blurry, lowres
//   Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 42, Size: 512x768, Model: v1-5, Denoising strength: 0.75, Clip skip: 2
//
// The prompt may span lines; the "Negative prompt:" line is omitted when the
// negative prompt is empty; the last line is "key: value" pairs joined by
// ", ", where a value containing ',', ':' or a newline is written as a JSON
// string ("Lora: \"a, b\"" style, non-ASCII kept), exactly as the web UI's
// infotext_utils.quote() does. Numbers use the shortest form that reads back
// ("7", "7.5", "0.75").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace aigc {

struct GenerationParams {
  std::string prompt, negative;
  int steps = 20;
  std::string sampler = "Euler a";  // the web UI's display name
  std::string schedule_type;        // "Karras", ...; omitted when empty
  float cfg = 7;
  uint64_t seed = 0;
  int width = 512, height = 512;
  std::string model_hash;  // omitted when empty
  std::string model;       // omitted when empty
  float strength = 0;      // "Denoising strength" (img2img); omitted when 0
  int clip_skip = 1;       // omitted when <= 1, as the web UI does
  std::vector<std::pair<std::string, std::string>> extra;  // other keys in order, values unquoted
};

std::string format_infotext(const GenerationParams& params);

// Reads what the web UI writes: multi-line prompts, quoted values, unknown
// keys (kept in `extra`). A text whose last line has fewer than three
// "key: value" pairs is all prompt (the other fields keep their defaults),
// as in the web UI. Known keys with malformed values are InvalidArgument
// errors naming the key and the value.
Result<GenerationParams> parse_infotext(std::string_view text);

// The web UI's quote(): `value` unchanged, or as a JSON string when it has
// ',', ':' or '\n'.
std::string quote_infotext_value(std::string_view value);

}  // namespace aigc
