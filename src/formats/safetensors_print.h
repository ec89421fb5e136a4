// Human-readable summary of a safetensors file or sharded set, for
// `aigc inspect`: the metadata, then a table of tensors (name, dtype, shape,
// bytes) and the totals.
#pragma once

#include <cstdio>

#include "formats/safetensors.h"

namespace aigc {

void safetensors_print_summary(const SafetensorsFile& file, std::FILE* out);
// For a sharded set, also lists the shards and each tensor's shard.
void safetensors_print_summary(const SafetensorsSet& set, std::FILE* out);

}  // namespace aigc
