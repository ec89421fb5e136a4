// Image files and the conversions the image pipeline needs: load PNG/JPEG
// (sniffed by content), save PNG with text chunks, read a PNG's text chunks,
// convert to RGB, resize, and map between 8-bit images and the float planar
// tensors the VAE works on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "image/image.h"

namespace aigc {

// PNG or JPEG by content; other formats get an error naming the supported ones.
Result<Image> load_image(const std::string& path);
Result<Image> decode_image(const uint8_t* data, size_t size, const std::string& name, const ImageLimits& limits = {});

Status save_png(const std::string& path, const Image& image,
                const std::vector<std::pair<std::string, std::string>>& text_chunks);
// tEXt, zTXt and iTXt entries (keyword, UTF-8 text) in file order.
Result<std::vector<std::pair<std::string, std::string>>> read_png_text(const std::string& path);

// 3 channels: gray is replicated, alpha is dropped (as PIL's convert("RGB")).
Image to_rgb(const Image& image);

enum class ResizeFilter { kBilinear, kLanczos };
// Resamples to width x height with the filter widened by the scale factor
// when shrinking (antialiased, as PIL's Image.resize). Any channel count.
Result<Image> resize_image(const Image& image, int width, int height, ResizeFilter filter);

// RGB image -> [3, H, W] floats, 2 * v / 255 - 1 (in [-1, 1]). Gray and
// alpha images go through to_rgb first.
std::vector<float> image_to_planar(const Image& image);
// [3, H, W] floats in about [-1, 1] -> RGB image, round(clamp((v + 1) / 2, 0, 1) * 255).
Image planar_to_image(const float* planar, int width, int height);
// Mask image -> [H, W] floats in [0, 1]: its gray level (PIL's convert("L")
// luma for colour images), alpha ignored. White = repaint.
std::vector<float> mask_to_float(const Image& image);

}  // namespace aigc
