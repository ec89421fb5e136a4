// Image: an 8-bit raster as the codecs and the pipeline exchange it.
// Pixels are interleaved, row by row, top row first: pixel (x, y) channel c is
// pixels[(y * width + x) * channels + c]. channels: 1 gray, 2 gray+alpha,
// 3 RGB, 4 RGBA.
#pragma once

#include <cstdint>
#include <vector>

namespace aigc {

struct Image {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;  // [height, width, channels]
};

// Decoders refuse images beyond these sizes before they allocate anything.
struct ImageLimits {
  int max_dimension = 16384;            // width and height
  int64_t max_pixels = int64_t(1) << 26;  // width * height (64 Mpixel)
};

}  // namespace aigc
