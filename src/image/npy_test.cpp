// .npy reader and writer: numpy-written files (float32/float64/uint8,
// versions 1.0 and 2.0, 0-d and empty arrays) from codecs_ref.py, the
// writer's bytes equal to numpy's, and hostile headers.
#include "image/npy.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/mapped_file.h"
#include "core/test_temp_path.h"

namespace aigc {
namespace {

const std::string kDir = AIGC_BUILD_TESTDATA_DIR "/image/codecs/";

nlohmann::json npy_cases() {
  std::ifstream f(kDir + "manifest.json");
  EXPECT_TRUE(f.good()) << "missing " << kDir << "manifest.json (written by codecs_ref.py at build time)";
  return f.good() ? nlohmann::json::parse(f)["npy"] : nlohmann::json::array();
}

// Values must match numpy's exactly (float64 files: after rounding to float32).
TEST(Npy, ReadsNumpyFiles) {
  const nlohmann::json cases = npy_cases();
  ASSERT_GE(cases.size(), 7u);
  for (const auto& c : cases) {
    const std::string file = c["file"];
    Result<NpyArray> a = read_npy(kDir + file);
    ASSERT_TRUE(a.ok()) << a.status().to_string();
    EXPECT_EQ(a->shape, c["shape"].get<std::vector<int64_t>>()) << file;
    const std::vector<double> values = c["values"];
    ASSERT_EQ(a->data.size(), values.size()) << file;
    for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(a->data[i], float(values[i])) << file << " [" << i << "]";
  }
}

// The writer produces numpy's bytes for float32 arrays (header padding to 64
// bytes, shape tuple formatting).
TEST(Npy, WriterMatchesNumpyBytes) {
  int compared = 0;
  for (const auto& c : npy_cases()) {
    const std::string file = c["file"];
    if (file.find("_f4") == std::string::npos && file != "npy_scalar.npy" && file != "npy_empty.npy" &&
        file != "npy_1d.npy") {
      continue;
    }
    if (file.find("_v2") != std::string::npos) continue;  // numpy writes 2.0 only when asked
    NpyArray a;
    a.shape = c["shape"].get<std::vector<int64_t>>();
    for (double v : c["values"]) a.data.push_back(float(v));
    Result<std::vector<uint8_t>> bytes = encode_npy(a);
    ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
    Result<MappedFile> numpy = MappedFile::open(kDir + file);
    ASSERT_TRUE(numpy.ok());
    EXPECT_EQ(*bytes, std::vector<uint8_t>(numpy->data(), numpy->data() + numpy->size())) << file;
    ++compared;
  }
  EXPECT_EQ(compared, 4);
}

TEST(Npy, WriteThenReadFile) {
  const std::string path = test_temp_path("npy_test_roundtrip.npy");
  NpyArray a{{2, 3}, {1.5f, -2, 3, 0.25f, -0.0f, 1e30f}};
  ASSERT_TRUE(write_npy(path, a).ok());
  Result<NpyArray> b = read_npy(path);
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  EXPECT_EQ(b->shape, a.shape);
  EXPECT_EQ(b->data, a.data);
  std::remove(path.c_str());
  EXPECT_FALSE(write_npy(path, NpyArray{{2, 2}, {1, 2, 3}}).ok());  // shape vs data
  EXPECT_FALSE(write_npy("/nonexistent-dir/x.npy", a).ok());
  EXPECT_FALSE(read_npy("/nonexistent-dir/x.npy").ok());
}

// A file with `header` as its dict and `data_bytes` zero bytes of data.
std::vector<uint8_t> npy_file(const std::string& header, size_t data_bytes, uint8_t major = 1) {
  std::vector<uint8_t> f = {0x93, 'N', 'U', 'M', 'P', 'Y', major, 0};
  const size_t n = header.size();
  f.push_back(uint8_t(n));
  f.push_back(uint8_t(n >> 8));
  if (major >= 2) f.insert(f.end(), {0, 0});
  f.insert(f.end(), header.begin(), header.end());
  f.resize(f.size() + data_bytes, 0);
  return f;
}

std::string parse_error(const std::vector<uint8_t>& f) {
  Result<NpyArray> r = parse_npy(f.data(), f.size(), "bad.npy");
  return r.ok() ? "OK" : r.status().message();
}

TEST(Npy, RejectsHostileHeaders) {
  const std::string good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  EXPECT_EQ(parse_error(npy_file(good, 24)), "OK");
  EXPECT_EQ(parse_error(npy_file(good, 24, 2)), "OK");
  const std::pair<std::vector<uint8_t>, std::string> cases[] = {
      {{0x93, 'N', 'U', 'M'}, "bad magic"},
      {npy_file(good, 24, 4), "version 4.0"},
      {npy_file(good, 20), "needs 6 elements of 4 bytes, the file has 20"},
      {npy_file(good, 28), "the file has 28"},
      {npy_file("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", 24), "dtype '>f4'"},
      {npy_file("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24), "Fortran-order"},
      {npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4), }", 0), "overflows"},
      {npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", 0), "non-integer"},
      {npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }", 0), "non-integer"},
      {npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2 3), }", 0), "malformed"},
      {npy_file("{'descr': '<f4', 'shape': (2, 3), }", 24), "lacks"},
      {npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", 24), "unknown key 'x'"},
      {npy_file("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2, 3), }", 24), "True/False"},
      {npy_file("{'descr': '<f4", 0), "'descr' is not a string"},
      {npy_file("[1, 2]", 0), "is not a dict"},
      {npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } junk", 24), "text after the dict"},
  };
  for (const auto& [bytes, part] : cases) {
    const std::string message = parse_error(bytes);
    EXPECT_NE(message.find("bad.npy"), std::string::npos) << message;
    EXPECT_NE(message.find(part), std::string::npos) << message;
  }
  std::vector<uint8_t> short_header = npy_file(good, 24);
  short_header[8] = 0xff;  // header length beyond the file
  EXPECT_NE(parse_error(short_header).find("runs past the end of the file"), std::string::npos);
}

}  // namespace
}  // namespace aigc
