// Tests for the safetensors reader: files written by PyTorch
// (tools/reference/write_safetensors.py), one handcrafted bad file per failure
// mode, every-prefix truncation, byte flips, and sharded sets in a temporary
// folder.
#include "formats/safetensors.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

#include "core/fp16.h"
#include "formats/safetensors_print.h"

namespace aigc {
namespace {

namespace fs = std::filesystem;

const std::string kSeeds = std::string(AIGC_SOURCE_DIR) + "/fuzz/seeds/safetensors";

std::string le64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = char((v >> (8 * i)) & 0xff);
  return s;
}

// A file image: header size, header, data.
std::string image(const std::string& header, const std::string& data = "") {
  return le64(header.size()) + header + data;
}

// As image(), with the header padded by spaces so that the data is 8-aligned.
std::string padded_image(const std::string& header, const std::string& data) {
  return image(header + std::string((8 - header.size() % 8) % 8, ' '), data);
}

// Parses from an 8-byte-aligned copy, so alignment depends only on the image.
Result<SafetensorsFile> parse(const std::string& bytes, std::vector<uint64_t>* storage) {
  storage->assign(bytes.size() / 8 + 1, 0);
  std::memcpy(storage->data(), bytes.data(), bytes.size());
  return SafetensorsFile::parse(reinterpret_cast<const uint8_t*>(storage->data()), bytes.size(), "t.safetensors");
}

// Expects `bytes` to be refused with `code` and a message naming the file and
// containing each of `parts`.
void expect_error(const std::string& bytes, StatusCode code, std::initializer_list<const char*> parts) {
  std::vector<uint64_t> storage;
  Result<SafetensorsFile> r = parse(bytes, &storage);
  ASSERT_FALSE(r.ok()) << "accepted: " << bytes.substr(8);
  EXPECT_EQ(r.status().code(), code) << r.status().to_string();
  const std::string& m = r.status().message();
  EXPECT_EQ(m.rfind("t.safetensors: ", 0), 0u) << m;
  for (const char* p : parts) EXPECT_NE(m.find(p), std::string::npos) << "'" << p << "' not in: " << m;
}

// One F32 [2] tensor "a" of 8 bytes.
const std::string kEntryA = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), std::streamsize(bytes.size()));
}

// ---------------------------------------------------------------- valid files

TEST(Safetensors, ReadsFileWrittenByPyTorch) {
  const std::string path = kSeeds + "/single.safetensors";
  Result<SafetensorsFile> r = SafetensorsFile::open(path);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const SafetensorsFile& f = *r;
  EXPECT_EQ(f.header_bytes() % 8, 0u);
  ASSERT_NE(f.find_metadata("format"), nullptr);
  EXPECT_EQ(*f.find_metadata("format"), "pt");
  EXPECT_EQ(f.find_metadata("missing"), nullptr);
  ASSERT_EQ(f.tensors().size(), 6u);
  EXPECT_EQ(f.tensors()[0].name, "a");  // sorted by name
  EXPECT_EQ(f.tensors()[5].name, "z");

  Result<Tensor> a = f.tensor("a");
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  EXPECT_EQ(a->dtype, DType::F32);
  EXPECT_EQ(a->shape_string(), "[2, 3]");
  EXPECT_TRUE(a->is_contiguous());
  for (int i = 0; i < 6; ++i) EXPECT_EQ(a->ptr<float>()[i], float(i) * 0.25f - 1.0f);

  Result<Tensor> b = f.tensor("b");
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  EXPECT_EQ(b->dtype, DType::F16);
  EXPECT_EQ(b->shape_string(), "[5]");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(fp16_to_fp32(b->ptr<uint16_t>()[i]), float(i) * 0.5f);

  Result<Tensor> c = f.tensor("c");
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->dtype, DType::BF16);
  EXPECT_EQ(c->shape_string(), "[3, 1]");
  const float c_expect[] = {1.0f, -2.0f, 3.5f};
  for (int i = 0; i < 3; ++i) EXPECT_EQ(bf16_to_fp32(c->ptr<uint16_t>()[i]), c_expect[i]);

  Result<Tensor> s = f.tensor("s");
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ(s->n_dims, 0);
  EXPECT_EQ(*s->ptr<float>(), 42.0f);

  Result<Tensor> z = f.tensor("z");
  ASSERT_TRUE(z.ok()) << z.status().to_string();
  EXPECT_EQ(z->numel(), 0);
  EXPECT_EQ(f.find("z")->nbytes(), 0u);

  // I64 is listed with its shape, readable as bytes, not viewable as a Tensor.
  const SafetensorsTensorInfo* d = f.find("d");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->dtype, "I64");
  EXPECT_EQ(d->shape_string(), "[2]");
  Result<Tensor> dt = f.tensor("d");
  ASSERT_FALSE(dt.ok());
  EXPECT_EQ(dt.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(dt.status().message().find("unsupported dtype I64"), std::string::npos) << dt.status().message();
  Result<std::span<const uint8_t>> db = f.bytes("d");
  ASSERT_TRUE(db.ok());
  ASSERT_EQ(db->size(), 16u);
  int64_t dv[2];
  std::memcpy(dv, db->data(), 16);
  EXPECT_EQ(dv[0], 7);
  EXPECT_EQ(dv[1], -9);

  Result<Tensor> missing = f.tensor("nope");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("'nope'"), std::string::npos);
  EXPECT_EQ(f.bytes("nope").status().code(), StatusCode::kNotFound);
}

