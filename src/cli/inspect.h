// `aigc inspect FILE`: prints a model file's metadata and tensor table.
#pragma once

#include <cstdio>
#include <string>

namespace aigc {

// Detects the format (GGUF by magic; safetensors; a sharded safetensors
// index .json), prints its summary to `out` (long arrays summarised), returns
// the exit code (errors on stderr, non-zero).
int inspect_file(const std::string& path, std::FILE* out);

}  // namespace aigc
