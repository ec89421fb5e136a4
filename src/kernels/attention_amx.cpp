// Full attention on AMX tiles (attention_amx.h).
//
// Per head, K is split once into 16-key groups over its head_dim values and
// V into 16-dimension groups over the keys (gemm_amx_isa.h's activation
// layout: the keys and the output dimensions are the tiles' "tokens"). Per
// block of 32 queries, Q's rows and then P's rows are split as the tiles'
// "weight" rows, so S [32][kv_pad] and O [32][d_pad] come out row-major.
#include "kernels/attention_amx.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/gemm_amx_isa.h"
#include "kernels/scratch.h"
#include "kernels/softmax_isa.h"

namespace aigc {

namespace {

constexpr int64_t kQueries = 32;  // queries per work piece: the tile's 32 weight rows
constexpr int kScoreParts = 3;    // Q and K: F32-grade scores (softmax amplifies their errors)
constexpr int kValueParts = 2;    // P and V

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

thread_local ScratchBuffer t_ks, t_vs;              // the caller's split K and V
thread_local ScratchBuffer t_s, t_o, t_qs, t_ps;  // each thread's buffers for one block of queries

// c [32][n_cols] = the 32 rows of w (its parts, kc values a row) times the
// n_cols tokens of a (parts a_part elements apart, 16-token groups of kc
// values each, gemm_amx_isa.h's layout).
void rows_times_tokens(int64_t kc, const AmxPasses& passes, const uint16_t* const* w, int a_parts, const uint16_t* a,
                       int64_t a_part, int64_t n_cols, float* c) {
  for (int64_t j0 = 0; j0 < n_cols; j0 += 32) {
    const uint16_t* at[kAmxMaxParts];
    for (int p = 0; p < a_parts; ++p) at[p] = a + p * a_part + j0 * kc;
    gemm_amx_tile_32x32(kc, passes, w, kc, at, 16 * kc, c + j0, n_cols, 0);
  }
}

}  // namespace

void attention_full_amx(float* out, const float* q, const float* k, const float* v, int64_t n_tokens, int64_t n_kv,
                        int64_t n_head, int64_t head_dim) {
  static const AmxPasses score_passes = gemm_amx_passes(kScoreParts, kScoreParts);
  static const AmxPasses value_passes = gemm_amx_passes(kValueParts, kValueParts);
  const int64_t D = head_dim, row_stride = n_head * head_dim;
  const int64_t d_pad = round_up(D, 32), kv_pad = round_up(n_kv, 32);
  const float scale = float(1.0 / std::sqrt(double(D)));
  const int64_t k_part = n_head * kv_pad * d_pad, v_part = n_head * d_pad * kv_pad;
  // The caller's buffers, shared by the team: per head K [kv_pad / 16][16 d_pad], V [d_pad / 16][16 kv_pad].
  uint16_t* const ks = t_ks.get<uint16_t>(static_cast<size_t>(kScoreParts * k_part));
  uint16_t* const vs = t_vs.get<uint16_t>(static_cast<size_t>(kValueParts * v_part));
  const int64_t n_qblocks = (n_tokens + kQueries - 1) / kQueries;
#pragma omp parallel
  {
#pragma omp for schedule(static)
    for (int64_t hg = 0; hg < n_head * (kv_pad / 16); ++hg) {
      const int64_t h = hg / (kv_pad / 16), j0 = hg % (kv_pad / 16) * 16;
      const float* rows[16];
      for (int64_t t = 0; t < 16; ++t) rows[t] = j0 + t < n_kv ? k + (j0 + t) * row_stride + h * D : nullptr;
      uint16_t* dst[kScoreParts];
      for (int p = 0; p < kScoreParts; ++p) dst[p] = ks + p * k_part + (h * kv_pad + j0) * d_pad;
      gemm_amx_split_group(rows, d_pad, D, kScoreParts, dst);
    }
#pragma omp for schedule(static)
    for (int64_t hg = 0; hg < n_head * (d_pad / 16); ++hg) {
      const int64_t h = hg / (d_pad / 16), i0 = hg % (d_pad / 16) * 16;
      uint16_t* dst[kValueParts];
      for (int p = 0; p < kValueParts; ++p) dst[p] = vs + p * v_part + (h * d_pad + i0) * kv_pad;
      gemm_amx_split_pairs(v + h * D + i0, row_stride, std::clamp<int64_t>(D - i0, 0, 16), kv_pad, n_kv, kValueParts,
                           dst);
    }
    std::vector<float> row(static_cast<size_t>(d_pad), 0.0f);                       // one query, zero-padded
    float* const s = t_s.get<float>(static_cast<size_t>(kQueries * kv_pad));         // S, then P
    float* const o = t_o.get<float>(static_cast<size_t>(kQueries * d_pad));
    uint16_t* const qs = t_qs.get<uint16_t>(static_cast<size_t>(kScoreParts * kQueries * d_pad));
    uint16_t* const ps = t_ps.get<uint16_t>(static_cast<size_t>(kValueParts * kQueries * kv_pad));
    gemm_amx_configure_tiles();
#pragma omp for schedule(static)
    for (int64_t piece = 0; piece < n_head * n_qblocks; ++piece) {  // head-major: one head's K, V stay in cache
      const int64_t h = piece / n_qblocks, t0 = piece % n_qblocks * kQueries;
      const int64_t rows = std::min(kQueries, n_tokens - t0);
      for (int64_t r = 0; r < kQueries; ++r) {  // rows past the last query: zeros, so S and P rows of zeros
        if (r < rows) std::copy_n(q + (t0 + r) * row_stride + h * D, D, row.data());
        else std::fill_n(row.data(), D, 0.0f);
        uint16_t* dst[kScoreParts];
        for (int p = 0; p < kScoreParts; ++p) dst[p] = qs + (p * kQueries + r) * d_pad;
        gemm_amx_split_row(row.data(), d_pad, kScoreParts, dst);
      }
      const uint16_t* qw[kScoreParts];
      for (int p = 0; p < kScoreParts; ++p) qw[p] = qs + p * kQueries * d_pad;
      rows_times_tokens(d_pad, score_passes, qw, kScoreParts, ks + h * kv_pad * d_pad, k_part, kv_pad, s);
      for (int64_t r = 0; r < kQueries; ++r) {
        float* sr = s + r * kv_pad;
        if (r < rows) softmax_row_avx512(sr, sr, nullptr, scale, n_kv);
        std::fill(sr + n_kv, sr + kv_pad, 0.0f);
        uint16_t* dst[kValueParts];
        for (int p = 0; p < kValueParts; ++p) dst[p] = ps + (p * kQueries + r) * kv_pad;
        gemm_amx_split_row(sr, kv_pad, kValueParts, dst);
      }
      const uint16_t* pw[kValueParts];
      for (int p = 0; p < kValueParts; ++p) pw[p] = ps + p * kQueries * kv_pad;
      rows_times_tokens(kv_pad, value_passes, pw, kValueParts, vs + h * d_pad * kv_pad, v_part, d_pad, o);
      for (int64_t r = 0; r < rows; ++r) std::copy_n(o + r * d_pad, D, out + (t0 + r) * row_stride + h * D);
    }
    gemm_amx_release_tiles();
  }
}

}  // namespace aigc