TEST(Safetensors, EmptyHeaderAndPadding) {
  std::vector<uint64_t> storage;
  Result<SafetensorsFile> r = parse(image("{}"), &storage);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->tensors().empty());
  EXPECT_TRUE(r->metadata().empty());

  r = parse(image("{" + kEntryA + "}     ", std::string(8, '\0')), &storage);  // trailing spaces
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->tensors().size(), 1u);
}

TEST(Safetensors, ListsEveryDtypeOfTheFormat) {
  const char* names[] = {"F64", "I64", "U64", "I32", "U32", "I16", "U16", "I8",
                         "U8",  "BOOL", "F8_E4M3", "F8_E5M2", "F8_E8M0", "C64"};
  for (const char* n : names) {
    const int bytes = safetensors_dtype_bits(n) / 8;
    ASSERT_GT(bytes, 0) << n;
    const std::string h = std::string(R"({"x":{"dtype":")") + n + R"(","shape":[3],"data_offsets":[0,)" +
                          std::to_string(3 * bytes) + "]}}";
    std::vector<uint64_t> storage;
    Result<SafetensorsFile> r = parse(image(h, std::string(size_t(3 * bytes), '\1')), &storage);
    ASSERT_TRUE(r.ok()) << n << ": " << r.status().to_string();
    EXPECT_EQ(r->tensor("x").status().code(), StatusCode::kUnsupported) << n;
  }
  // Sub-byte types must fill whole bytes.
  std::vector<uint64_t> storage;
  EXPECT_TRUE(parse(image(R"({"x":{"dtype":"F4","shape":[4],"data_offsets":[0,2]}})", "ab"), &storage).ok());
  expect_error(image(R"({"x":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}})", "ab"), StatusCode::kCorruption,
               {"'x'", "whole bytes"});
  EXPECT_EQ(safetensors_dtype_bits("F6_E2M3"), 6);
  EXPECT_EQ(safetensors_dtype_bits("f32"), 0);
}

TEST(Safetensors, MoreThanFourDimsIsListedNotViewed) {
  std::vector<uint64_t> storage;
  Result<SafetensorsFile> r =
      parse(image(R"({"x":{"dtype":"F32","shape":[1,1,1,1,2],"data_offsets":[0,8]}})", std::string(8, '\0')),
            &storage);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->find("x")->shape_string(), "[1, 1, 1, 1, 2]");
  Result<Tensor> t = r->tensor("x");
  EXPECT_EQ(t.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(t.status().message().find("5 dimensions"), std::string::npos) << t.status().message();
}

TEST(Safetensors, MisalignedDataIsRefusedAsTensorButReadableAsBytes) {
  // Header of 57 bytes: the data section starts at byte 65, not 4-aligned.
  std::string h = "{" + kEntryA + "}";
  h += std::string(57 - h.size(), ' ');
  std::vector<uint64_t> storage;
  Result<SafetensorsFile> r = parse(image(h, std::string(8, '\0')), &storage);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  Result<Tensor> t = r->tensor("a");
  EXPECT_EQ(t.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(t.status().message().find("not aligned"), std::string::npos) << t.status().message();
  EXPECT_TRUE(r->bytes("a").ok());
}

// ---------------------------------------------------------------- hostile files

TEST(SafetensorsHostile, ShorterThanEightBytes) {
  for (size_t n = 0; n < 8; ++n) {
    expect_error(std::string(n, '\0'), StatusCode::kCorruption, {"shorter than the 8-byte header size"});
  }
}

TEST(SafetensorsHostile, HeaderSize) {
  const std::string h = "{" + kEntryA + "}";
  expect_error(le64(h.size() + 9) + h + std::string(8, '\0'), StatusCode::kCorruption,
               {"header size", "larger than"});
  expect_error(le64(uint64_t(1) << 63) + h, StatusCode::kOutOfRange, {"header size 9223372036854775808", "limit"});
  expect_error(le64(100'000'001) + h, StatusCode::kOutOfRange, {"header size 100000001", "limit"});
  expect_error(le64(0) + h, StatusCode::kCorruption, {"does not start with '{'"});
  expect_error(image(" " + h, std::string(8, '\0')), StatusCode::kCorruption, {"does not start with '{'"});
  expect_error(image("[1, 2]"), StatusCode::kCorruption, {"does not start with '{'"});
}

TEST(SafetensorsHostile, NotJson) {
  expect_error(image(R"({"a":)"), StatusCode::kCorruption, {"header", "not valid JSON"});
  expect_error(image(R"({"a":1} x)"), StatusCode::kCorruption, {"header", "not valid JSON"});
  expect_error(image("{\"\xff\":1}"), StatusCode::kCorruption, {"header", "not valid JSON"});  // bad UTF-8
  expect_error(image(std::string("{\"a\":1}\0x", 9)), StatusCode::kCorruption, {"header", "NUL byte at offset 7"});
  std::string deep = R"({"a":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  expect_error(image(deep), StatusCode::kCorruption, {"header", "nested deeper"});
}

TEST(SafetensorsHostile, DuplicateKeys) {
  expect_error(image("{" + kEntryA + "," + kEntryA + "}", std::string(8, '\0')), StatusCode::kCorruption,
               {"header", "duplicate key 'a'"});
  expect_error(image(R"({"a":{"dtype":"F32","dtype":"F16","shape":[2],"data_offsets":[0,8]}})", std::string(8, '\0')),
               StatusCode::kCorruption, {"duplicate key 'dtype' in 'a'"});
  expect_error(image(R"({"__metadata__":{"k":"1","k":"2"}})"), StatusCode::kCorruption,
               {"duplicate key 'k' in '__metadata__'"});
}

TEST(SafetensorsHostile, Metadata) {
  expect_error(image(R"({"__metadata__":{"k":1}})"), StatusCode::kCorruption, {"__metadata__", "'k'", "not a string"});
  expect_error(image(R"({"__metadata__":{"k":{"x":"y"}}})"), StatusCode::kCorruption,
               {"__metadata__", "'k'", "not a string"});
  expect_error(image(R"({"__metadata__":["a"]})"), StatusCode::kCorruption, {"__metadata__", "not an object"});
}

TEST(SafetensorsHostile, EntryFields) {
  const std::string d8(8, '\0');
  expect_error(image(R"({"a":5})"), StatusCode::kCorruption, {"tensor 'a'", "entry is 5, not an object"});
  expect_error(image(R"({"a":[]})"), StatusCode::kCorruption, {"tensor 'a'", "not an object"});
  expect_error(image(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", d8), StatusCode::kCorruption,
               {"tensor 'a'", "missing field 'dtype'"});
  expect_error(image(R"({"a":{"dtype":32,"shape":[2],"data_offsets":[0,8]}})", d8), StatusCode::kCorruption,
               {"tensor 'a'", "dtype is 32, not a string"});
  expect_error(image(R"({"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", d8), StatusCode::kUnsupported,
               {"tensor 'a'", "unknown dtype \"Q4\""});
  expect_error(image(R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", d8), StatusCode::kCorruption,
               {"tensor 'a'", "missing field 'shape'"});
  expect_error(image(R"({"a":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})", d8), StatusCode::kCorruption,
               {"tensor 'a'", "shape is 2, not an array"});
  expect_error(image(R"({"a":{"dtype":"F32","shape":[2]}})", d8), StatusCode::kCorruption,
               {"tensor 'a'", "missing field 'data_offsets'"});
  expect_error(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", d8), StatusCode::kCorruption,
               {"tensor 'a'", "data_offsets is an array, not an array of 2 integers"});
  expect_error(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":"0-8"}})", d8), StatusCode::kCorruption,
               {"tensor 'a'", "data_offsets is \"0-8\""});
  expect_error(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8.0]}})", d8), StatusCode::kCorruption,
               {"tensor 'a'", "data_offsets[1] is 8.0, not an integer"});
  expect_error(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,8]}})", d8), StatusCode::kCorruption,
               {"tensor 'a'", "data_offsets[0] is -8, negative"});
}

