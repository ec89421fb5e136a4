// Tests of the GGUF reader and writer: handcrafted hostile files (one per
// check), truncation at every byte, random byte flips, writer round trips,
// typed accessors, the summary printer, the fuzz seeds and the shared vocab files.
#include "formats/gguf.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <random>

#include "core/test_temp_path.h"
#include "formats/gguf_print.h"

namespace aigc {
namespace {

const std::string kSeeds = std::string(AIGC_SOURCE_DIR) + "/fuzz/seeds/gguf";
constexpr uint64_t kBig = uint64_t(1) << 63;

// Builds GGUF bytes by hand, little-endian.
class Bytes {
 public:
  template <class T>
  Bytes& put(T v) {
    const size_t n = b_.size();
    b_.resize(n + sizeof(T));
    std::memcpy(b_.data() + n, &v, sizeof(T));
    return *this;
  }
  Bytes& u8(uint8_t v) { return put(v); }
  Bytes& u32(uint32_t v) { return put(v); }
  Bytes& u64(uint64_t v) { return put(v); }
  Bytes& str(std::string_view s) {
    return u64(s.size()).str_raw(s);
  }
  Bytes& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return str_raw("GGUF").u32(version).u64(n_tensors).u64(n_kv);
  }
  Bytes& str_raw(std::string_view s) {
    for (char c : s) b_.push_back(uint8_t(c));
    return *this;
  }
  Bytes& kv_u32(std::string_view key, uint32_t v) { return str(key).u32(uint32_t(GgufType::kUint32)).u32(v); }
  // A tensor info; `ne` innermost first, as stored.
  Bytes& tensor(std::string_view name, std::initializer_list<uint64_t> ne, DType type, uint64_t offset) {
    str(name).u32(uint32_t(ne.size()));
    for (uint64_t n : ne) u64(n);
    return u32(uint32_t(type)).u64(offset);
  }
  Bytes& pad(size_t a) {
    b_.resize((b_.size() + a - 1) / a * a, 0);
    return *this;
  }
  Bytes& zeros(size_t n) {
    b_.resize(b_.size() + n, 0);
    return *this;
  }
  const std::vector<uint8_t>& bytes() const { return b_; }

