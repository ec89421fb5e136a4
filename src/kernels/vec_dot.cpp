// Dispatch of the dot kernels and activation quantizers: one row per type,
// one column per ISA; a missing entry falls back to the next lower ISA and
// finally to the scalar reference in the dtype table.
#include "kernels/vec_dot.h"

#include "core/assert.h"
#include "kernels/vec_dot_isa.h"

namespace aigc {
namespace {

struct DotRow {
  DType type;
  VecDotFn avx2;
  VecDotFn avx512;
  VecDotRowsFn rows_avx2 = nullptr;  // several rows a call, where that pays
  VecDotRowsFn rows_avx512 = nullptr;
  int64_t rows_per_call_avx512 = kDotRowsPerCall;  // (AVX2: always kDotRowsPerCall)
};

constexpr DotRow kDots[] = {
    {DType::F32, vec_dot_f32_avx2, vec_dot_f32_avx512},
    {DType::F16, vec_dot_f16_avx2, vec_dot_f16_avx512},
    {DType::BF16, vec_dot_bf16_avx2, vec_dot_bf16_avx512},
    {DType::Q4_0, vec_dot_q4_0_avx2, vec_dot_q4_0_avx512, vec_dot_q4_0_rows4_avx2, vec_dot_q4_0_rows16_avx512,
     kDotRowsPerCallQ4_0Avx512},
    {DType::Q4_1, vec_dot_q4_1_avx2, vec_dot_q4_1_avx512, vec_dot_q4_1_rows4_avx2, vec_dot_q4_1_rows4_avx512},
    {DType::Q5_0, vec_dot_q5_0_avx2, vec_dot_q5_0_avx512, vec_dot_q5_0_rows4_avx2, vec_dot_q5_0_rows4_avx512},
    {DType::Q5_1, vec_dot_q5_1_avx2, vec_dot_q5_1_avx512, vec_dot_q5_1_rows4_avx2, vec_dot_q5_1_rows4_avx512},
    {DType::Q8_0, vec_dot_q8_0_avx2, vec_dot_q8_0_avx512, vec_dot_q8_0_rows4_avx2, vec_dot_q8_0_rows4_avx512},
    {DType::Q2_K, vec_dot_q2_k_avx2, vec_dot_q2_k_avx512},
    {DType::Q3_K, vec_dot_q3_k_avx2, vec_dot_q3_k_avx512},
    {DType::Q4_K, vec_dot_q4_k_avx2, vec_dot_q4_k_avx512},
    {DType::Q5_K, vec_dot_q5_k_avx2, vec_dot_q5_k_avx512},
    {DType::Q6_K, vec_dot_q6_k_avx2, vec_dot_q6_k_avx512},
};

struct QuantizeRow {
  DType type;
  FromFloatFn avx2;
  FromFloatFn avx512;  // null: the AVX2 quantizer is as fast (it is not the bottleneck)
};

constexpr QuantizeRow kQuantizers[] = {
    {DType::Q8_0, quantize_row_q8_0_avx2, nullptr},
    {DType::Q8_1, quantize_row_q8_1_avx2, nullptr},
    {DType::Q8_K, quantize_row_q8_k_avx2, nullptr},
};

// `isa`, lowered to the best this CPU runs.
Isa cap_to_cpu(Isa isa) {
  static const Isa best = cpu_supports(Isa::kAvx512) ? Isa::kAvx512
                          : cpu_supports(Isa::kAvx2) ? Isa::kAvx2
                                                     : Isa::kScalar;
  return isa > best ? best : isa;
}

// The entry for `isa` (capped at what this CPU runs) in an {avx2, avx512} row,
// falling back downwards; `ref` for kScalar.
template <class Fn, class Row>
Fn pick(const Row& row, Isa isa, Fn ref) {
  isa = cap_to_cpu(isa);
  if (isa == Isa::kAvx512 && row.avx512 != nullptr) return row.avx512;
  if (isa >= Isa::kAvx2 && row.avx2 != nullptr) return row.avx2;
  return ref;
}

const DotRow* dot_row(DType type) {
  for (const DotRow& row : kDots) {
    if (row.type == type) return &row;
  }
  return nullptr;
}

}  // namespace

VecDotFn vec_dot_kernel(DType weight_type, Isa isa) {
  const DTypeTraits* t = dtype_traits(weight_type);
  if (t == nullptr || t->vec_dot_ref == nullptr) return nullptr;
  const DotRow* row = dot_row(weight_type);
  return row != nullptr ? pick(*row, isa, t->vec_dot_ref) : t->vec_dot_ref;
}

FromFloatFn quantize_activation_kernel(DType act_type, Isa isa) {
  const DTypeTraits* t = dtype_traits(act_type);
  if (t == nullptr || t->from_float == nullptr) return nullptr;
  for (const QuantizeRow& row : kQuantizers) {
    if (row.type == act_type) return pick(row, isa, t->from_float);
  }
  return t->from_float;
}

void vec_dot_rows(DType weight_type, Isa isa, int64_t n, int64_t n_rows, const void* x, size_t x_row_stride,
                  const void* y, float* out) {
  const VecDotFn dot = vec_dot_kernel(weight_type, isa);
  AIGC_ASSERT(dot != nullptr);
  // The multi-row kernel of the same ISA as `dot`, so that both give the same bits.
  const DotRow* row = dot_row(weight_type);
  VecDotRowsFn rows = nullptr;
  int64_t per_call = kDotRowsPerCall;
  if (row != nullptr && dot == row->avx512) {
    rows = row->rows_avx512;
    per_call = row->rows_per_call_avx512;
  }
  if (row != nullptr && dot == row->avx2) rows = row->rows_avx2;
  const char* base = static_cast<const char*>(x);
  int64_t r = 0;
  if (rows != nullptr) {
    for (; r + per_call <= n_rows; r += per_call) rows(n, base + size_t(r) * x_row_stride, x_row_stride, y, out + r);
  }
  for (; r < n_rows; ++r) out[r] = dot(n, base + size_t(r) * x_row_stride, y);
}

}  // namespace aigc
