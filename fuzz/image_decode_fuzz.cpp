// libFuzzer target for the image decoders: each input goes to decode_image
// (PNG or JPEG by its magic bytes) and, when it is a PNG, to the text-chunk
// reader. Decoded images must have consistent sizes and survive the RGB,
// planar and mask conversions. Limits are smaller than the defaults so the
// fuzzer does not spend its time allocating large images.
// Seeds: fuzz/seeds/image_decode/ (small files written by codecs_ref.py).
#include <cstddef>
#include <cstdint>

#include "core/assert.h"
#include "image/image_io.h"
#include "image/png.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const aigc::ImageLimits limits{2048, int64_t(1) << 20};
  aigc::Result<aigc::Image> img = aigc::decode_image(data, size, "fuzz", limits);
  if (img.ok()) {
    AIGC_ASSERT(img->width >= 1 && img->height >= 1 && img->width <= 2048 && img->height <= 2048);
    AIGC_ASSERT(img->channels >= 1 && img->channels <= 4);
    AIGC_ASSERT(img->pixels.size() == size_t(img->width) * img->height * img->channels);
    const aigc::Image rgb = aigc::to_rgb(*img);
    AIGC_ASSERT(rgb.pixels.size() == size_t(img->width) * img->height * 3);
    const std::vector<float> planar = aigc::image_to_planar(rgb);
    const aigc::Image back = aigc::planar_to_image(planar.data(), rgb.width, rgb.height);
    AIGC_ASSERT(back.pixels == rgb.pixels);
    AIGC_ASSERT(aigc::mask_to_float(*img).size() == size_t(img->width) * img->height);
  }
  if (aigc::is_png(data, size)) {
    aigc::Result<aigc::TextChunks> text = aigc::decode_png_text(data, size, "fuzz");
    if (text.ok()) {
      for (const auto& [key, value] : *text) AIGC_ASSERT(!key.empty() && key.size() <= 2 * 79);
    }
  }
  return 0;
}
