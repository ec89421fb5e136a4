// Human-readable summary of a GGUF file, for `aigc inspect`: the header, the
// metadata (long arrays summarised, long strings cut) and a table of tensors
// (name, type, shape, bytes) with the total.
#pragma once

#include <cstdio>
#include <string>

#include "formats/gguf.h"

namespace aigc {

// One value as text: strings quoted and cut, arrays as "[n items: a, b, ...]"
// when they hold more than `max_items` elements.
std::string gguf_value_to_string(const GgufValue& v, size_t max_items = 8);

void gguf_print_summary(const GgufFile& file, std::FILE* out);

}  // namespace aigc
