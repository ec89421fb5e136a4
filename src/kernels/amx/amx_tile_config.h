// The AMX tile configuration (palette 1) that _tile_loadconfig reads: rows
// and bytes per row of each of the 8 tiles. Kernels keep theirs as
// constants in memory: GCC 12's _tile_loadconfig tells the compiler it
// reads only the first 8 bytes, so the stores filling a local config could
// be dropped as dead.
#pragma once

#include <cstdint>

namespace aigc {

struct alignas(64) AmxTileConfig {
  uint8_t palette;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t bytes_per_row[16];
  uint8_t rows[16];
};
static_assert(sizeof(AmxTileConfig) == 64);

}  // namespace aigc