TEST(SafetensorsHostile, ShapeDimensions) {
  const std::string d8(8, '\0');
  expect_error(image(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", d8), StatusCode::kCorruption,
               {"tensor 'a'", "shape dimension 0 is -2, negative"});
  expect_error(image(R"({"a":{"dtype":"F32","shape":[1,2.5],"data_offsets":[0,8]}})", d8), StatusCode::kCorruption,
               {"tensor 'a'", "shape dimension 1 is 2.5, not an integer"});
  expect_error(image(R"({"a":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}})", d8), StatusCode::kCorruption,
               {"tensor 'a'", "shape dimension 0 is \"2\", not a number"});
  expect_error(image(R"({"a":{"dtype":"F32","shape":[1e3],"data_offsets":[0,8]}})", d8), StatusCode::kCorruption,
               {"tensor 'a'", "not an integer"});
  expect_error(image(R"({"a":{"dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,8]}})", d8),
               StatusCode::kCorruption, {"tensor 'a'", "larger than 2^63-1"});
  expect_error(image(R"({"a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,8]}})", d8),
               StatusCode::kCorruption, {"tensor 'a'", "not an integer"});
  expect_error(image(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", d8),
               StatusCode::kCorruption, {"tensor 'a'", "overflows at dimension 1"});
  // A zero dimension makes no bytes, but the other dimensions must still fit.
  expect_error(image(R"({"a":{"dtype":"F32","shape":[0,4294967296,4294967296],"data_offsets":[0,0]}})"),
               StatusCode::kCorruption, {"tensor 'a'", "overflows at dimension 2"});
  std::vector<uint64_t> storage;
  EXPECT_TRUE(parse(image(R"({"a":{"dtype":"F32","shape":[0,4294967296],"data_offsets":[0,0]}})"), &storage).ok());
}

