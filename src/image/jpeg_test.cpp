// JPEG decoder against PIL's decoding of the files of
// tools/reference/image/codecs_ref.py (PIL-encoded baseline/progressive/
// grayscale/subsampled files and the script's own encoder's restart-marker,
// 4:1:1, 4:4:0, mixed-sampling and Adobe RGB files), and bad input.
#include "image/jpeg.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/mapped_file.h"
#include "image/npy.h"

namespace aigc {
namespace {

const std::string kDir = AIGC_BUILD_TESTDATA_DIR "/image/codecs/";

std::vector<uint8_t> file_bytes(const std::string& path) {
  Result<MappedFile> f = MappedFile::open(path);
  EXPECT_TRUE(f.ok()) << f.status().to_string();
  if (!f.ok()) return {};
  return std::vector<uint8_t>(f->data(), f->data() + f->size());
}

std::vector<nlohmann::json> jpeg_cases() {
  std::ifstream f(kDir + "manifest.json");
  EXPECT_TRUE(f.good()) << "missing " << kDir << "manifest.json (written by codecs_ref.py at build time)";
  if (!f.good()) return {};
  const nlohmann::json m = nlohmann::json::parse(f);
  return std::vector<nlohmann::json>(m["jpeg"].begin(), m["jpeg"].end());
}

// Decodes every reference file and compares with PIL (libjpeg-turbo, islow
// IDCT, fancy upsampling). Tolerance: max abs difference 0 per channel; the
// decoder follows libjpeg's integer arithmetic exactly.
TEST(Jpeg, MatchesPilOnEveryReferenceFile) {
  const std::vector<nlohmann::json> cases = jpeg_cases();
  ASSERT_GE(cases.size(), 40u);
  for (const auto& c : cases) {
    const std::string file = c["file"];
    const std::vector<uint8_t> bytes = file_bytes(kDir + file);
    Result<Image> img = decode_jpeg(bytes.data(), bytes.size(), file);
    ASSERT_TRUE(img.ok()) << img.status().to_string();
    Result<NpyArray> expected = read_npy(kDir + std::string(c["expected"]));
    ASSERT_TRUE(expected.ok()) << expected.status().to_string();
    ASSERT_EQ(expected->shape, (std::vector<int64_t>{img->height, img->width, img->channels})) << file;
    int max_diff = 0;
    for (size_t i = 0; i < img->pixels.size(); ++i) {
      max_diff = std::max(max_diff, std::abs(int(img->pixels[i]) - int(expected->data[i])));
    }
    EXPECT_EQ(max_diff, 0) << file;
  }
}

std::string decode_error(const std::vector<uint8_t>& jpg, const ImageLimits& limits = {}) {
  Result<Image> r = decode_jpeg(jpg.data(), jpg.size(), "bad.jpg", limits);
  return r.ok() ? "OK" : r.status().message();
}

void expect_error(const std::vector<uint8_t>& jpg, const std::string& part, const ImageLimits& limits = {}) {
  const std::string message = decode_error(jpg, limits);
  EXPECT_NE(message.find("bad.jpg"), std::string::npos) << message;
  EXPECT_NE(message.find(part), std::string::npos) << message;
}

// Offset of the first marker `code` (0xFF code) in a file's headers.
size_t find_marker(const std::vector<uint8_t>& jpg, uint8_t code) {
  size_t pos = 2;
  while (pos + 4 <= jpg.size() && jpg[pos] == 0xff && jpg[pos + 1] != code) pos += 2 + (jpg[pos + 2] << 8) + jpg[pos + 3];
  return pos;
}

std::vector<uint8_t> reference(const std::string& name) { return file_bytes(kDir + name + ".jpg"); }

TEST(Jpeg, RejectsBadHeaders) {
  const std::vector<uint8_t> good = reference("jpeg_pil_420_45x29");
  ASSERT_EQ(decode_error(good), "OK");
  std::vector<uint8_t> j = good;
  j[1] = 0xd9;
  expect_error(j, "no SOI marker");

  const size_t sof = find_marker(good, 0xc0);
  ASSERT_LT(sof, good.size());
  const auto with_sof = [&](size_t field, uint8_t value) {
    std::vector<uint8_t> t = good;
    t[sof + 4 + field] = value;
    return t;
  };
  expect_error(with_sof(0, 12), "12-bit JPEG is not supported");
  std::vector<uint8_t> no_height = with_sof(2, 0);
  no_height[sof + 5] = 0;
  expect_error(no_height, "DNL");
  expect_error(with_sof(3, 0xff), "exceeds the limit");  // width 0xff2d
  expect_error(with_sof(5, 4), "CMYK");
  expect_error(with_sof(5, 2), "2 components is not supported");
  expect_error(with_sof(7, 0x52), "invalid sampling factors 5x2");
  expect_error(with_sof(8, 7), "quantization table 7");
  expect_error(with_sof(9, 1), "duplicate component id 1");
  expect_error(with_sof(10, 0x31), "fractional chroma subsampling");  // 3x1 next to 2x2
  expect_error(good, "exceeds the limit", ImageLimits{32, 1 << 20});
  std::vector<uint8_t> sof3 = good;
  sof3[sof + 1] = 0xc3;
  expect_error(sof3, "lossless JPEG is not supported");
  sof3[sof + 1] = 0xc9;
  expect_error(sof3, "arithmetic-coded JPEG is not supported");

  const size_t dqt = find_marker(good, 0xdb);
  j = good;
  j[dqt + 4] = 0x25;
  expect_error(j, "DQT: invalid table precision/id");
  j = good;
  j[dqt + 5] = 0;
  expect_error(j, "DQT: table 0 has a zero entry");

  const size_t dht = find_marker(good, 0xc4);
  j = good;
  j[dht + 4] = 0x27;
  expect_error(j, "DHT: invalid table class/id");
  j = good;
  j[dht + 5] = 3;  // three 1-bit codes (and too few symbol bytes)
  expect_error(j, "DHT");
  j = good;
  ASSERT_EQ(j[dht + 5], 0);
  ASSERT_EQ(j[dht + 7], 5);
  j[dht + 5] = 3, j[dht + 7] = 2;  // three 1-bit codes, same symbol count
  expect_error(j, "DHT: table 0 has invalid code lengths");

  const size_t sos = find_marker(good, 0xda);
  j = good;
  j[sos + 5] = 9;  // unknown component id
  expect_error(j, "SOS: unknown or out-of-order component id 9");
  j = good;
  j[sos + 6] = 0x22;
  expect_error(j, "SOS: DC Huffman table 2 is not defined");
  j = good;
  j[sos + 2] = 0xff;  // segment length beyond the file
  expect_error(j, "runs past the end of the file");
}

TEST(Jpeg, RejectsTruncatedAndCorruptData) {
  for (const char* name : {"jpeg_pil_420_64x48", "jpeg_pil_progressive_420_64x48", "jpeg_own_422_restart"}) {
    const std::vector<uint8_t> good = reference(name);
    ASSERT_EQ(decode_error(good), "OK") << name;
    const size_t sos = find_marker(good, 0xda);
    for (size_t cut : {size_t(1), size_t(3), size_t(100), sos + 2, sos + 20, good.size() / 2}) {
      const std::vector<uint8_t> t(good.begin(), good.begin() + std::min(cut, good.size()));
      EXPECT_NE(decode_error(t), "OK") << name << " cut at " << cut;
    }
    // Flipped bytes of the entropy-coded data: an error or some image, never a crash.
    for (size_t i = sos + 20; i < good.size(); i += 7) {
      std::vector<uint8_t> t = good;
      t[i] ^= 0x5a;
      (void)decode_jpeg(t.data(), t.size(), "flipped.jpg");
    }
  }
  const std::vector<uint8_t> good = reference("jpeg_pil_444_64x48");
  const std::vector<uint8_t> cut(good.begin(), good.begin() + good.size() * 3 / 4);
  expect_error(cut, "entropy-coded data of scan 0 ends at MCU");
  // Restart markers removed: the decoder finds no RSTn where one is due.
  std::vector<uint8_t> j = reference("jpeg_own_444_restart");
  const size_t sos = find_marker(j, 0xda);
  for (size_t i = sos; i + 1 < j.size(); ++i) {
    if (j[i] == 0xff && j[i + 1] >= 0xd0 && j[i + 1] <= 0xd7) j[i + 1] = 0xd9;
  }
  EXPECT_NE(decode_error(j), "OK");
}

TEST(Jpeg, EmptyAndHeaderOnlyFiles) {
  const std::vector<uint8_t> soi_eoi = {0xff, 0xd8, 0xff, 0xd9};
  expect_error(soi_eoi, "no frame header");
  const std::vector<uint8_t> soi = {0xff, 0xd8, 0xff};
  expect_error(soi, "truncated JPEG");
  EXPECT_FALSE(is_jpeg(nullptr, 0));
}

}  // namespace
}  // namespace aigc
