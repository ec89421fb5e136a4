// image_io: format sniffing and its errors, PNG save/load with text, RGB
// conversion, resize against PIL (bilinear, Lanczos; up and down), the float
// planar conversions and the mask luma against PIL's convert("L").
#include "image/image_io.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/test_temp_path.h"
#include "image/npy.h"

namespace aigc {
namespace {

const std::string kDir = AIGC_BUILD_TESTDATA_DIR "/image/codecs/";

nlohmann::json manifest() {
  std::ifstream f(kDir + "manifest.json");
  EXPECT_TRUE(f.good()) << "missing " << kDir << "manifest.json (written by codecs_ref.py at build time)";
  return f.good() ? nlohmann::json::parse(f) : nlohmann::json::object();
}

TEST(ImageIo, LoadsPngAndJpegByContent) {
  Result<Image> png = load_image(kDir + "png_c6_d8_i1_33x18.png");
  ASSERT_TRUE(png.ok()) << png.status().to_string();
  EXPECT_EQ(png->channels, 4);
  Result<Image> jpg = load_image(kDir + "jpeg_pil_420_45x29.jpg");
  ASSERT_TRUE(jpg.ok()) << jpg.status().to_string();
  EXPECT_EQ(jpg->width, 45);
  EXPECT_EQ(jpg->height, 29);
  const uint8_t gif[] = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0};
  Result<Image> other = decode_image(gif, sizeof(gif), "x.gif");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().message(), "x.gif: unknown image format (supported: PNG, JPEG)");
  Result<Image> missing = load_image(kDir + "does-not-exist.png");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("does-not-exist.png"), std::string::npos);
}

TEST(ImageIo, SavePngAndReadTextBack) {
  const std::string path = test_temp_path("image_io_test.png");
  Image img{5, 3, 3, std::vector<uint8_t>(45)};
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = uint8_t(i * 5);
  ASSERT_TRUE(save_png(path, img, {{"parameters", "a cat\nSteps: 20"}}).ok());
  Result<Image> back = load_image(path);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->pixels, img.pixels);
  Result<std::vector<std::pair<std::string, std::string>>> text = read_png_text(path);
  ASSERT_TRUE(text.ok());
  ASSERT_EQ(text->size(), 1u);
  EXPECT_EQ((*text)[0].second, "a cat\nSteps: 20");
  std::remove(path.c_str());
  Status bad = save_png("/nonexistent-dir/x.png", img, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("/nonexistent-dir/x.png"), std::string::npos);
}

TEST(ImageIo, ToRgb) {
  const Image gray_alpha{2, 1, 2, {10, 200, 30, 0}};
  EXPECT_EQ(to_rgb(gray_alpha).pixels, (std::vector<uint8_t>{10, 10, 10, 30, 30, 30}));
  const Image rgba{1, 1, 4, {1, 2, 3, 4}};
  EXPECT_EQ(to_rgb(rgba).pixels, (std::vector<uint8_t>{1, 2, 3}));
}

// Tolerance vs PIL: max abs difference 1 (PIL uses fixed-point weights, this
// doubles; both round to 8 bits between the horizontal and vertical passes),
// and on average under 0.1.
TEST(ImageIo, ResizeMatchesPil) {
  const nlohmann::json m = manifest();
  ASSERT_GE(m["resize"].size(), 8u);
  for (const auto& c : m["resize"]) {
    Result<Image> src = load_image(kDir + std::string(c["file"]));
    ASSERT_TRUE(src.ok());
    const ResizeFilter filter = c["filter"] == "lanczos" ? ResizeFilter::kLanczos : ResizeFilter::kBilinear;
    Result<Image> out = resize_image(*src, c["width"], c["height"], filter);
    ASSERT_TRUE(out.ok()) << out.status().to_string();
    Result<NpyArray> expected = read_npy(kDir + std::string(c["expected"]));
    ASSERT_TRUE(expected.ok());
    ASSERT_EQ(expected->data.size(), out->pixels.size());
    int max_diff = 0;
    double total = 0;
    for (size_t i = 0; i < out->pixels.size(); ++i) {
      const int d = std::abs(int(out->pixels[i]) - int(expected->data[i]));
      max_diff = std::max(max_diff, d);
      total += d;
    }
    EXPECT_LE(max_diff, 1) << c["expected"];
    EXPECT_LT(total / out->pixels.size(), 0.1) << c["expected"];
  }
  EXPECT_FALSE(resize_image(Image{}, 4, 4, ResizeFilter::kBilinear).ok());
  EXPECT_FALSE(resize_image(Image{1, 1, 3, {1, 2, 3}}, 0, 4, ResizeFilter::kLanczos).ok());
}

TEST(ImageIo, MaskLumaMatchesPilConvertL) {
  const nlohmann::json m = manifest();
  Result<Image> src = load_image(kDir + std::string(m["luma"]["file"]));
  ASSERT_TRUE(src.ok());
  Result<NpyArray> expected = read_npy(kDir + std::string(m["luma"]["expected"]));
  ASSERT_TRUE(expected.ok());
  const std::vector<float> mask = mask_to_float(*src);
  ASSERT_EQ(mask.size(), expected->data.size());
  for (size_t i = 0; i < mask.size(); ++i) EXPECT_EQ(mask[i], expected->data[i] / 255.0f) << i;
  EXPECT_EQ(mask_to_float(Image{2, 1, 1, {0, 255}}), (std::vector<float>{0.0f, 1.0f}));
}

TEST(ImageIo, PlanarConversions) {
  const Image img{2, 1, 3, {0, 255, 51, 102, 127, 128}};
  const std::vector<float> planar = image_to_planar(img);
  ASSERT_EQ(planar.size(), 6u);
  // [3, H, W]: channel-major.
  EXPECT_FLOAT_EQ(planar[0], -1.0f);           // R of pixel 0
  EXPECT_FLOAT_EQ(planar[1], 102 / 127.5f - 1); // R of pixel 1
  EXPECT_FLOAT_EQ(planar[2], 1.0f);            // G of pixel 0
  EXPECT_EQ(planar_to_image(planar.data(), 2, 1).pixels, img.pixels);
  const float wild[6] = {-3, 7, NAN, 0, 0.5f, -0.5f};
  // round(clamp((v + 1) / 2) * 255): R -3 -> 0, 7 -> 255; G NaN -> 0, 0 -> 127.5 -> 128;
  // B 0.5 -> 191.25 -> 191, -0.5 -> 63.75 -> 64. Interleaved: pixel 0 then pixel 1.
  EXPECT_EQ(planar_to_image(wild, 2, 1).pixels, (std::vector<uint8_t>{0, 0, 191, 255, 128, 64}));
}

}  // namespace
}  // namespace aigc