TEST(SafetensorsHostile, Offsets) {
  const std::string d8(8, '\0');
  expect_error(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", d8), StatusCode::kCorruption,
               {"tensor 'a'", "data_offsets [8, 0]: end is before begin"});
  expect_error(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})", d8), StatusCode::kCorruption,
               {"tensor 'a'", "data_offsets [0, 16]: end is beyond the data section of 8 bytes"});
  expect_error(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551615]}})", d8),
               StatusCode::kCorruption, {"tensor 'a'", "data_offsets[1]", "larger than 2^63-1"});
  expect_error(image(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", d8), StatusCode::kCorruption,
               {"tensor 'a'", "holds 8 bytes, but F32 [3] needs 12"});
  expect_error(image(R"({"a":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}})", d8), StatusCode::kCorruption,
               {"tensor 'a'", "holds 8 bytes, but F16 [2] needs 4"});
}

TEST(SafetensorsHostile, TensorsMustTileTheDataSection) {
  const std::string b = R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]})";
  expect_error(image("{" + kEntryA + "," + b + "}", std::string(12, '\0')), StatusCode::kCorruption,
               {"tensor 'b'", "overlap tensor 'a' [0, 8]"});
  const std::string c = R"("c":{"dtype":"F32","shape":[2],"data_offsets":[12,20]})";
  expect_error(image("{" + kEntryA + "," + c + "}", std::string(20, '\0')), StatusCode::kCorruption,
               {"tensor 'c'", "gap: bytes [8, 12)"});
  const std::string late = R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]})";
  expect_error(image("{" + late + "}", std::string(8, '\0')), StatusCode::kCorruption,
               {"tensor 'a'", "gap: bytes [0, 4)"});
  expect_error(image("{" + kEntryA + "}", std::string(9, '\0')), StatusCode::kCorruption,
               {"tensors end at data offset 8", "has 9 bytes"});
  expect_error(image("{}", "x"), StatusCode::kCorruption, {"tensors end at data offset 0", "has 1 bytes"});
  // Zero-byte tensors may sit anywhere the cursor is, but not inside another tensor.
  const std::string z0 = R"("z":{"dtype":"F32","shape":[0],"data_offsets":[8,8]})";
  std::vector<uint64_t> storage;
  EXPECT_TRUE(parse(image("{" + kEntryA + "," + z0 + "}", std::string(8, '\0')), &storage).ok());
  const std::string z4 = R"("z":{"dtype":"F32","shape":[0],"data_offsets":[4,4]})";
  expect_error(image("{" + kEntryA + "," + z4 + "}", std::string(8, '\0')), StatusCode::kCorruption,
               {"tensor 'z'", "overlap tensor 'a'"});
}