 private:
  std::vector<uint8_t> b_;
};

Result<GgufFile> parse(const std::vector<uint8_t>& b) { return GgufFile::parse(b.data(), b.size(), "hand.gguf"); }

// Expects failure with `code` and a message naming the file and every part.
void expect_error(const Bytes& b, StatusCode code, std::initializer_list<std::string_view> parts) {
  Result<GgufFile> r = parse(b.bytes());
  ASSERT_FALSE(r.ok()) << "parsed a bad file";
  EXPECT_EQ(r.status().code(), code) << r.status().to_string();
  const std::string& m = r.status().message();
  EXPECT_EQ(m.rfind("hand.gguf: ", 0), 0u) << m;
  for (std::string_view p : parts) EXPECT_NE(m.find(p), std::string::npos) << "'" << p << "' not in: " << m;
}

std::string temp_path(const std::string& name) {
  return test_temp_path("gguf_test_" + name);
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

GgufValue scalar_u(GgufType t, uint64_t u) {
  GgufValue v;
  v.type = t;
  v.u = u;
  return v;
}
GgufValue scalar_i(GgufType t, int64_t i) {
  GgufValue v;
  v.type = t;
  v.i = i;
  return v;
}
GgufValue scalar_f(GgufType t, double f) {
  GgufValue v;
  v.type = t;
  v.f = f;
  return v;
}
GgufValue string_value(std::string_view s) {
  GgufValue v;
  v.type = GgufType::kString;
  v.str = s;
  return v;
}
GgufValue array_value(GgufType elem, std::vector<GgufValue> elems) {
  GgufValue v;
  v.type = GgufType::kArray;
  v.elem_type = elem;
  v.array = std::move(elems);
  return v;
}

// A writer holding every metadata type and tensors of several dtypes; the
// last tensor ends exactly at the end of the file.
GgufWriter full_writer(uint64_t alignment) {
  GgufWriter w;
  w.set_alignment(alignment);
  w.add_string("general.architecture", "llama");
  w.add_string("general.name", std::string("with \0 nul and \xe2\x9c\x93", 18));
  w.add_uint32("llama.block_count", 2);
  w.add_int32("test.int32", -7);
  w.add_uint64("test.uint64", uint64_t(1) << 40);
  w.add_float32("test.float32", 0.5f);
  w.add_bool("test.bool", true);
  w.add_value("test.uint8", scalar_u(GgufType::kUint8, 200));
  w.add_value("test.int8", scalar_i(GgufType::kInt8, -100));
  w.add_value("test.uint16", scalar_u(GgufType::kUint16, 60000));
  w.add_value("test.int16", scalar_i(GgufType::kInt16, -30000));
  w.add_value("test.int64", scalar_i(GgufType::kInt64, -(int64_t(1) << 50)));
  w.add_value("test.float64", scalar_f(GgufType::kFloat64, 1e-300));
  w.add_string_array("tokenizer.ggml.tokens", {"<s>", "</s>", "", "hello", "\xc4\xa0world"});
  w.add_float_array("tokenizer.ggml.scores", {0.f, -1.5f, 2.25f, 1e30f, -0.f});
  w.add_int32_array("tokenizer.ggml.token_type", {1, 3, 3, 1, -1});
  w.add_value("test.bool_array", array_value(GgufType::kBool, {scalar_i(GgufType::kBool, 1),
                                                               scalar_i(GgufType::kBool, 0)}));
  w.add_value("test.u64_array", array_value(GgufType::kUint64, {scalar_u(GgufType::kUint64, ~uint64_t(0))}));
  w.add_value("test.empty_array", array_value(GgufType::kString, {}));
  w.add_value("test.nested",
              array_value(GgufType::kArray,
                          {array_value(GgufType::kInt16, {scalar_i(GgufType::kInt16, 1), scalar_i(GgufType::kInt16, 2)}),
                           array_value(GgufType::kString, {string_value("x"), string_value("yz")}),
                           array_value(GgufType::kArray, {array_value(GgufType::kFloat64, {})})}));

  std::mt19937 rng(7);
  auto random_bytes = [&](size_t n) {
    std::vector<uint8_t> b(n);
    for (uint8_t& x : b) x = uint8_t(rng());
    return b;
  };
  // F32 3x5, Q4_0 2x64 (2 rows of 2 blocks of 18 bytes), F16 7, I32 2x1x2x2.
  const std::vector<uint8_t> a = random_bytes(60), b = random_bytes(72), c = random_bytes(14), d = random_bytes(32);
  EXPECT_TRUE(w.add_tensor("blk.0.attn_q.weight", DType::F32, {3, 5}, a.data(), a.size()).ok());
  EXPECT_TRUE(w.add_tensor("blk.0.ffn_up.weight", DType::Q4_0, {2, 64}, b.data(), b.size()).ok());
  EXPECT_TRUE(w.add_tensor("output_norm.weight", DType::F16, {7}, c.data(), c.size()).ok());
  EXPECT_TRUE(w.add_tensor("ids", DType::I32, {2, 1, 2, 2}, d.data(), d.size()).ok());
  return w;
}

// ------------------------------------------------------------ header

TEST(GgufHeader, MinimalFilesParse) {
  for (uint32_t version : {2u, 3u}) {
    Result<GgufFile> r = parse(Bytes().header(0, 0, version).bytes());
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(r->version(), version);
    EXPECT_EQ(r->alignment(), 32u);
    EXPECT_TRUE(r->metadata().empty());
    EXPECT_TRUE(r->tensors().empty());
  }
}

TEST(GgufHeader, ShortFileAndWrongMagic) {
  expect_error(Bytes().str_raw("GGU"), StatusCode::kCorruption, {"3 bytes", "magic"});
  expect_error(Bytes().str_raw("GGML").u32(3).u64(0).u64(0), StatusCode::kCorruption, {"magic", "'GGML'"});
  expect_error(Bytes(), StatusCode::kCorruption, {"0 bytes"});
}

TEST(GgufHeader, UnsupportedVersions) {
  expect_error(Bytes().header(0, 0, 1), StatusCode::kUnsupported, {"version 1", "only 2 and 3"});
  expect_error(Bytes().header(0, 0, 4), StatusCode::kUnsupported, {"version 4"});
  expect_error(Bytes().header(0, 0, 0x03000000), StatusCode::kUnsupported, {"big-endian"});
}

TEST(GgufHeader, CountsThatCannotFit) {
  expect_error(Bytes().header(kBig, 0), StatusCode::kCorruption, {"tensor_count", "9223372036854775808"});
  expect_error(Bytes().header(~uint64_t(0), 0), StatusCode::kCorruption, {"tensor_count"});
  expect_error(Bytes().header(0, kBig), StatusCode::kCorruption, {"metadata_kv_count"});
  expect_error(Bytes().header(0, 1), StatusCode::kCorruption, {"metadata_kv_count", "count 1"});
  // One tensor info fits the bytes, but not next to the stated metadata entries.
  expect_error(Bytes().header(1, 2).zeros(40), StatusCode::kCorruption, {"tensor_count"});
}

// ------------------------------------------------------------ metadata

TEST(GgufMetadata, StringLengthBeyondFile) {
  expect_error(Bytes().header(0, 1).u64(1000).str_raw("abcdefghijklm"), StatusCode::kCorruption,
               {"metadata entry 0 key", "1000", "beyond the end"});
  expect_error(Bytes().header(0, 1).str("k").u32(uint32_t(GgufType::kString)).u64(~uint64_t(0)).zeros(4),
               StatusCode::kCorruption, {"metadata 'k'", "beyond the end"});
}

TEST(GgufMetadata, EmptyAndDuplicateKeys) {
  expect_error(Bytes().header(0, 1).str("").u32(4).u32(1), StatusCode::kCorruption, {"key", "empty"});
  expect_error(Bytes().header(0, 2).kv_u32("a.b", 1).kv_u32("a.b", 2), StatusCode::kCorruption,
               {"metadata 'a.b'", "duplicate key"});
  // Long or binary keys are cut and made printable in messages.
  const std::string key = std::string(5000, 'k') + "\n\x01";
  Bytes b;
  b.header(0, 2).kv_u32(key, 1).kv_u32(key, 2);
  Result<GgufFile> r = parse(b.bytes());
  ASSERT_FALSE(r.ok());
  EXPECT_LT(r.status().message().size(), 300u) << r.status().message();
  EXPECT_NE(r.status().message().find("kkk...': duplicate key"), std::string::npos) << r.status().message();
}

TEST(GgufMetadata, UnknownTypes) {
  expect_error(Bytes().header(0, 1).str("k").u32(13).u64(0), StatusCode::kCorruption,
               {"metadata 'k'", "unknown value type 13"});
  expect_error(Bytes().header(0, 1).str("k").u32(9).u32(77).u64(0), StatusCode::kCorruption,
               {"metadata 'k'", "unknown array element type 77"});
}

TEST(GgufMetadata, BadBool) {
  expect_error(Bytes().header(0, 1).str("k").u32(7).u8(2).zeros(8), StatusCode::kCorruption, {"'k'", "bool value is 2"});
  expect_error(Bytes().header(0, 1).str("k").u32(9).u32(7).u64(2).u8(1).u8(5), StatusCode::kCorruption,
               {"'k' element 1", "bool value is 5"});
}

TEST(GgufMetadata, ArrayCountsThatCannotFit) {
  for (uint32_t elem : {0u, 4u, 10u, 8u, 9u}) {
    SCOPED_TRACE(elem);
    expect_error(Bytes().header(0, 1).str("k").u32(9).u32(elem).u64(kBig).zeros(64), StatusCode::kCorruption,
                 {"metadata 'k' array", "9223372036854775808", "cannot fit"});
  }
  // A string element whose length runs past the end.
  expect_error(Bytes().header(0, 1).str("k").u32(9).u32(8).u64(2).str("ab").u64(100).zeros(8),
               StatusCode::kCorruption, {"metadata 'k' element 1", "beyond the end"});
}

// `depth` arrays, each holding the next; the innermost holds one uint8.
Bytes nested_arrays(int depth) {
  Bytes b;
  b.header(0, 1).str("deep").u32(uint32_t(GgufType::kArray));
  for (int d = 1; d < depth; ++d) b.u32(uint32_t(GgufType::kArray)).u64(1);
  b.u32(uint32_t(GgufType::kUint8)).u64(1).u8(42);
  return b;
}

TEST(GgufMetadata, NestingDepthLimit) {
  const Bytes deepest = nested_arrays(kGgufMaxArrayDepth);  // the file's views point into it
  Result<GgufFile> ok = parse(deepest.bytes());
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  const GgufValue* v = ok->find("deep");
  for (int d = 1; d < kGgufMaxArrayDepth; ++d) {
    ASSERT_EQ(v->type, GgufType::kArray);
    ASSERT_EQ(v->size(), 1u);
    v = &v->array[0];
  }
  ASSERT_EQ(v->size(), 1u);
  EXPECT_EQ(v->at(0).u, 42u);
  expect_error(nested_arrays(kGgufMaxArrayDepth + 1), StatusCode::kCorruption, {"'deep'", "nested deeper"});
  expect_error(nested_arrays(100000), StatusCode::kCorruption, {"nested deeper"});
}

TEST(GgufMetadata, Alignment) {
  auto with_alignment = [](uint32_t a) {
    Bytes b;
    b.header(1, 1).kv_u32("general.alignment", a).tensor("t", {4}, DType::F32, 0).pad(a ? a : 1).zeros(16);
    return b;
  };
  Result<GgufFile> ok = parse(with_alignment(64).bytes());
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(ok->alignment(), 64u);
  EXPECT_EQ(ok->data_offset() % 64, 0u);
  expect_error(with_alignment(0), StatusCode::kCorruption, {"general.alignment", "alignment 0"});
  expect_error(with_alignment(48), StatusCode::kCorruption, {"general.alignment", "48", "power of two"});
  expect_error(Bytes().header(0, 1).str("general.alignment").u32(uint32_t(GgufType::kUint64)).u64(32),
               StatusCode::kCorruption, {"general.alignment", "is uint64, expected uint32"});
}

// ------------------------------------------------------------ tensor infos

// A file with one tensor info and `data_bytes` bytes of data after the padding.
Bytes one_tensor(std::initializer_list<uint64_t> ne, DType type, uint64_t offset, size_t data_bytes) {
  Bytes b;
  b.header(1, 0).tensor("w", ne, type, offset).pad(32).zeros(data_bytes);
  return b;
}

TEST(GgufTensors, ValidTensorViewsTheData) {
  Bytes b;
  b.header(2, 0).tensor("a", {4, 3}, DType::F32, 0).tensor("b", {32}, DType::Q8_0, 64).pad(32);
  const size_t data_start = b.bytes().size();
  b.zeros(64 + 34);
  Result<GgufFile> r = parse(b.bytes());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const GgufTensorInfo* a = r->find_tensor("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->tensor.n_dims, 2);
  EXPECT_EQ(a->tensor.shape[0], 3);  // outermost first: ne reversed
  EXPECT_EQ(a->tensor.shape[1], 4);
  EXPECT_EQ(a->nbytes, 48u);
  EXPECT_EQ(static_cast<const uint8_t*>(a->tensor.data), b.bytes().data() + data_start);
  const GgufTensorInfo* q = r->find_tensor("b");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->nbytes, 34u);
  EXPECT_EQ(static_cast<const uint8_t*>(q->tensor.data), b.bytes().data() + data_start + 64);
  EXPECT_EQ(r->find_tensor("c"), nullptr);
}

TEST(GgufTensors, DimsOutOfRange) {
  expect_error(one_tensor({}, DType::F32, 0, 32), StatusCode::kCorruption, {"tensor 'w'", "n_dims 0"});
  expect_error(one_tensor({1, 1, 1, 1, 1}, DType::F32, 0, 32), StatusCode::kCorruption, {"tensor 'w'", "n_dims 5"});
  expect_error(one_tensor({4, 0}, DType::F32, 0, 32), StatusCode::kCorruption, {"ne[1] = 0", "not positive"});
  expect_error(one_tensor({~uint64_t(0)}, DType::F32, 0, 32), StatusCode::kCorruption, {"ne[0] = -1"});
  expect_error(one_tensor({uint64_t(1) << 32, uint64_t(1) << 32}, DType::F32, 0, 32), StatusCode::kCorruption,
               {"tensor 'w'", "overflows int64"});
}

TEST(GgufTensors, ByteSizeOverflowsOrRunsPastTheEnd) {
  expect_error(one_tensor({uint64_t(1) << 62}, DType::F32, 0, 32), StatusCode::kCorruption,
               {"tensor 'w'", "byte size overflows"});
  expect_error(one_tensor({uint64_t(1) << 31, uint64_t(1) << 31}, DType::F32, 0, 32), StatusCode::kCorruption,
               {"tensor 'w'", "byte size overflows"});
  expect_error(one_tensor({16}, DType::F32, 0, 63), StatusCode::kCorruption,
               {"tensor 'w'", "64 bytes runs past the end"});
  expect_error(one_tensor({uint64_t(1) << 40}, DType::F32, 0, 64), StatusCode::kCorruption, {"runs past the end"});
}

TEST(GgufTensors, BlockSizeAndUnknownTypes) {
  expect_error(one_tensor({33}, DType::Q4_0, 0, 64), StatusCode::kCorruption,
               {"tensor 'w'", "ne[0] = 33", "Q4_0", "block size 32"});
  expect_error(one_tensor({255, 2}, DType::Q4_K, 0, 1024), StatusCode::kCorruption, {"block size 256"});
  for (uint32_t id : {4u, 5u, 16u, 23u, 29u, 31u, 1000u, 0xffffffffu}) {
    SCOPED_TRACE(id);
    expect_error(one_tensor({32}, DType(id), 0, 256), StatusCode::kUnsupported,
                 {"tensor 'w'", "tensor type " + std::to_string(id)});
  }
}

TEST(GgufTensors, OffsetsMisalignedOutsideOrOverlapping) {
  expect_error(one_tensor({4}, DType::F32, 8, 64), StatusCode::kCorruption,
               {"tensor 'w'", "offset 8", "multiple of the alignment 32"});
  expect_error(one_tensor({4}, DType::F32, 1024, 64), StatusCode::kCorruption, {"offset 1024", "past the end"});
  expect_error(one_tensor({4}, DType::F32, uint64_t(1) << 63, 64), StatusCode::kCorruption, {"past the end"});
  Bytes overlap;
  overlap.header(2, 0).tensor("a", {16}, DType::F32, 0).tensor("b", {16}, DType::F32, 32).pad(32).zeros(96);
  expect_error(overlap, StatusCode::kCorruption, {"tensor 'b'", "overlaps tensor 'a'"});
  Bytes same;
  same.header(2, 0).tensor("a", {4}, DType::F32, 0).tensor("b", {4}, DType::F32, 0).pad(32).zeros(32);
  expect_error(same, StatusCode::kCorruption, {"overlaps"});
  // The data section starts at the padding; a file that ends inside it has no room for data.
  Bytes no_data;
  no_data.header(1, 0).tensor("w", {1}, DType::F32, 0);
  expect_error(no_data, StatusCode::kCorruption, {"tensor 'w'", "past the end"});
}

TEST(GgufTensors, DuplicateNames) {
  Bytes b;
  b.header(2, 0).tensor("w", {4}, DType::F32, 0).tensor("w", {4}, DType::F32, 32).pad(32).zeros(64);
  expect_error(b, StatusCode::kCorruption, {"tensor 'w'", "duplicate tensor name"});
}

// ------------------------------------------------------------ writer round trip

void expect_same_value(const GgufValue& a, const GgufValue& b, const std::string& where) {
  ASSERT_EQ(a.type, b.type) << where;
  switch (a.type) {
    case GgufType::kString: EXPECT_EQ(a.str, b.str) << where; break;
    case GgufType::kFloat32: case GgufType::kFloat64:
      EXPECT_EQ(std::memcmp(&a.f, &b.f, sizeof(double)), 0) << where << ": " << a.f << " vs " << b.f;
      break;
    case GgufType::kArray:
      ASSERT_EQ(a.elem_type, b.elem_type) << where;
      ASSERT_EQ(a.size(), b.size()) << where;
      for (uint64_t j = 0; j < a.size(); ++j) expect_same_value(a.at(j), b.at(j), where + "[" + std::to_string(j) + "]");
      break;
    default:
      EXPECT_EQ(a.i, b.i) << where;
      EXPECT_EQ(a.u, b.u) << where;
  }
}

class GgufRoundTrip : public ::testing::TestWithParam<uint64_t> {};

TEST_P(GgufRoundTrip, EveryValueAndTensorByte) {
  const uint64_t alignment = GetParam();
  const std::string path = temp_path("roundtrip_" + std::to_string(alignment) + ".gguf");
  GgufWriter w = full_writer(alignment);
  ASSERT_TRUE(w.write(path).ok());

  Result<GgufFile> r = GgufFile::open(path);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->version(), 3u);
  EXPECT_EQ(r->alignment(), alignment);
  EXPECT_EQ(r->find("general.alignment") != nullptr, alignment != 32);

  // Write the file read back through a second writer: the bytes must be identical.
  GgufWriter copy;
  copy.set_alignment(alignment);
  for (const auto& [key, value] : r->metadata()) copy.add_value(key, value);
  for (const GgufTensorInfo& t : r->tensors()) {
    std::vector<int64_t> shape(t.tensor.shape, t.tensor.shape + t.tensor.n_dims);
    ASSERT_TRUE(copy.add_tensor(t.name, t.tensor.dtype, shape, t.tensor.data, t.nbytes).ok());
  }
  const std::string path2 = temp_path("roundtrip_copy_" + std::to_string(alignment) + ".gguf");
  ASSERT_TRUE(copy.write(path2).ok());
  EXPECT_EQ(read_file(path), read_file(path2));
  Result<GgufFile> r2 = GgufFile::open(path2);
  ASSERT_TRUE(r2.ok()) << r2.status().to_string();
  ASSERT_EQ(r->metadata().size(), r2->metadata().size());
  for (size_t k = 0; k < r->metadata().size(); ++k) {
    EXPECT_EQ(r->metadata()[k].first, r2->metadata()[k].first);
    expect_same_value(r->metadata()[k].second, r2->metadata()[k].second, r->metadata()[k].first);
  }

  // Values as given to full_writer().
  EXPECT_EQ(*r->get_string("general.architecture"), "llama");
  EXPECT_EQ(*r->get_string("general.name"), std::string("with \0 nul and \xe2\x9c\x93", 18));
  EXPECT_EQ(*r->get_uint("llama.block_count"), 2u);
  EXPECT_EQ(*r->get_int("test.int32"), -7);
  EXPECT_EQ(*r->get_uint("test.uint64"), uint64_t(1) << 40);
  EXPECT_EQ(*r->get_float("test.float32"), 0.5);
  EXPECT_TRUE(*r->get_bool("test.bool"));
  EXPECT_EQ(*r->get_uint("test.uint8"), 200u);
  EXPECT_EQ(*r->get_int("test.int8"), -100);
  EXPECT_EQ(*r->get_uint("test.uint16"), 60000u);
  EXPECT_EQ(*r->get_int("test.int16"), -30000);
  EXPECT_EQ(*r->get_int("test.int64"), -(int64_t(1) << 50));
  EXPECT_EQ(*r->get_float("test.float64"), 1e-300);
  EXPECT_EQ(*r->get_string_array("tokenizer.ggml.tokens"),
            (std::vector<std::string>{"<s>", "</s>", "", "hello", "\xc4\xa0world"}));
  const std::vector<float> scores = *r->get_float_array("tokenizer.ggml.scores");
  const std::vector<float> want = {0.f, -1.5f, 2.25f, 1e30f, -0.f};
  ASSERT_EQ(scores.size(), want.size());
  EXPECT_EQ(std::memcmp(scores.data(), want.data(), want.size() * sizeof(float)), 0);
  EXPECT_EQ(*r->get_int_array("tokenizer.ggml.token_type"), (std::vector<int64_t>{1, 3, 3, 1, -1}));
  EXPECT_EQ(r->find("test.bool_array")->at(0).i, 1);
  EXPECT_EQ(r->find("test.bool_array")->at(1).i, 0);
  EXPECT_EQ(r->find("test.u64_array")->at(0).u, ~uint64_t(0));
  EXPECT_EQ(r->find("test.empty_array")->size(), 0u);
  const GgufValue* nested = r->find("test.nested");
  ASSERT_NE(nested, nullptr);
  ASSERT_EQ(nested->size(), 3u);
  EXPECT_EQ(nested->at(0).at(1).i, 2);
  EXPECT_EQ(nested->at(1).at(1).str, "yz");
  EXPECT_EQ(nested->at(2).at(0).elem_type, GgufType::kFloat64);
  EXPECT_EQ(nested->at(2).at(0).size(), 0u);

  // Tensors: order, shapes, alignment, and the bytes full_writer() drew from the same generator.
  std::mt19937 rng(7);
  const std::vector<std::string> names = {"blk.0.attn_q.weight", "blk.0.ffn_up.weight", "output_norm.weight", "ids"};
  const std::vector<size_t> sizes = {60, 72, 14, 32};
  ASSERT_EQ(r->tensors().size(), names.size());
  const uint8_t* base = static_cast<const uint8_t*>(r->tensors()[0].tensor.data) - r->tensors()[0].offset;
  for (size_t t = 0; t < names.size(); ++t) {
    const GgufTensorInfo& info = r->tensors()[t];
    EXPECT_EQ(info.name, names[t]);
    EXPECT_EQ(info.nbytes, sizes[t]);
    EXPECT_EQ(info.offset % alignment, 0u);
    EXPECT_EQ((static_cast<const uint8_t*>(info.tensor.data) - base) % alignment, 0u);
    EXPECT_TRUE(info.tensor.is_contiguous());
    std::vector<uint8_t> expect(sizes[t]);
    for (uint8_t& x : expect) x = uint8_t(rng());
    EXPECT_EQ(std::memcmp(info.tensor.data, expect.data(), expect.size()), 0) << info.name;
  }
  EXPECT_EQ(r->find_tensor("blk.0.ffn_up.weight")->tensor.shape_string(), "[2, 64]");
  EXPECT_EQ(r->find_tensor("ids")->tensor.shape_string(), "[2, 1, 2, 2]");
  std::filesystem::remove(path);
  std::filesystem::remove(path2);
}

INSTANTIATE_TEST_SUITE_P(Alignments, GgufRoundTrip, ::testing::Values(32, 1, 8, 64, 4096));

TEST(GgufWriter, RejectsBadTensors) {
  GgufWriter w;
  float x[8] = {};
  EXPECT_TRUE(w.add_tensor("a", DType::F32, {2, 4}, x, sizeof(x)).ok());
  EXPECT_EQ(w.add_tensor("a", DType::F32, {8}, x, sizeof(x)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.add_tensor("", DType::F32, {8}, x, sizeof(x)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.add_tensor("b", DType::F32, {}, x, sizeof(x)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.add_tensor("b", DType::F32, {1, 1, 1, 1, 8}, x, sizeof(x)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.add_tensor("b", DType::F32, {0, 8}, x, 0).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.add_tensor("b", DType::Q4_0, {8}, x, sizeof(x)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.add_tensor("b", DType(4), {8}, x, sizeof(x)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.add_tensor("b", DType::F32, {int64_t(1) << 32, int64_t(1) << 32}, x, sizeof(x)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(w.add_tensor("b", DType::I8, {5}, std::vector<uint8_t>(4)).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(w.add_tensor("moved", DType::I8, {5}, std::vector<uint8_t>{1, 2, 3, 4, 5}).ok());
  const std::string path = temp_path("moved.gguf");
  ASSERT_TRUE(w.write(path).ok());
  Result<GgufFile> r = GgufFile::open(path);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_NE(r->find_tensor("moved"), nullptr);
  EXPECT_EQ(static_cast<const uint8_t*>(r->find_tensor("moved")->tensor.data)[4], 5);
  std::filesystem::remove(path);
  const Status s = w.add_tensor("b", DType::F32, {3}, x, sizeof(x));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'b'"), std::string::npos) << s.message();
}

TEST(GgufWriter, ReplacesKeysAndReportsIoErrors) {
  GgufWriter w;
  w.add_uint32("k", 1);
  w.add_string("k", "two");
  w.set_alignment(64);
  w.set_alignment(32);  // back to the default: no general.alignment key
  const std::string path = temp_path("replace.gguf");
  ASSERT_TRUE(w.write(path).ok());
  Result<GgufFile> r = GgufFile::open(path);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->metadata().size(), 1u);
  EXPECT_EQ(*r->get_string("k"), "two");
  std::filesystem::remove(path);
  const Status s = w.write("/nonexistent-dir/x.gguf");
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_NE(s.message().find("/nonexistent-dir/x.gguf"), std::string::npos) << s.message();
}

// ------------------------------------------------------------ accessors

TEST(GgufAccessors, TypeMismatchesAndMissingKeys) {
  GgufWriter w;
  w.add_string("s", "x");
  w.add_uint64("big", ~uint64_t(0));
  w.add_int32("neg", -1);
  w.add_float32("f", 1.5f);
  w.add_int32_array("ints", {1, 2});
  w.add_value("u64s", array_value(GgufType::kUint64, {scalar_u(GgufType::kUint64, ~uint64_t(0))}));
  const std::string path = temp_path("accessors.gguf");
  ASSERT_TRUE(w.write(path).ok());
  Result<GgufFile> r = GgufFile::open(path);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->get_string("absent").status().code(), StatusCode::kNotFound);
  EXPECT_NE(r->get_string("absent").status().message().find("'absent'"), std::string::npos);
  const Status s = r->get_int("s").status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'s' is string"), std::string::npos) << s.message();
  EXPECT_EQ(r->get_int("big").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*r->get_uint("big"), ~uint64_t(0));
  EXPECT_EQ(r->get_uint("neg").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*r->get_float("neg"), -1.0);
  EXPECT_EQ(r->get_bool("f").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r->get_string("f").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r->get_string_array("ints").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r->get_int_array("s").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*r->get_float_array("ints"), (std::vector<float>{1.f, 2.f}));
  EXPECT_EQ(r->get_int_array("u64s").status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r->get_float_array("s").status().message().find("expected array of numbers"), std::string::npos);
  std::filesystem::remove(path);
}

// ------------------------------------------------------------ truncation and byte flips

std::vector<uint8_t> valid_image() {
  const std::string path = temp_path("image.gguf");
  EXPECT_TRUE(full_writer(32).write(path).ok());
  std::vector<uint8_t> b = read_file(path);
  std::filesystem::remove(path);
  return b;
}

TEST(GgufHostile, EveryTruncationFailsCleanly) {
  const std::vector<uint8_t> full = valid_image();
  ASSERT_TRUE(parse(full).ok());
  // The last tensor (I32, 32 bytes) ends at the alignment: no trailing padding.
  for (size_t n = 0; n < full.size(); ++n) {
    std::vector<uint8_t> prefix(full.begin(), full.begin() + ptrdiff_t(n));  // own allocation: ASan sees overruns
    Result<GgufFile> r = parse(prefix);
    ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes parsed";
    EXPECT_EQ(r.status().message().rfind("hand.gguf: ", 0), 0u) << r.status().message();
  }
}

TEST(GgufHostile, RandomByteFlipsNeverCrash) {
  const std::vector<uint8_t> full = valid_image();
  std::mt19937 rng(1234);
  int ok = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<uint8_t> b = full;
    const int flips = 1 + int(rng() % 4);
    for (int k = 0; k < flips; ++k) {
      const size_t at = rng() % b.size();
      b[at] = (rng() % 2) ? uint8_t(rng()) : uint8_t(b[at] ^ (1u << (rng() % 8)));
    }
    Result<GgufFile> r = parse(b);
    if (!r.ok()) {
      EXPECT_FALSE(r.status().message().empty());
      continue;
    }
    ++ok;
    std::FILE* sink = std::fopen("/dev/null", "w");
    ASSERT_NE(sink, nullptr);
    gguf_print_summary(*r, sink);
    std::fclose(sink);
    for (const GgufTensorInfo& t : r->tensors()) {
      const uint8_t* p = static_cast<const uint8_t*>(t.tensor.data);
      ASSERT_GE(p, b.data());
      ASSERT_LE(p + t.nbytes, b.data() + b.size());
    }
  }
  EXPECT_GT(ok, 0);  // flips inside tensor data or string bytes still parse
}

// ------------------------------------------------------------ printer

TEST(GgufPrint, SummarisesArraysAndTensors) {
  const std::vector<uint8_t> full = valid_image();
  Result<GgufFile> r = parse(full);
  ASSERT_TRUE(r.ok());
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  gguf_print_summary(*r, f);
  std::string text(size_t(std::ftell(f)), '\0');
  std::rewind(f);
  ASSERT_EQ(std::fread(text.data(), 1, text.size(), f), text.size());
  std::fclose(f);
  for (const char* want : {"version 3", "general.architecture", "\"llama\"", "with \\x00 nul",
                           "[\"<s>\", \"</s>\", \"\", \"hello\"", "[[1, 2], [\"x\", \"yz\"], [[]]]",
                           "blk.0.ffn_up.weight", "Q4_0", "[2, 64]", "tensors: 4", "total: 178 bytes"}) {
    EXPECT_NE(text.find(want), std::string::npos) << "'" << want << "' not in:\n" << text;
  }
  GgufValue many = array_value(GgufType::kInt32, {});
  for (int j = 0; j < 100; ++j) many.array.push_back(scalar_i(GgufType::kInt32, j));
  EXPECT_EQ(gguf_value_to_string(many, 3), "[100 items: 0, 1, 2, ...]");
  const std::string long_string(1000, 'a');
  EXPECT_NE(gguf_value_to_string(string_value(long_string)).find("... (1000 bytes)"), std::string::npos);
}

// ------------------------------------------------------------ seeds and real files

// Regenerates fuzz/seeds/gguf; run by hand with --gtest_also_run_disabled_tests.
TEST(GgufSeeds, DISABLED_WriteFuzzSeeds) {
  std::filesystem::create_directories(kSeeds);
  ASSERT_TRUE(GgufWriter().write(kSeeds + "/empty.gguf").ok());
  ASSERT_TRUE(full_writer(32).write(kSeeds + "/all_types.gguf").ok());
  ASSERT_TRUE(full_writer(64).write(kSeeds + "/align64.gguf").ok());
  GgufWriter quant;
  quant.add_string("general.architecture", "llama");
  std::vector<uint8_t> q4k(2 * 144, 0x11), q8(34, 0x22);
  ASSERT_TRUE(quant.add_tensor("q4k", DType::Q4_K, {2, 256}, q4k.data(), q4k.size()).ok());
  ASSERT_TRUE(quant.add_tensor("q8", DType::Q8_0, {32}, q8.data(), q8.size()).ok());
  ASSERT_TRUE(quant.write(kSeeds + "/quant.gguf").ok());
  std::vector<uint8_t> v2 = nested_arrays(3).bytes();
  v2[4] = 2;  // version 2
  std::ofstream(kSeeds + "/v2_nested.gguf", std::ios::binary).write(reinterpret_cast<const char*>(v2.data()),
                                                                     std::streamsize(v2.size()));
}

TEST(GgufSeeds, CommittedSeedsParse) {
  if (!std::filesystem::is_directory(kSeeds)) GTEST_SKIP() << "seed directory missing: " << kSeeds;
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(kSeeds)) {
    Result<GgufFile> r = GgufFile::open(e.path().string());
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    ++n;
  }
  EXPECT_GE(n, 5);
}

TEST(GgufRealFiles, SharedVocabFilesOpen) {
  const std::filesystem::path dir = std::filesystem::path(AIGC_SHARED_DATA_DIR) / "vocab";
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "shared test data absent: " << dir;
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".gguf") continue;
    SCOPED_TRACE(e.path().string());
    Result<GgufFile> r = GgufFile::open(e.path().string());
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    ++n;
    Result<std::string> model = r->get_string("tokenizer.ggml.model");
    ASSERT_TRUE(model.ok()) << model.status().to_string();
    EXPECT_TRUE(*model == "llama" || *model == "gpt2") << *model;
    Result<std::vector<std::string>> tokens = r->get_string_array("tokenizer.ggml.tokens");
    ASSERT_TRUE(tokens.ok()) << tokens.status().to_string();
    EXPECT_GT(tokens->size(), 1000u);
    if (r->find("tokenizer.ggml.token_type")) {
      Result<std::vector<int64_t>> types = r->get_int_array("tokenizer.ggml.token_type");
      ASSERT_TRUE(types.ok()) << types.status().to_string();
      EXPECT_EQ(types->size(), tokens->size());
    }
    if (*model == "llama") {
      Result<std::vector<float>> scores = r->get_float_array("tokenizer.ggml.scores");
      ASSERT_TRUE(scores.ok()) << scores.status().to_string();
      EXPECT_EQ(scores->size(), tokens->size());
    }
    std::FILE* sink = std::fopen("/dev/null", "w");
    ASSERT_NE(sink, nullptr);
    gguf_print_summary(*r, sink);
    std::fclose(sink);
  }
  EXPECT_GE(n, 1);
}

}  // namespace
}  // namespace aigc
