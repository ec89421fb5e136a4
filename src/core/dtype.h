// DType and its traits table: the one place that says what each element type
// is (block size, bytes per block, how to turn it into floats and back, which
// activation type its dot product pairs with).
//
// The numeric values are GGUF's type ids (ggml_type), so a GGUF tensor's type
// maps to a DType directly. Persisted: append only, never renumber.
//
// Adding a type = one row in dtype.cpp + its reference kernels in
// quants_ref.cpp + optimised kernels in kernels/. Tests iterate the table, so
// a new row is tested automatically.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace aigc {

enum class DType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  // 4, 5: removed Q4_2, Q4_3
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  // 16..23: IQ types (not supported)
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  // 29: IQ1_M
  BF16 = 30,
};

// Converts n elements (a multiple of block_size) of one type to F32.
using ToFloatFn = void (*)(const void* src, float* dst, int64_t n);
// Converts n floats (a multiple of block_size) to one type (reference rounding).
using FromFloatFn = void (*)(const float* src, void* dst, int64_t n);
// Dot product of n elements: x in this type, y in its vec_dot_type.
using VecDotFn = float (*)(int64_t n, const void* x, const void* y);

struct DTypeTraits {
  DType type;
  const char* name;       // as GGUF tools print it: "Q4_K", "F16"
  int64_t block_size;     // elements per block (1 for plain types)
  int64_t block_bytes;    // bytes per block
  bool is_quantized;
  ToFloatFn to_float;     // scalar reference; null if not convertible (integers)
  FromFloatFn from_float; // scalar reference quantizer; null if not available
  DType vec_dot_type;     // activation type for the dot product (F32 for plain types)
  VecDotFn vec_dot_ref;   // scalar reference dot; null if none
};

// Traits of `type`, or nullopt if `type` is not a known id.
const DTypeTraits* dtype_traits(DType type);
std::optional<DType> dtype_from_id(uint32_t id);
std::optional<DType> dtype_from_name(std::string_view name);  // "q4_k" or "Q4_K"
const char* dtype_name(DType type);

// Bytes of a row of n elements; nullopt if n is not a multiple of the block
// size or the result would overflow.
std::optional<uint64_t> dtype_row_bytes(DType type, int64_t n);

// All types in the table (for tests and tools).
int dtype_count();
const DTypeTraits& dtype_traits_at(int index);

}  // namespace aigc
