// PNG decoder against the files of tools/reference/image/codecs_ref.py (every
// colour type, bit depth, Adam7, filters, palettes, tRNS; expected pixels
// computed in numpy, exact match), text chunks written by PIL, the encoder's
// round trip, and every kind of bad input.
#include "image/png.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/mapped_file.h"
#include "image/npy.h"

namespace aigc {
namespace {

const std::string kDir = AIGC_BUILD_TESTDATA_DIR "/image/codecs/";

nlohmann::json manifest() {
  std::ifstream f(kDir + "manifest.json");
  EXPECT_TRUE(f.good()) << "missing " << kDir << "manifest.json (written by codecs_ref.py at build time)";
  return f.good() ? nlohmann::json::parse(f) : nlohmann::json::object();
}

std::vector<uint8_t> file_bytes(const std::string& path) {
  Result<MappedFile> f = MappedFile::open(path);
  EXPECT_TRUE(f.ok()) << f.status().to_string();
  if (!f.ok()) return {};
  return std::vector<uint8_t>(f->data(), f->data() + f->size());
}

TEST(Png, DecodesEveryColourTypeBitDepthAndInterlace) {
  const nlohmann::json m = manifest();
  ASSERT_GE(m["png"].size(), 40u);
  for (const auto& c : m["png"]) {
    const std::string file = c["file"];
    const std::vector<uint8_t> bytes = file_bytes(kDir + file);
    Result<Image> img = decode_png(bytes.data(), bytes.size(), file);
    ASSERT_TRUE(img.ok()) << img.status().to_string();
    Result<NpyArray> expected = read_npy(kDir + std::string(c["expected"]));
    ASSERT_TRUE(expected.ok()) << expected.status().to_string();
    ASSERT_EQ(expected->shape, (std::vector<int64_t>{img->height, img->width, img->channels})) << file;
    int mismatches = 0;
    for (size_t i = 0; i < img->pixels.size(); ++i) mismatches += float(img->pixels[i]) != expected->data[i];
    EXPECT_EQ(mismatches, 0) << file;
  }
}

Image random_image(int w, int h, int channels, uint32_t seed) {
  Image img{w, h, channels, std::vector<uint8_t>(size_t(w) * h * channels)};
  for (size_t i = 0; i < img.pixels.size(); ++i) {
    seed = seed * 1664525u + 1013904223u;
    // Smooth ramps plus noise, so every filter type wins somewhere.
    img.pixels[i] = uint8_t((i % 7 == 0) ? (seed >> 24) : (i / channels) % w * 3 + (seed >> 30));
  }
  return img;
}

TEST(Png, EncoderRoundTripsAndIsDeterministic) {
  for (int channels = 1; channels <= 4; ++channels) {
    const Image img = random_image(37, 11, channels, uint32_t(channels));
    Result<std::vector<uint8_t>> a = encode_png(img, {{"parameters", "x"}});
    ASSERT_TRUE(a.ok()) << a.status().to_string();
    Result<std::vector<uint8_t>> b = encode_png(img, {{"parameters", "x"}});
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(*a, *b);
    Result<Image> back = decode_png(a->data(), a->size(), "roundtrip.png");
    ASSERT_TRUE(back.ok()) << back.status().to_string();
    EXPECT_EQ(back->channels, channels);
    EXPECT_EQ(back->pixels, img.pixels);
  }
}

TEST(Png, TextChunksWrittenByPil) {
  const nlohmann::json m = manifest();
  ASSERT_EQ(m["png_text"].size(), 1u);
  const auto& c = m["png_text"][0];
  const std::vector<uint8_t> bytes = file_bytes(kDir + std::string(c["file"]));
  Result<TextChunks> text = decode_png_text(bytes.data(), bytes.size(), c["file"]);
  ASSERT_TRUE(text.ok()) << text.status().to_string();
  ASSERT_EQ(text->size(), c["chunks"].size());
  for (size_t i = 0; i < text->size(); ++i) {
    EXPECT_EQ((*text)[i].first, c["chunks"][i][0]);
    EXPECT_EQ((*text)[i].second, c["chunks"][i][1]);
  }
}

TEST(Png, TextRoundTripUsesTextForLatin1AndITextOtherwise) {
  const TextChunks chunks = {{"parameters", "caf\xc3\xa9\nSteps: 20"}, {"Unicode", "\xe7\x8c\xab \xe2\x80\x94"}};
  Result<std::vector<uint8_t>> png = encode_png(random_image(3, 2, 3, 1), chunks);
  ASSERT_TRUE(png.ok());
  const std::string bytes(png->begin(), png->end());
  EXPECT_NE(bytes.find(std::string("tEXtparameters\0caf\xe9\nSteps: 20", 29)), std::string::npos);
  EXPECT_NE(bytes.find(std::string("iTXtUnicode\0\0\0\0\0\xe7\x8c\xab", 19)), std::string::npos);
  Result<TextChunks> back = decode_png_text(png->data(), png->size(), "t.png");
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(*back, chunks);
}

TEST(Png, EncoderRejectsBadArguments) {
  Image img = random_image(4, 4, 3, 1);
  EXPECT_FALSE(encode_png(img, {{"", "x"}}).ok());
  EXPECT_FALSE(encode_png(img, {{std::string(80, 'k'), "x"}}).ok());
  EXPECT_FALSE(encode_png(img, {{"key", std::string("a\0b", 3)}}).ok());
  img.pixels.pop_back();
  EXPECT_FALSE(encode_png(img, {}).ok());
  img.channels = 5;
  EXPECT_FALSE(encode_png(img, {}).ok());
}

// ------------------------------------------------------------ bad input

uint32_t be32(const uint8_t* p) { return (uint32_t(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) | p[3]; }
void put_be32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24), p[1] = uint8_t(v >> 16), p[2] = uint8_t(v >> 8), p[3] = uint8_t(v);
}
// Recomputes the CRC of the chunk at `offset` after an edit.
void fix_crc(std::vector<uint8_t>& png, size_t offset) {
  const uint32_t length = be32(&png[offset]);
  put_be32(&png[offset + 8 + length], uint32_t(crc32(0, &png[offset + 4], 4 + length)));
}

std::string decode_error(const std::vector<uint8_t>& png, const ImageLimits& limits = {}) {
  Result<Image> r = decode_png(png.data(), png.size(), "bad.png", limits);
  return r.ok() ? "OK" : r.status().message();
}

void expect_error(const std::vector<uint8_t>& png, const std::string& part, const ImageLimits& limits = {}) {
  const std::string message = decode_error(png, limits);
  EXPECT_NE(message.find("bad.png"), std::string::npos) << message;
  EXPECT_NE(message.find(part), std::string::npos) << message;
}

// A valid 8x8 RGB PNG: signature, IHDR at 8, (no text), IDAT at 33, IEND.
std::vector<uint8_t> valid_png() {
  Result<std::vector<uint8_t>> png = encode_png(random_image(8, 8, 3, 7), {});
  EXPECT_TRUE(png.ok());
  return *png;
}

TEST(Png, RejectsBadSignatureAndHeader) {
  std::vector<uint8_t> png = valid_png();
  ASSERT_EQ(decode_error(png), "OK");
  png[1] = 'Q';
  expect_error(png, "bad signature");

  const auto with_ihdr = [](size_t field, uint8_t value) {
    std::vector<uint8_t> p = valid_png();
    p[16 + field] = value;
    fix_crc(p, 8);
    return p;
  };
  expect_error(with_ihdr(8, 3), "bit depth 3 is invalid for colour type 2");
  expect_error(with_ihdr(9, 5), "colour type 5 is invalid");
  expect_error(with_ihdr(10, 1), "compression method 1");
  expect_error(with_ihdr(11, 1), "filter method 1");
  expect_error(with_ihdr(12, 2), "interlace method 2");
  expect_error(with_ihdr(3, 0), "is empty");  // width 0
  std::vector<uint8_t> huge = valid_png();
  put_be32(&huge[16], 20000);
  fix_crc(huge, 8);
  expect_error(huge, "exceeds the limit");
  put_be32(&huge[16], 8000), put_be32(&huge[20], 9000);
  fix_crc(huge, 8);
  expect_error(huge, "exceeds the limit");  // 72 Mpixel > 64 Mpixel
  expect_error(valid_png(), "exceeds the limit", ImageLimits{4, 1000});
}

TEST(Png, RejectsBadChunks) {
  std::vector<uint8_t> png = valid_png();
  png[40] ^= 1;  // inside IDAT data
  expect_error(png, "CRC mismatch");

  png = valid_png();
  put_be32(&png[33], 0x7ffffff0);  // IDAT length beyond the file
  expect_error(png, "runs past the end of the file");
  put_be32(&png[33], 0x90000000);
  expect_error(png, "is too large");

  png = valid_png();
  png.resize(png.size() - 12);  // no IEND
  expect_error(png, "before the IEND chunk");
  for (size_t cut : {size_t(9), size_t(20), size_t(35), png.size() - 5}) {
    std::vector<uint8_t> t(png.begin(), png.begin() + cut);
    expect_error(t, "truncated");
  }

  png = valid_png();
  std::memcpy(&png[37], "IDAX", 4);  // unknown critical chunk instead of IDAT
  fix_crc(png, 33);
  expect_error(png, "unknown critical chunk 'IDAX'");
  std::memcpy(&png[37], "iDAX", 4);  // ancillary: skipped, so no image data
  fix_crc(png, 33);
  expect_error(png, "no image data");
}

// An 8x8 RGB PNG whose IDAT holds `raw` (filter bytes included) compressed.
std::vector<uint8_t> png_with_raw(const std::vector<uint8_t>& raw, uint8_t color_type = 2, uint8_t depth = 8,
                                  const std::vector<uint8_t>& plte = {}) {
  std::vector<uint8_t> png = valid_png();
  png[24] = depth;
  png[25] = color_type;
  fix_crc(png, 8);
  png.resize(33);
  const auto chunk = [&](const char* type, const std::vector<uint8_t>& body) {
    const size_t at = png.size();
    png.resize(at + 12 + body.size());
    put_be32(&png[at], uint32_t(body.size()));
    std::memcpy(&png[at + 4], type, 4);
    if (!body.empty()) std::memcpy(&png[at + 8], body.data(), body.size());
    fix_crc(png, at);
  };
  if (!plte.empty()) chunk("PLTE", plte);
  uLongf n = compressBound(uLong(raw.size()));
  std::vector<uint8_t> z(n);
  compress2(z.data(), &n, raw.data(), uLong(raw.size()), 9);
  z.resize(n);
  chunk("IDAT", z);
  chunk("IEND", {});
  return png;
}

TEST(Png, RejectsBadImageData) {
  std::vector<uint8_t> raw(8 * (1 + 24), 0);
  EXPECT_EQ(decode_error(png_with_raw(raw)), "OK");
  raw[25] = 5;  // filter type of row 1
  expect_error(png_with_raw(raw), "row filter type 5 is invalid");
  raw[25] = 0;
  raw.resize(raw.size() - 1);
  expect_error(png_with_raw(raw), "ends after 199 of 200 bytes");
  // A decompression bomb: 16 MiB of zeros for an 8x8 image inflates 200 bytes only.
  std::vector<uint8_t> bomb(16 << 20, 0);
  EXPECT_EQ(decode_error(png_with_raw(bomb)), "OK");

  std::vector<uint8_t> png = png_with_raw(raw);
  const size_t idat = 33;
  png[idat + 8 + 2] ^= 0xff;  // corrupt the deflate stream
  fix_crc(png, idat);
  expect_error(png, "corrupt compressed data");

  // Palette: missing PLTE; index beyond the palette.
  std::vector<uint8_t> indices(8 * 9, 0);
  expect_error(png_with_raw(indices, 3), "without a PLTE chunk");
  EXPECT_EQ(decode_error(png_with_raw(indices, 3, 8, {1, 2, 3})), "OK");
  indices[5] = 1;
  expect_error(png_with_raw(indices, 3, 8, {1, 2, 3}), "palette index 1 at pixel (4, 0) is beyond the palette");
  expect_error(png_with_raw(indices, 3, 8, {1, 2}), "PLTE length 2");
}

TEST(Png, TextReaderRejectsBadChunks) {
  Result<std::vector<uint8_t>> png = encode_png(random_image(2, 2, 1, 1), {{"k", "v"}});
  ASSERT_TRUE(png.ok());
  std::vector<uint8_t> p = *png;
  const size_t text = 33;  // the tEXt chunk follows IHDR
  ASSERT_EQ(std::memcmp(&p[text + 4], "tEXt", 4), 0);
  p[text + 9] = 'x';  // the keyword's NUL
  fix_crc(p, text);
  Result<TextChunks> r = decode_png_text(p.data(), p.size(), "bad.png");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("keyword is not 1-79 bytes"), std::string::npos) << r.status().message();
  p = *png;
  p[text + 10] ^= 1;
  EXPECT_FALSE(decode_png_text(p.data(), p.size(), "bad.png").ok());  // CRC
}

}  // namespace
}  // namespace aigc
