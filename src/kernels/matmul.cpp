// matmul: shape checks, the dot-product path, the GEMM path and
// the scalar reference.
#include "kernels/matmul.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/assert.h"
#include "core/cpu_features.h"
#include "kernels/gemm_amx.h"
#include "kernels/gemm_f32.h"
#include "kernels/gemm_q8.h"
#include "kernels/vec_dot.h"

namespace aigc {

namespace {

struct MatmulShape {
  int64_t n_tokens, n_in, n_out;
  int64_t x_ld, y_ld;    // row strides of x and y, in floats
  int64_t w_row_bytes;   // row stride of w, in bytes
};

int64_t row_stride(const Tensor& t) { return t.n_dims > 1 ? t.stride[t.n_dims - 2] : 0; }

MatmulShape check_shapes(const Tensor& y, const Tensor& w, const Tensor& x) {
  AIGC_ASSERT(w.n_dims == 2 && x.n_dims >= 1 && x.n_dims <= 2 && y.n_dims == x.n_dims);
  AIGC_ASSERT(x.dtype == DType::F32 && y.dtype == DType::F32);
  AIGC_ASSERT(x.cols() == w.cols() && y.cols() == w.rows() && y.rows() == x.rows());
  AIGC_ASSERT(x.stride[x.n_dims - 1] == int64_t(sizeof(float)) && y.stride[y.n_dims - 1] == int64_t(sizeof(float)));
  AIGC_ASSERT(row_stride(x) % int64_t(sizeof(float)) == 0 && row_stride(y) % int64_t(sizeof(float)) == 0);
  AIGC_ASSERT(matmul_supports(w.dtype));
  return {x.rows(), w.cols(), w.rows(), row_stride(x) / int64_t(sizeof(float)),
          row_stride(y) / int64_t(sizeof(float)), w.stride[0]};
}

VecDotFn vec_dot_for(DType w_type) { return vec_dot_kernel(w_type, active_isa()); }

FromFloatFn quantize_activation_for(DType act_type) { return quantize_activation_kernel(act_type, active_isa()); }

// The caller's buffer for the rows of x converted to vec_dot_type.
thread_local std::vector<uint8_t> t_act;

constexpr int64_t kDotChunkRows = 16;  // weight rows per tile (a multiple of the multi-row dot's 4)

// Y = X W^T as dot products: each row of x converted once to vec_dot_type,
// then the rows shared by the threads of one parallel region.
void matmul_dots(float* y, const Tensor& w, const float* x, const MatmulShape& s) {
  const int64_t act_stride = matmul_act_row_bytes(w.dtype, s.n_in);
  if (t_act.size() < size_t(act_stride * s.n_tokens)) t_act.resize(size_t(act_stride * s.n_tokens));
  for (int64_t t = 0; t < s.n_tokens; ++t)
    matmul_convert_act(w.dtype, x + t * s.x_ld, s.n_in, t_act.data() + t * act_stride);
  const uint8_t* act = t_act.data();
  const bool parallel = s.n_tokens * s.n_out * s.n_in > 16384;
#pragma omp parallel if (parallel)
  matmul_dots_shared(y, s.y_ld, w, act, act_stride, s.n_tokens);
}

// gemm_q8 wherever it has a SIMD kernel for the type (on AVX2, Q4_0 ran 1.4x
// faster than gemm_f32 at 512 tokens and 2x faster than the dots at 32).
bool uses_gemm_q8(DType w_type) {
  const Isa isa = active_isa();
  return isa != Isa::kScalar && gemm_q8_supports(w_type, isa);
}
bool uses_gemm_amx(DType w_type) { return gemm_amx_supports(w_type) && amx_usable(); }

}  // namespace

int64_t matmul_gemm_min_tokens(DType w_type) {
  if (w_type == DType::F32) return 8;
  // gemm_amx against the dots, 5632 x 2048, 2 threads: even at 6 tokens
  // (F16 2.14 -> 1.86 ms; BF16 from 3), 5x faster at 32.
  if (uses_gemm_amx(w_type)) return 8;
  if (w_type == DType::F16 || w_type == DType::BF16) return 32;
  // gemm_q8 against the dots, 2048 x 2048, 2 threads: Q4_0 and Q8_0 even at
  // 8 tokens, Q4_K at 16, all 2-3x faster at 32-63 tokens (AVX-512); on AVX2,
  // 5632 x 2048: 1.1-1.5x faster at 16 tokens, 2x at 32.
  if (uses_gemm_q8(w_type)) return 16;
  // gemm_f32 on dequantized Q8_0 against its dots, AVX2, 5632 x 2048: equal
  // at 16 tokens, 15% faster at 32.
  if (w_type == DType::Q8_0) return 32;
  return 64;
}

int64_t matmul_act_row_bytes(DType w_type, int64_t n_in) {
  return int64_t(*dtype_row_bytes(dtype_traits(w_type)->vec_dot_type, n_in));
}

void matmul_convert_act(DType w_type, const float* x, int64_t n_in, void* act) {
  quantize_activation_for(dtype_traits(w_type)->vec_dot_type)(x, act, n_in);
}

void matmul_dots_shared(float* y, int64_t y_ld, const Tensor& w, const void* act, int64_t act_stride,
                        int64_t n_tokens) {
  AIGC_ASSERT(w.n_dims == 2 && matmul_supports(w.dtype));
  const int64_t n_out = w.rows(), n_in = w.cols(), w_row_bytes = w.stride[0];
  const Isa isa = active_isa();
  const char* w_data = static_cast<const char*>(w.data);
  const char* act_bytes = static_cast<const char*>(act);
  const int64_t n_tiles = (n_out + kDotChunkRows - 1) / kDotChunkRows;
  // Guided: the first take is half the tiles, the next a quarter, and so on
  // down to 2: long streams that the weight prefetch (vec_dot_simd_body.h)
  // keeps ahead of, and a thread the OS holds back leaves its rest to the
  // others. Taking 4 tiles at a time dynamically restarted the prefetch at
  // every take (2048 x 5632, 2 threads: Q4_0 64-68% -> 65-74% of the read
  // ceiling with a static split); guided against static, alternated: matrix x
  // vector the same within the noise, Q4_0 decode 2-5% more tokens/s.
  // Each output is one dot whoever computes it, so results do not depend on it.
#pragma omp for schedule(guided, 2) nowait
  for (int64_t c = 0; c < n_tiles; ++c) {
    const int64_t r0 = c * kDotChunkRows;
    const int64_t rows = std::min(kDotChunkRows, n_out - r0);
    for (int64_t t = 0; t < n_tokens; ++t)  // the tile's weight rows stay in cache across tokens
      vec_dot_rows(w.dtype, isa, n_in, rows, w_data + r0 * w_row_bytes, size_t(w_row_bytes),
                   act_bytes + t * act_stride, y + t * y_ld + r0);
  }
}

bool matmul_supports(DType w_type) {
  const DTypeTraits* wt = dtype_traits(w_type);
  if (wt == nullptr || wt->to_float == nullptr || vec_dot_for(w_type) == nullptr) return false;
  return wt->vec_dot_type == DType::F32 || quantize_activation_for(wt->vec_dot_type) != nullptr;
}

bool matmul_quantizes_activations(DType w_type, int64_t n_tokens) {
  if (n_tokens < matmul_gemm_min_tokens(w_type)) return dtype_traits(w_type)->vec_dot_type != DType::F32;
  return uses_gemm_q8(w_type);
}

bool matmul_splits_activations(DType w_type, int64_t n_tokens) {
  return n_tokens >= matmul_gemm_min_tokens(w_type) && uses_gemm_amx(w_type) && w_type != DType::F32;
}

void matmul(Tensor y, const Tensor& w, const Tensor& x) {
  const MatmulShape s = check_shapes(y, w, x);
  if (s.n_tokens < matmul_gemm_min_tokens(w.dtype)) {
    matmul_dots(y.ptr<float>(), w, x.ptr<const float>(), s);
    return;
  }
  const Isa isa = active_isa();
  if (uses_gemm_q8(w.dtype)) {
    gemm_q8(s.n_tokens, s.n_out, s.n_in, x.ptr<const float>(), s.x_ld, w.dtype, w.data, s.w_row_bytes,
            y.ptr<float>(), s.y_ld, isa);
    return;
  }
  if (uses_gemm_amx(w.dtype)) {
    gemm_amx(s.n_tokens, s.n_out, s.n_in, x.ptr<const float>(), s.x_ld, w.dtype, w.data, s.w_row_bytes,
             y.ptr<float>(), s.y_ld);
    return;
  }
  gemm_f32(s.n_tokens, s.n_out, s.n_in, x.ptr<const float>(), s.x_ld, w.dtype, w.data, s.w_row_bytes,
           y.ptr<float>(), s.y_ld);
}

void matmul_ref(Tensor y, const Tensor& w, const Tensor& x) {
  const MatmulShape s = check_shapes(y, w, x);
  const DTypeTraits& wt = *dtype_traits(w.dtype);
  std::vector<float> w_row(static_cast<size_t>(s.n_in));
  for (int64_t o = 0; o < s.n_out; ++o) {
    wt.to_float(static_cast<const char*>(w.data) + o * s.w_row_bytes, w_row.data(), s.n_in);
    for (int64_t t = 0; t < s.n_tokens; ++t) {
      const float* xt = x.ptr<const float>() + t * s.x_ld;
      double acc = 0.0;
      for (int64_t i = 0; i < s.n_in; ++i) acc += double(w_row[size_t(i)]) * double(xt[i]);
      y.ptr<float>()[t * s.y_ld + o] = float(acc);
    }
  }
}

}  // namespace aigc
