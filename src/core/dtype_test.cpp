// Tests of the dtype traits table: every row is consistent with the block
// layouts, names and ids round-trip, row sizes reject bad element counts and
// overflow, and plain types convert and dot exactly.
#include "core/dtype.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "core/fp16.h"
#include "core/quant_blocks.h"

namespace aigc {
namespace {

// The bytes per block each GGUF type must have (ggml's type_size), written
// out independently of the table.
int64_t expected_block_bytes(DType type) {
  switch (type) {
    case DType::F32: return 4;
    case DType::F16: return 2;
    case DType::BF16: return 2;
    case DType::Q4_0: return 18;
    case DType::Q4_1: return 20;
    case DType::Q5_0: return 22;
    case DType::Q5_1: return 24;
    case DType::Q8_0: return 34;
    case DType::Q8_1: return 36;
    case DType::Q2_K: return 84;
    case DType::Q3_K: return 110;
    case DType::Q4_K: return 144;
    case DType::Q5_K: return 176;
    case DType::Q6_K: return 210;
    case DType::Q8_K: return 292;
    case DType::I8: return 1;
    case DType::I16: return 2;
    case DType::I32: return 4;
    case DType::I64: return 8;
    case DType::F64: return 8;
  }
  return -1;
}

size_t struct_size(DType type) {
  switch (type) {
    case DType::Q4_0: return sizeof(BlockQ4_0);
    case DType::Q4_1: return sizeof(BlockQ4_1);
    case DType::Q5_0: return sizeof(BlockQ5_0);
    case DType::Q5_1: return sizeof(BlockQ5_1);
    case DType::Q8_0: return sizeof(BlockQ8_0);
    case DType::Q8_1: return sizeof(BlockQ8_1);
    case DType::Q2_K: return sizeof(BlockQ2_K);
    case DType::Q3_K: return sizeof(BlockQ3_K);
    case DType::Q4_K: return sizeof(BlockQ4_K);
    case DType::Q5_K: return sizeof(BlockQ5_K);
    case DType::Q6_K: return sizeof(BlockQ6_K);
    case DType::Q8_K: return sizeof(BlockQ8_K);
    default: return 0;
  }
}

TEST(DType, RowsMatchBlockLayouts) {
  for (int i = 0; i < dtype_count(); ++i) {
    const DTypeTraits& t = dtype_traits_at(i);
    SCOPED_TRACE(t.name);
    EXPECT_EQ(t.block_bytes, expected_block_bytes(t.type));
    EXPECT_EQ(dtype_traits(t.type), &t);
    if (t.is_quantized) {
      EXPECT_EQ(size_t(t.block_bytes), struct_size(t.type));
      EXPECT_TRUE(t.block_size == kQK || t.block_size == kQK_K);
      const DTypeTraits* act = dtype_traits(t.vec_dot_type);
      ASSERT_NE(act, nullptr);
      EXPECT_TRUE(act->is_quantized) << "quantized weights pair with quantized activations";
      EXPECT_EQ(act->block_size, t.block_size) << "dot operands share the block size";
    } else {
      EXPECT_EQ(t.block_size, 1);
    }
  }
}

TEST(DType, NamesAndIdsRoundTrip) {
  std::set<uint32_t> ids;
  std::set<std::string> names;
  for (int i = 0; i < dtype_count(); ++i) {
    const DTypeTraits& t = dtype_traits_at(i);
    SCOPED_TRACE(t.name);
    EXPECT_TRUE(ids.insert(uint32_t(t.type)).second) << "duplicate id";
    EXPECT_TRUE(names.insert(t.name).second) << "duplicate name";
    EXPECT_EQ(dtype_from_id(uint32_t(t.type)), t.type);
    EXPECT_EQ(dtype_from_name(t.name), t.type);
    std::string lower = t.name;
    for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(dtype_from_name(lower), t.type);
    EXPECT_STREQ(dtype_name(t.type), t.name);
  }
  // GGUF ids are fixed by the format.
  EXPECT_EQ(dtype_from_id(12), DType::Q4_K);
  EXPECT_EQ(dtype_from_id(30), DType::BF16);
  EXPECT_EQ(dtype_from_id(4), std::nullopt);  // removed Q4_2
  EXPECT_EQ(dtype_from_id(16), std::nullopt);  // IQ2_XXS: not supported
  EXPECT_EQ(dtype_from_id(1000), std::nullopt);
  EXPECT_EQ(dtype_from_name("Q4_2"), std::nullopt);
  EXPECT_EQ(dtype_from_name(""), std::nullopt);
  EXPECT_STREQ(dtype_name(DType(4)), "unknown");
}

TEST(DType, RowBytesRejectsPartialBlocksNegativesAndOverflow) {
  for (int i = 0; i < dtype_count(); ++i) {
    const DTypeTraits& t = dtype_traits_at(i);
    SCOPED_TRACE(t.name);
    EXPECT_EQ(dtype_row_bytes(t.type, 0), 0u);
    EXPECT_EQ(dtype_row_bytes(t.type, 3 * t.block_size), uint64_t(3 * t.block_bytes));
    EXPECT_EQ(dtype_row_bytes(t.type, -t.block_size), std::nullopt);
    if (t.block_size > 1) {
      EXPECT_EQ(dtype_row_bytes(t.type, t.block_size + 1), std::nullopt);
      EXPECT_EQ(dtype_row_bytes(t.type, t.block_size - 1), std::nullopt);
    }
    // The largest multiple of the block size: its byte count is exact when it
    // fits in 64 bits (F16, the quantized types) and refused when not (F32,
    // F64: over 2^64 bytes).
    const int64_t max_n = std::numeric_limits<int64_t>::max() / t.block_size * t.block_size;
    const unsigned __int128 exact = (unsigned __int128)(max_n / t.block_size) * (unsigned __int128)t.block_bytes;
    const std::optional<uint64_t> bytes = dtype_row_bytes(t.type, max_n);
    if (exact > std::numeric_limits<uint64_t>::max()) {
      EXPECT_EQ(bytes, std::nullopt);
    } else {
      ASSERT_TRUE(bytes.has_value());
      EXPECT_EQ(*bytes, uint64_t(exact));
    }
  }
  EXPECT_EQ(dtype_row_bytes(DType(4), 32), std::nullopt);  // unknown type
}

TEST(DType, PlainTypesConvertExactly) {
  const std::vector<float> x = {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 3.0e-5f, 1.0e-8f, 123456.78f};
  const int64_t n = int64_t(x.size());
  for (DType type : {DType::F32, DType::F16, DType::BF16}) {
    const DTypeTraits& t = *dtype_traits(type);
    SCOPED_TRACE(t.name);
    std::vector<uint8_t> raw(*dtype_row_bytes(type, n));
    std::vector<float> back(x.size());
    t.from_float(x.data(), raw.data(), n);
    t.to_float(raw.data(), back.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      float want = x[i];
      if (type == DType::F16) want = fp16_to_fp32(fp32_to_fp16(x[i]));
      if (type == DType::BF16) want = bf16_to_fp32(fp32_to_bf16(x[i]));
      EXPECT_EQ(std::memcmp(&back[i], &want, 4), 0) << "element " << i;
    }
    std::vector<float> y(x.size(), 0.5f);
    double want = 0;
    for (int64_t i = 0; i < n; ++i) want += double(back[i]) * 0.5;
    EXPECT_FLOAT_EQ(t.vec_dot_ref(n, raw.data(), y.data()), float(want));
  }
}

TEST(DType, EveryDotPairIsComplete) {
  // A type with a dot must be able to produce its activations and to be read.
  for (int i = 0; i < dtype_count(); ++i) {
    const DTypeTraits& t = dtype_traits_at(i);
    if (t.vec_dot_ref == nullptr) continue;
    SCOPED_TRACE(t.name);
    EXPECT_NE(t.to_float, nullptr);
    ASSERT_NE(dtype_traits(t.vec_dot_type), nullptr);
    EXPECT_NE(dtype_traits(t.vec_dot_type)->from_float, nullptr);
    EXPECT_NE(dtype_traits(t.vec_dot_type)->to_float, nullptr);
  }
}

}  // namespace
}  // namespace aigc
