// JPEG decoder: baseline and extended sequential and progressive Huffman
// JPEG, 8-bit, grayscale, YCbCr or RGB, any integral subsampling (4:4:4,
// 4:2:2, 4:2:0, 4:1:1, 4:4:0, ...), restart markers; APPn/COM segments are
// skipped (APP14 "Adobe" tells RGB from YCbCr). Lossless, hierarchical,
// arithmetic-coded, 12-bit and CMYK files get an Unsupported error.
//
// Pixels follow libjpeg's defaults, which PIL uses: the integer "islow"
// IDCT, fancy (triangular) upsampling for h2v1, h1v2 and h2v2 chroma, and
// libjpeg's fixed-point YCbCr->RGB tables, so results match PIL's.
//
// Hostile input: every segment length, table and scan parameter is checked;
// the image size is checked against `limits` before anything is allocated;
// entropy-coded data that runs out before the scan's last block is an error.
// Errors name the file (`name`) and the problem.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/status.h"
#include "image/image.h"

namespace aigc {

bool is_jpeg(const uint8_t* data, size_t size);

// 1 channel (grayscale) or 3 (RGB).
Result<Image> decode_jpeg(const uint8_t* data, size_t size, const std::string& name, const ImageLimits& limits = {});

}  // namespace aigc