// Every strict prefix of a valid file is refused (the data must end exactly
// at the end of the file), with a message and without a crash.
TEST(SafetensorsHostile, EveryPrefixIsRefused) {
  const std::string bytes = read_file(kSeeds + "/single.safetensors");
  if (bytes.empty()) GTEST_SKIP() << "seed file missing: " << kSeeds;
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<uint64_t> storage;
    Result<SafetensorsFile> r = parse(bytes.substr(0, n), &storage);
    ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes accepted";
    EXPECT_FALSE(r.status().message().empty());
  }
}

// Flipped bytes either give an error or a file whose every view stays inside
// the image (ASan checks the reads).
TEST(SafetensorsHostile, ByteFlips) {
  const std::string bytes = read_file(kSeeds + "/single.safetensors");
  if (bytes.empty()) GTEST_SKIP() << "seed file missing: " << kSeeds;
  std::mt19937 rng(1234);
  const uint8_t masks[] = {0x01, 0x02, 0x08, 0x20, 0x80, 0xff};
  int accepted = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t m : masks) {
      for (int extra = 0; extra < 2; ++extra) {
        std::string b = bytes;
        b[i] = char(uint8_t(b[i]) ^ m);
        if (extra) b[rng() % b.size()] = char(rng());
        std::vector<uint64_t> storage;
        Result<SafetensorsFile> r = parse(b, &storage);
        if (!r.ok()) {
          EXPECT_FALSE(r.status().message().empty());
          continue;
        }
        ++accepted;
        const uint8_t* lo = reinterpret_cast<const uint8_t*>(storage.data());
        uint64_t sum = 0;
        for (const SafetensorsTensorInfo& t : r->tensors()) {
          Result<std::span<const uint8_t>> s = r->bytes(t.name);
          ASSERT_TRUE(s.ok());
          ASSERT_GE(s->data(), lo);
          ASSERT_LE(s->data() + s->size(), lo + b.size());
          for (uint8_t v : *s) sum += v;
          Result<Tensor> tv = r->tensor(t.name);
          if (tv.ok()) {
            EXPECT_EQ(tv->nbytes(), t.nbytes());
          }
        }
        EXPECT_GE(sum, 0u);
      }
    }
  }
  EXPECT_GT(accepted, 0);  // flips inside tensor data keep the file valid
}

