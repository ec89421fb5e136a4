// Full attention as blocked GEMMs (attention_gemm.h).
//
// Per head: K^T [D][n_kv_pad] and V [n_kv][D_pad] are copied once, zero
// padded to whole micro-tiles. Per block of kConvMr queries (read in place),
// the score tile S [6][n_kv_pad] = Q K^T, each row gets the softmax over its
// n_kv real keys, and O [6][D_pad] = P V reads P from S.
#include "kernels/attention_gemm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/conv2d_isa.h"
#include "kernels/softmax_isa.h"

namespace aigc {

namespace {

constexpr int64_t kKc = 256;  // reduction depth per micro-kernel call

using TileFn = void (*)(int64_t kc, const float* const* a, const float* b, int64_t ldb, float* c, int64_t ldc);

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// c [kConvMr][n_cols] = a b over depth kd: a holds kConvMr row pointers
// (kd values each), b is [kd][ldb]; c is zeroed first; n_cols is a multiple
// of nr.
void gemm_rows(float* c, int64_t ldc, const float* const* a, const float* b, int64_t ldb, int64_t kd,
               int64_t n_cols, int64_t nr, TileFn tile) {
  for (int64_t r = 0; r < kConvMr; ++r) std::fill_n(c + r * ldc, n_cols, 0.0f);
  for (int64_t k0 = 0; k0 < kd; k0 += kKc) {
    const int64_t kc = std::min(kKc, kd - k0);
    const float* ak[kConvMr];
    for (int64_t r = 0; r < kConvMr; ++r) ak[r] = a[r] + k0;
    for (int64_t j = 0; j < n_cols; j += nr) tile(kc, ak, b + k0 * ldb + j, ldb, c + j, ldc);
  }
}

}  // namespace

void attention_full_gemm(float* out, const float* q, const float* k, const float* v, int64_t n_tokens, int64_t n_kv,
                         int64_t n_head, int64_t head_dim, Isa isa) {
  const int64_t nr = isa == Isa::kAvx512 ? kConvNrAvx512 : kConvNrAvx2;
  const TileFn tile = isa == Isa::kAvx512 ? conv_gemm_tile_avx512 : conv_gemm_tile_avx2;
  const auto softmax_row = isa == Isa::kAvx512 ? softmax_row_avx512 : softmax_row_avx2;
  const int64_t D = head_dim, row_stride = n_head * head_dim;
  const int64_t kv_pad = round_up(n_kv, nr), d_pad = round_up(D, nr);
  const float scale = float(1.0 / std::sqrt(double(D)));
  std::vector<float> kt(static_cast<size_t>(n_head * D * kv_pad));     // per head [D][kv_pad]
  std::vector<float> vp(static_cast<size_t>(n_head * n_kv * d_pad));   // per head [n_kv][d_pad]
  const int64_t n_qblocks = (n_tokens + kConvMr - 1) / kConvMr;
#pragma omp parallel
  {
#pragma omp for schedule(static)
    for (int64_t h = 0; h < n_head; ++h) {
      float* kth = kt.data() + h * D * kv_pad;
      float* vph = vp.data() + h * n_kv * d_pad;
      std::fill_n(kth, D * kv_pad, 0.0f);
      for (int64_t j = 0; j < n_kv; ++j) {
        const float* kj = k + j * row_stride + h * D;
        for (int64_t i = 0; i < D; ++i) kth[i * kv_pad + j] = kj[i];
        std::copy_n(v + j * row_stride + h * D, D, vph + j * d_pad);
        std::fill(vph + j * d_pad + D, vph + (j + 1) * d_pad, 0.0f);
      }
    }
    const std::vector<float> zeros(static_cast<size_t>(D), 0.0f);  // the query rows past the last
    std::vector<float> s(static_cast<size_t>(kConvMr * kv_pad));     // [6][kv_pad]
    std::vector<float> o(static_cast<size_t>(kConvMr * d_pad));      // [6][d_pad]
#pragma omp for schedule(static)
    for (int64_t piece = 0; piece < n_head * n_qblocks; ++piece) {  // head-major: one head's K, V stay in cache
      const int64_t h = piece / n_qblocks, t0 = piece % n_qblocks * kConvMr;
      const int64_t rows = std::min(kConvMr, n_tokens - t0);
      const float* q_rows[kConvMr];
      for (int64_t r = 0; r < kConvMr; ++r) q_rows[r] = r < rows ? q + (t0 + r) * row_stride + h * D : zeros.data();
      gemm_rows(s.data(), kv_pad, q_rows, kt.data() + h * D * kv_pad, kv_pad, D, kv_pad, nr, tile);
      for (int64_t r = 0; r < kConvMr; ++r) {
        softmax_row(s.data() + r * kv_pad, s.data() + r * kv_pad, nullptr, scale, n_kv);
      }
      const float* p_rows[kConvMr];
      for (int64_t r = 0; r < kConvMr; ++r) p_rows[r] = s.data() + r * kv_pad;
      gemm_rows(o.data(), d_pad, p_rows, vp.data() + h * n_kv * d_pad, d_pad, n_kv, d_pad, nr, tile);
      for (int64_t r = 0; r < rows; ++r) std::copy_n(o.data() + r * d_pad, D, out + (t0 + r) * row_stride + h * D);
    }
  }
}

}  // namespace aigc
