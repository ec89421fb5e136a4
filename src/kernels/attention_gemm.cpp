// Full attention as blocked GEMMs (attention_gemm.h).
//
// Per head: K^T [D][n_kv_pad] and V [n_kv][D_pad] are copied once, zero
// padded to whole micro-tiles, in panel-major order (nr columns a panel, each
// panel contiguous: rows a few KB apart would share cache sets). Per block of 24 queries (read in place, four
// micro-tile rows that share every K / V panel while it is in cache), the
// score tile S [24][n_kv_pad] = Q K^T, each row gets the softmax over its
// n_kv real keys, and O [24][D_pad] = P V reads P from S.
#include "kernels/attention_gemm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/conv2d_isa.h"
#include "kernels/softmax_isa.h"

namespace aigc {

namespace {

constexpr int64_t kKc = 256;                 // reduction depth per micro-kernel call
constexpr int64_t kQueries = 4 * kConvMr;    // queries per work piece: each K / V panel read serves 24

using TileFn = void (*)(int64_t kc, const float* const* a, const float* b, int64_t ldb, float* c, int64_t ldc);

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// c [n_rows][n_cols] = a b over depth kd, a row block of kConvMr rows at a
// time: a holds n_rows row pointers (kd values each; n_rows a multiple of
// kConvMr), b is panel-major [n_cols / nr][kd][nr]; c is zeroed first;
// n_cols is a multiple of nr. Each panel of b serves every row block while it
// is in cache.
void gemm_rows(float* c, int64_t ldc, const float* const* a, int64_t n_rows, const float* b, int64_t kd,
               int64_t n_cols, int64_t nr, TileFn tile) {
  for (int64_t r = 0; r < n_rows; ++r) std::fill_n(c + r * ldc, n_cols, 0.0f);
  for (int64_t k0 = 0; k0 < kd; k0 += kKc) {
    const int64_t kc = std::min(kKc, kd - k0);
    const float* ak[kQueries];
    for (int64_t r = 0; r < n_rows; ++r) ak[r] = a[r] + k0;
    for (int64_t j = 0; j < n_cols; j += nr) {
      const float* panel = b + (j * kd + k0 * nr);  // j / nr panels of kd x nr before it
      for (int64_t r0 = 0; r0 < n_rows; r0 += kConvMr) tile(kc, ak + r0, panel, nr, c + r0 * ldc + j, ldc);
    }
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
  std::vector<float> kt(static_cast<size_t>(n_head * D * kv_pad));     // per head [kv_pad / nr][D][nr]
  std::vector<float> vp(static_cast<size_t>(n_head * n_kv * d_pad));   // per head [d_pad / nr][n_kv][nr]
  const int64_t n_qblocks = (n_tokens + kQueries - 1) / kQueries;
#pragma omp parallel
  {
#pragma omp for schedule(static)
    for (int64_t h = 0; h < n_head; ++h) {
      float* kth = kt.data() + h * D * kv_pad;
      float* vph = vp.data() + h * n_kv * d_pad;
      std::fill_n(kth, D * kv_pad, 0.0f);
      std::fill_n(vph, n_kv * d_pad, 0.0f);
      for (int64_t j = 0; j < n_kv; ++j) {
        const float* kj = k + j * row_stride + h * D;
        const float* vj = v + j * row_stride + h * D;
        for (int64_t i = 0; i < D; ++i) {
          kth[(j / nr * D + i) * nr + j % nr] = kj[i];
          vph[(i / nr * n_kv + j) * nr + i % nr] = vj[i];
        }
      }
    }
    const std::vector<float> zeros(static_cast<size_t>(D), 0.0f);  // the query rows past the last
    std::vector<float> s(static_cast<size_t>(kQueries * kv_pad));    // [24][kv_pad]
    std::vector<float> o(static_cast<size_t>(kQueries * d_pad));     // [24][d_pad]
#pragma omp for schedule(static)
    for (int64_t piece = 0; piece < n_head * n_qblocks; ++piece) {  // head-major: one head's K, V stay in cache
      const int64_t h = piece / n_qblocks, t0 = piece % n_qblocks * kQueries;
      const int64_t rows = std::min(kQueries, n_tokens - t0);
      const int64_t n_rows = round_up(rows, kConvMr);
      const float* q_rows[kQueries];
      for (int64_t r = 0; r < n_rows; ++r) q_rows[r] = r < rows ? q + (t0 + r) * row_stride + h * D : zeros.data();
      gemm_rows(s.data(), kv_pad, q_rows, n_rows, kt.data() + h * D * kv_pad, D, kv_pad, nr, tile);
      for (int64_t r = 0; r < n_rows; ++r) {
        softmax_row(s.data() + r * kv_pad, s.data() + r * kv_pad, nullptr, scale, n_kv);
      }
      const float* p_rows[kQueries];
      for (int64_t r = 0; r < n_rows; ++r) p_rows[r] = s.data() + r * kv_pad;
      gemm_rows(o.data(), d_pad, p_rows, n_rows, vp.data() + h * n_kv * d_pad, n_kv, d_pad, nr, tile);
      for (int64_t r = 0; r < rows; ++r) std::copy_n(o.data() + r * d_pad, D, out + (t0 + r) * row_stride + h * D);
    }
  }
}

}  // namespace aigc