// ---------------------------------------------------------------- sharded sets

class SafetensorsSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("aigc_st_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Shard 1: x F32 [2] = {1, 2}; shard 2: y F32 [1] = {3}, w F32 [1] = {4}.
  void write_shards() {
    const float x[2] = {1, 2}, yw[2] = {3, 4};
    write_file(dir_ / "s1.safetensors",
               padded_image(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                     std::string(reinterpret_cast<const char*>(x), 8)));
    write_file(dir_ / "s2.safetensors",
               padded_image(R"({"__metadata__":{"format":"pt"},"y":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                     R"("w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                     std::string(reinterpret_cast<const char*>(yw), 8)));
  }
  std::string write_index(const std::string& json) {
    const fs::path p = dir_ / "model.safetensors.index.json";
    write_file(p, json);
    return p.string();
  }
  void expect_set_error(const std::string& json, StatusCode code, std::initializer_list<const char*> parts) {
    const std::string path = write_index(json);
    Result<SafetensorsSet> r = SafetensorsSet::open(path);
    ASSERT_FALSE(r.ok()) << json;
    EXPECT_EQ(r.status().code(), code) << r.status().to_string();
    const std::string& m = r.status().message();
    EXPECT_EQ(m.rfind(path + ": ", 0), 0u) << m;
    for (const char* p : parts) EXPECT_NE(m.find(p), std::string::npos) << "'" << p << "' not in: " << m;
  }

  fs::path dir_;
};

TEST_F(SafetensorsSetTest, OpensShardsRelativeToTheIndex) {
  write_shards();
  const std::string path = write_index(
      R"({"metadata":{"total_size":16,"note":"hi"},)"
      R"("weight_map":{"x":"s1.safetensors","y":"s2.safetensors","w":"s2.safetensors"}})");
  Result<SafetensorsSet> r = SafetensorsSet::open(path);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const SafetensorsSet& set = *r;
  EXPECT_TRUE(set.is_sharded());
  EXPECT_EQ(set.shards().size(), 2u);
  ASSERT_EQ(set.metadata().size(), 2u);
  EXPECT_EQ(set.metadata()[0], (std::pair<std::string, std::string>("note", "hi")));
  EXPECT_EQ(set.metadata()[1], (std::pair<std::string, std::string>("total_size", "16")));
  ASSERT_EQ(set.tensors().size(), 3u);
  EXPECT_EQ(set.tensors()[0].info->name, "w");
  EXPECT_EQ(set.tensors()[2].info->name, "y");
  const float expect[][2] = {{1, 2}, {3, 0}, {4, 0}};
  const char* names[] = {"x", "y", "w"};
  for (int i = 0; i < 3; ++i) {
    Result<Tensor> t = set.tensor(names[i]);
    ASSERT_TRUE(t.ok()) << t.status().to_string();
    for (int64_t j = 0; j < t->numel(); ++j) EXPECT_EQ(t->ptr<float>()[j], expect[i][j]);
  }
  EXPECT_EQ(set.find("x")->shard, 0u);
  EXPECT_EQ(set.find("w")->shard, 1u);
  EXPECT_EQ(set.find("v"), nullptr);
  EXPECT_EQ(set.tensor("v").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(set.bytes("y").ok());

  // The summary names the shards, the metadata and every tensor.
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* out = open_memstream(&buf, &len);
  safetensors_print_summary(set, out);
  std::fclose(out);
  const std::string text(buf, len);
  std::free(buf);
  for (const char* p : {"s1.safetensors", "s2.safetensors", "total_size = 16", "tensors: 3", "[2]", "F32"}) {
    EXPECT_NE(text.find(p), std::string::npos) << "'" << p << "' not in:\n" << text;
  }
}

TEST_F(SafetensorsSetTest, OpensASingleFile) {
  write_shards();
  Result<SafetensorsSet> r = SafetensorsSet::open((dir_ / "s2.safetensors").string());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_FALSE(r->is_sharded());
  EXPECT_EQ(r->tensors().size(), 2u);
  ASSERT_EQ(r->metadata().size(), 1u);
  EXPECT_EQ(r->metadata()[0].second, "pt");
  Result<Tensor> w = r->tensor("w");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(*w->ptr<float>(), 4.0f);

  char* buf = nullptr;
  size_t len = 0;
  std::FILE* out = open_memstream(&buf, &len);
  safetensors_print_summary(*r, out);
  std::fclose(out);
  const std::string text(buf, len);
  std::free(buf);
  for (const char* p : {"format = pt", "tensors: 2", "total: 8 bytes"}) {
    EXPECT_NE(text.find(p), std::string::npos) << "'" << p << "' not in:\n" << text;
  }
}

TEST_F(SafetensorsSetTest, ReadsTheSetWrittenByPyTorch) {
  Result<SafetensorsSet> r = SafetensorsSet::open(kSeeds + "/model.safetensors.index.json");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->tensors().size(), 3u);
  Result<Tensor> w1 = r->tensor("w1");
  ASSERT_TRUE(w1.ok());
  for (int i = 0; i < 4; ++i) EXPECT_EQ(w1->ptr<float>()[i], float(i));
  Result<Tensor> w2 = r->tensor("w2");
  ASSERT_TRUE(w2.ok());
  EXPECT_EQ(w2->shape_string(), "[2, 2]");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(fp16_to_fp32(w2->ptr<uint16_t>()[i]), float(i + 10));
  Result<Tensor> w3 = r->tensor("w3");
  ASSERT_TRUE(w3.ok());
  EXPECT_EQ(bf16_to_fp32(*w3->ptr<uint16_t>()), -1.0f);
}

TEST_F(SafetensorsSetTest, IndexAndShardsMustAgree) {
  write_shards();
  expect_set_error(R"({"weight_map":{"x":"s1.safetensors","y":"s1.safetensors","w":"s2.safetensors"}})",
                   StatusCode::kCorruption, {"tensor 'y' is not in shard 's1.safetensors'"});
  expect_set_error(R"({"weight_map":{"x":"s1.safetensors","y":"s2.safetensors"}})", StatusCode::kCorruption,
                   {"shard 's2.safetensors' holds tensor 'w', which the weight_map does not list"});
  expect_set_error(R"({"weight_map":{"x":"s1.safetensors","y":"s2.safetensors","w":"s3.safetensors"}})",
                   StatusCode::kIOError, {"shard 's3.safetensors'", "cannot open"});
  write_file(dir_ / "bad.safetensors", image("{}", "x"));
  expect_set_error(R"({"weight_map":{"x":"bad.safetensors"}})", StatusCode::kCorruption,
                   {"shard 'bad.safetensors'", "bad.safetensors: the tensors end at data offset 0"});
  // The same tensor in two shards, the weight_map naming one of them.
  write_file(dir_ / "s3.safetensors",
             padded_image(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", "abcd"));
  expect_set_error(R"({"weight_map":{"x":"s1.safetensors","y":"s3.safetensors"}})", StatusCode::kCorruption,
                   {"tensor 'y' is not in shard 's3.safetensors'"});
  write_file(dir_ / "s4.safetensors",
             padded_image(R"({"v":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                   R"("x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                   "abcdefgh"));
  expect_set_error(R"({"weight_map":{"x":"s1.safetensors","v":"s4.safetensors"}})", StatusCode::kCorruption,
                   {"shard 's4.safetensors' holds tensor 'x', which the weight_map puts in shard 's1.safetensors'"});
}

TEST_F(SafetensorsSetTest, ShardNamesStayInTheFolder) {
  write_shards();
  expect_set_error(R"({"weight_map":{"x":"../s1.safetensors"}})", StatusCode::kCorruption,
                   {"weight_map: tensor 'x'", "leaves the index's folder"});
  expect_set_error(R"({"weight_map":{"x":"sub/../../s1.safetensors"}})", StatusCode::kCorruption,
                   {"leaves the index's folder"});
  expect_set_error(R"({"weight_map":{"x":"sub/.."}})", StatusCode::kCorruption, {"leaves the index's folder"});
  expect_set_error(R"({"weight_map":{"x":"/etc/passwd"}})", StatusCode::kCorruption, {"is absolute"});
  expect_set_error(R"({"weight_map":{"x":""}})", StatusCode::kCorruption, {"shard file name is empty"});
  expect_set_error(R"({"weight_map":{"x":"s1.safetensors\u0000x"}})", StatusCode::kCorruption, {"NUL byte"});
  // A ".." inside a name is not a parent-folder component.
  write_file(dir_ / "a..b.safetensors",
             padded_image(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", "abcd"));
  Result<SafetensorsSet> r = SafetensorsSet::open(write_index(R"({"weight_map":{"x":"a..b.safetensors"}})"));
  EXPECT_TRUE(r.ok()) << r.status().to_string();
}

TEST_F(SafetensorsSetTest, HostileIndex) {
  expect_set_error("", StatusCode::kCorruption, {"not valid JSON"});
  expect_set_error(R"({"weight_map":)", StatusCode::kCorruption, {"not valid JSON"});
  expect_set_error(R"([1])", StatusCode::kCorruption, {"index is an array, not an object"});
  expect_set_error(R"({"metadata":{}})", StatusCode::kCorruption, {"missing field 'weight_map'"});
  expect_set_error(R"({"weight_map":[]})", StatusCode::kCorruption, {"weight_map is an array, not an object"});
  expect_set_error(R"({"metadata":3,"weight_map":{}})", StatusCode::kCorruption, {"metadata is 3, not an object"});
  expect_set_error(R"({"weight_map":{"x":1}})", StatusCode::kCorruption, {"tensor 'x'", "shard is 1, not a string"});
  expect_set_error(R"({"weight_map":{"x":"a.safetensors","x":"b.safetensors"}})", StatusCode::kCorruption,
                   {"duplicate key 'x' in 'weight_map'"});
  Result<SafetensorsSet> empty = SafetensorsSet::open(write_index(R"({"weight_map":{}})"));
  ASSERT_TRUE(empty.ok()) << empty.status().to_string();
  EXPECT_TRUE(empty->tensors().empty());
  EXPECT_EQ(SafetensorsSet::open((dir_ / "none.json").string()).status().code(), StatusCode::kIOError);
}

TEST(SafetensorsPrint, EscapesAndCutsMetadata) {
  const std::string long_value(300, 'v');
  const std::string h = R"({"__metadata__":{"k":"line1\nline2\u0001","long":")" + long_value + R"("}})";
  std::vector<uint64_t> storage;
  Result<SafetensorsFile> r = parse(image(h), &storage);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* out = open_memstream(&buf, &len);
  safetensors_print_summary(*r, out);
  std::fclose(out);
  const std::string text(buf, len);
  std::free(buf);
  EXPECT_NE(text.find("k = line1\\nline2\\x01"), std::string::npos) << text;
  EXPECT_NE(text.find("... (300 bytes)"), std::string::npos) << text;
  EXPECT_NE(text.find("tensors: 0"), std::string::npos) << text;
}

}  // namespace
}  // namespace aigc
