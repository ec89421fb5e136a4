// PNG: decoder for every colour type, bit depth (16-bit reduced to 8 by
// keeping the high byte, as libpng's strip_16; 1/2/4-bit gray scaled to 0..255),
// palette + tRNS and Adam7 interlacing; encoder for 8-bit gray/gray+alpha/
// RGB/RGBA with text chunks; reader of the text chunks (tEXt, zTXt, iTXt).
//
// Hostile input: the signature, every chunk's length and CRC, the IHDR fields
// and the image size are checked before anything is allocated; the image data
// is never inflated beyond the size the header announces. Errors name the
// file (`name`) and the problem.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "image/image.h"

namespace aigc {

using TextChunks = std::vector<std::pair<std::string, std::string>>;  // keyword, UTF-8 text

bool is_png(const uint8_t* data, size_t size);

// Channels of the result: 1 gray, 2 gray+alpha (or gray with a tRNS key),
// 3 RGB or palette, 4 RGBA (or RGB/palette with tRNS).
Result<Image> decode_png(const uint8_t* data, size_t size, const std::string& name,
                         const ImageLimits& limits = {});

// Text chunks in file order. tEXt is Latin-1 (converted to UTF-8); zTXt and
// compressed iTXt are inflated (at most 16 MiB each).
Result<TextChunks> decode_png_text(const uint8_t* data, size_t size, const std::string& name);

// Deterministic PNG bytes: 8-bit, not interlaced, per-row adaptive filter,
// zlib level 6. Each text chunk is written before the image data as tEXt
// when its keyword and text are Latin-1, else as uncompressed iTXt (what PIL
// and the web UIs do). Keywords must be 1-79 printable Latin-1 characters.
Result<std::vector<uint8_t>> encode_png(const Image& image, const TextChunks& text_chunks);

}  // namespace aigc
