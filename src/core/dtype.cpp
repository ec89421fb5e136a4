// The dtype traits table: one row per element type.
#include "core/dtype.h"

#include <cctype>
#include <limits>
#include <string>

#include "core/fp16.h"
#include "core/quant_blocks.h"
#include "core/quants_ref.h"

namespace aigc {

namespace {

void f32_to_float(const void* src, float* dst, int64_t n) {
  const float* s = static_cast<const float*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = s[i];
}
void f32_from_float(const float* src, void* dst, int64_t n) {
  float* d = static_cast<float*>(dst);
  for (int64_t i = 0; i < n; ++i) d[i] = src[i];
}
void f16_to_float(const void* src, float* dst, int64_t n) {
  const uint16_t* s = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(s[i]);
}
void f16_from_float(const float* src, void* dst, int64_t n) {
  uint16_t* d = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) d[i] = fp32_to_fp16(src[i]);
}
void bf16_to_float(const void* src, float* dst, int64_t n) {
  const uint16_t* s = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(s[i]);
}
void bf16_from_float(const float* src, void* dst, int64_t n) {
  uint16_t* d = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) d[i] = fp32_to_bf16(src[i]);
}

// Plain-type dots against F32 activations, accumulated in double for the reference.
template <class ToF>
float dot_plain(int64_t n, const void* x, const void* y, ToF to_f) {
  const float* b = static_cast<const float*>(y);
  double acc = 0;
  for (int64_t i = 0; i < n; ++i) acc += double(to_f(x, i)) * double(b[i]);
  return float(acc);
}
float f32_dot(int64_t n, const void* x, const void* y) {
  return dot_plain(n, x, y, [](const void* p, int64_t i) { return static_cast<const float*>(p)[i]; });
}
float f16_dot(int64_t n, const void* x, const void* y) {
  return dot_plain(n, x, y, [](const void* p, int64_t i) { return fp16_to_fp32(static_cast<const uint16_t*>(p)[i]); });
}
float bf16_dot(int64_t n, const void* x, const void* y) {
  return dot_plain(n, x, y, [](const void* p, int64_t i) { return bf16_to_fp32(static_cast<const uint16_t*>(p)[i]); });
}

constexpr DTypeTraits kTable[] = {
    // type, name, block, bytes, quantized, to_float, from_float, vec_dot_type, vec_dot_ref
    {DType::F32, "F32", 1, 4, false, f32_to_float, f32_from_float, DType::F32, f32_dot},
    {DType::F16, "F16", 1, 2, false, f16_to_float, f16_from_float, DType::F32, f16_dot},
    {DType::BF16, "BF16", 1, 2, false, bf16_to_float, bf16_from_float, DType::F32, bf16_dot},
    {DType::Q4_0, "Q4_0", kQK, sizeof(BlockQ4_0), true, dequantize_row_q4_0, quantize_row_q4_0_ref, DType::Q8_0, vec_dot_q4_0_q8_0_ref},
    {DType::Q4_1, "Q4_1", kQK, sizeof(BlockQ4_1), true, dequantize_row_q4_1, quantize_row_q4_1_ref, DType::Q8_1, vec_dot_q4_1_q8_1_ref},
    {DType::Q5_0, "Q5_0", kQK, sizeof(BlockQ5_0), true, dequantize_row_q5_0, quantize_row_q5_0_ref, DType::Q8_0, vec_dot_q5_0_q8_0_ref},
    {DType::Q5_1, "Q5_1", kQK, sizeof(BlockQ5_1), true, dequantize_row_q5_1, quantize_row_q5_1_ref, DType::Q8_1, vec_dot_q5_1_q8_1_ref},
    {DType::Q8_0, "Q8_0", kQK, sizeof(BlockQ8_0), true, dequantize_row_q8_0, quantize_row_q8_0_ref, DType::Q8_0, vec_dot_q8_0_q8_0_ref},
    {DType::Q8_1, "Q8_1", kQK, sizeof(BlockQ8_1), true, dequantize_row_q8_1, quantize_row_q8_1_ref, DType::Q8_1, nullptr},
    {DType::Q2_K, "Q2_K", kQK_K, sizeof(BlockQ2_K), true, dequantize_row_q2_k, quantize_row_q2_k_ref, DType::Q8_K, vec_dot_q2_k_q8_k_ref},
    {DType::Q3_K, "Q3_K", kQK_K, sizeof(BlockQ3_K), true, dequantize_row_q3_k, quantize_row_q3_k_ref, DType::Q8_K, vec_dot_q3_k_q8_k_ref},
    {DType::Q4_K, "Q4_K", kQK_K, sizeof(BlockQ4_K), true, dequantize_row_q4_k, quantize_row_q4_k_ref, DType::Q8_K, vec_dot_q4_k_q8_k_ref},
    {DType::Q5_K, "Q5_K", kQK_K, sizeof(BlockQ5_K), true, dequantize_row_q5_k, quantize_row_q5_k_ref, DType::Q8_K, vec_dot_q5_k_q8_k_ref},
    {DType::Q6_K, "Q6_K", kQK_K, sizeof(BlockQ6_K), true, dequantize_row_q6_k, quantize_row_q6_k_ref, DType::Q8_K, vec_dot_q6_k_q8_k_ref},
    {DType::Q8_K, "Q8_K", kQK_K, sizeof(BlockQ8_K), true, dequantize_row_q8_k, quantize_row_q8_k_ref, DType::Q8_K, nullptr},
    {DType::I8, "I8", 1, 1, false, nullptr, nullptr, DType::I8, nullptr},
    {DType::I16, "I16", 1, 2, false, nullptr, nullptr, DType::I16, nullptr},
    {DType::I32, "I32", 1, 4, false, nullptr, nullptr, DType::I32, nullptr},
    {DType::I64, "I64", 1, 8, false, nullptr, nullptr, DType::I64, nullptr},
    {DType::F64, "F64", 1, 8, false, nullptr, nullptr, DType::F64, nullptr},
};

}  // namespace

const DTypeTraits* dtype_traits(DType type) {
  for (const DTypeTraits& t : kTable)
    if (t.type == type) return &t;
  return nullptr;
}

std::optional<DType> dtype_from_id(uint32_t id) {
  for (const DTypeTraits& t : kTable)
    if (uint32_t(t.type) == id) return t.type;
  return std::nullopt;
}

std::optional<DType> dtype_from_name(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = char(std::toupper(static_cast<unsigned char>(c)));
  for (const DTypeTraits& t : kTable)
    if (upper == t.name) return t.type;
  return std::nullopt;
}

const char* dtype_name(DType type) {
  const DTypeTraits* t = dtype_traits(type);
  return t ? t->name : "unknown";
}

std::optional<uint64_t> dtype_row_bytes(DType type, int64_t n) {
  const DTypeTraits* t = dtype_traits(type);
  if (!t || n < 0 || n % t->block_size != 0) return std::nullopt;
  const uint64_t blocks = uint64_t(n / t->block_size);
  if (blocks > std::numeric_limits<uint64_t>::max() / uint64_t(t->block_bytes)) return std::nullopt;
  return blocks * uint64_t(t->block_bytes);
}

int dtype_count() { return int(sizeof(kTable) / sizeof(kTable[0])); }
const DTypeTraits& dtype_traits_at(int index) { return kTable[index]; }

}  // namespace aigc
