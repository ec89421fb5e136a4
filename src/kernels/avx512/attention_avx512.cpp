// AVX-512 attention: one output row (query, head), or the query heads that
// share a KV head, over F32 or F16 keys/values.
//
// Scores are computed eight keys at a time (eight independent FMA chains,
// reduced together by a transpose of horizontal adds); the weighted sum of
// values keeps up to 128 output floats in registers while it walks the keys.
// Head sizes 64 and 128 take the grouped kernel (one head is a group of one):
// q in registers, no tails.
#include "kernels/attention_isa.h"
#include "kernels/avx512/ops_math_avx512.h"

namespace aigc {
namespace {

constexpr int64_t kKeyBlockAvx512 = 8;   // keys per score block
constexpr int64_t kOutVecsAvx512 = 8;    // output vectors kept in registers

__m512 load_kv_avx512(const float* p, int64_t r) {
  return r == kLanesAvx512 ? _mm512_loadu_ps(p) : load_tail_avx512(p, r);
}

__m512 load_kv_avx512(const uint16_t* p, int64_t r) {
  if (r == kLanesAvx512) return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  alignas(32) uint16_t tail[kLanesAvx512] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  for (int64_t i = 0; i < r; ++i) tail[i] = p[i];
  return _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(tail)));
}

// (sum(a0), sum(a1), ..., sum(a7)) as one 8-lane vector: each folded to
// 8 lanes, then the AVX2 transpose of horizontal adds.
__m256 hsum8_avx512(const __m512* a) {
  __m256 h[8];
  for (int b = 0; b < 8; ++b) h[b] = _mm256_add_ps(_mm512_extractf32x8_ps(a[b], 0), _mm512_extractf32x8_ps(a[b], 1));
  const __m256 u = _mm256_hadd_ps(_mm256_hadd_ps(h[0], h[1]), _mm256_hadd_ps(h[2], h[3]));
  const __m256 w = _mm256_hadd_ps(_mm256_hadd_ps(h[4], h[5]), _mm256_hadd_ps(h[6], h[7]));
  return _mm256_add_ps(_mm256_permute2f128_ps(u, w, 0x20), _mm256_permute2f128_ps(u, w, 0x31));
}

// scores[j] = scale * q . k_j for j < n_kv; returns their maximum.
template <class T>
float scores_avx512(float* scores, const float* q, const T* k, int64_t kv_stride, int64_t n_kv, int64_t d,
                  float scale) {
  __m256 vmax = _mm256_set1_ps(-__builtin_inff());
  int64_t j = 0;
  for (; j + kKeyBlockAvx512 <= n_kv; j += kKeyBlockAvx512) {
    __m512 acc[kKeyBlockAvx512];
    for (int64_t b = 0; b < kKeyBlockAvx512; ++b) acc[b] = _mm512_setzero_ps();
    for (int64_t i = 0; i < d; i += kLanesAvx512) {
      const int64_t r = d - i < kLanesAvx512 ? d - i : kLanesAvx512;
      const __m512 qv = load_tail_avx512(q + i, r);
      for (int64_t b = 0; b < kKeyBlockAvx512; ++b) {
        acc[b] = _mm512_fmadd_ps(qv, load_kv_avx512(k + (j + b) * kv_stride + i, r), acc[b]);
      }
    }
    const __m256 s = _mm256_mul_ps(hsum8_avx512(acc), _mm256_set1_ps(scale));
    _mm256_storeu_ps(scores + j, s);
    vmax = _mm256_max_ps(vmax, s);
  }
  float max_s = hmax_avx512(_mm512_insertf32x8(_mm512_set1_ps(-__builtin_inff()), vmax, 0));
  for (; j < n_kv; ++j) {
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < d; i += kLanesAvx512) {
      const int64_t r = d - i < kLanesAvx512 ? d - i : kLanesAvx512;
      acc = _mm512_fmadd_ps(load_tail_avx512(q + i, r), load_kv_avx512(k + j * kv_stride + i, r), acc);
    }
    scores[j] = hsum_avx512(acc) * scale;
    max_s = scores[j] > max_s ? scores[j] : max_s;
  }
  return max_s;
}

// out[0, 16 NV) (clipped to d) = sum_j p[j] v_j[0, 16 NV), accumulated in registers.
template <int NV, class T>
void weighted_sum_avx512(float* out, const float* p, const T* v, int64_t kv_stride, int64_t n_kv, int64_t d) {
  __m512 acc[NV];
  for (int c = 0; c < NV; ++c) acc[c] = _mm512_setzero_ps();
  const int64_t last_r = d - (NV - 1) * kLanesAvx512;  // lanes of the last vector, 1..16
  for (int64_t j = 0; j < n_kv; ++j) {
    const __m512 pj = _mm512_set1_ps(p[j]);
    const T* vj = v + j * kv_stride;
    for (int c = 0; c < NV - 1; ++c)
      acc[c] = _mm512_fmadd_ps(pj, load_kv_avx512(vj + c * kLanesAvx512, kLanesAvx512), acc[c]);
    acc[NV - 1] = _mm512_fmadd_ps(pj, load_kv_avx512(vj + (NV - 1) * kLanesAvx512, last_r), acc[NV - 1]);
  }
  for (int c = 0; c < NV - 1; ++c) _mm512_storeu_ps(out + c * kLanesAvx512, acc[c]);
  store_tail_avx512(out + (NV - 1) * kLanesAvx512, last_r, acc[NV - 1]);
}

// scores[j] = exp(scores[j] - max_s) / sum over j < n_kv.
void softmax_scores_avx512(float* scores, int64_t n_kv, float max_s) {
  const __m512 vmax = _mm512_set1_ps(max_s);
  __m512 vsum = _mm512_setzero_ps();
  for (int64_t j = 0; j < n_kv; j += kLanesAvx512) {
    const int64_t r = n_kv - j < kLanesAvx512 ? n_kv - j : kLanesAvx512;
    const __m512 e =
        _mm512_maskz_mov_ps(tail_mask_avx512(r), exp_avx512(_mm512_sub_ps(load_tail_avx512(scores + j, r), vmax)));
    store_tail_avx512(scores + j, r, e);
    vsum = _mm512_add_ps(vsum, e);
  }
  const __m512 inv = _mm512_set1_ps(1.0f / hsum_avx512(vsum));
  for (int64_t j = 0; j < n_kv; j += kLanesAvx512) {
    const int64_t r = n_kv - j < kLanesAvx512 ? n_kv - j : kLanesAvx512;
    store_tail_avx512(scores + j, r, _mm512_mul_ps(load_tail_avx512(scores + j, r), inv));
  }
}

// Rows [j0, j1) of keys or values as F32 rows d apart: in place for F32,
// converted into buf for F16.
template <int64_t d>
const float* kv_rows_avx512(const float* base, int64_t kv_stride, int64_t j0, int64_t, float*, int64_t& stride) {
  stride = kv_stride;
  return base + j0 * kv_stride;
}
template <int64_t d>
const float* kv_rows_avx512(const uint16_t* base, int64_t kv_stride, int64_t j0, int64_t j1, float* buf,
                            int64_t& stride) {
  for (int64_t j = j0; j < j1; ++j)
    for (int64_t i = 0; i < d; i += kLanesAvx512)
      _mm512_storeu_ps(buf + (j - j0) * d + i, load_kv_avx512(base + j * kv_stride + i, kLanesAvx512));
  stride = d;
  return buf;
}

// attention_heads_avx512 for d = 16 NV. Keys and values are walked in
// blocks that stay in L1 (converted once per block for F16), each block met
// by every head before the next, instead of one head at a time re-reading
// (and re-converting) them all. Per head, the same operations in the same
// order as the general row loop (scores_avx512, weighted_sum_avx512).
template <int NV, class T>
void attention_heads_whole_avx512(float* out, const float* q, int64_t n_heads, const T* k, const T* v,
                                  int64_t kv_stride, int64_t n_kv, float scale, float* scores) {
  constexpr int64_t d = NV * kLanesAvx512;
  constexpr int64_t kValueBlock = 16;  // keys per block of the weighted sum
  alignas(64) float buf[kValueBlock * d];
  float max_s[kAttentionMaxHeads];
  for (int64_t h = 0; h < n_heads; ++h) max_s[h] = -__builtin_inff();
  int64_t j = 0, ks = 0;
  for (; j + kKeyBlockAvx512 <= n_kv; j += kKeyBlockAvx512) {
    const float* kr = kv_rows_avx512<d>(k, kv_stride, j, j + kKeyBlockAvx512, buf, ks);
    for (int64_t h = 0; h < n_heads; ++h) {
      const float* qh = q + h * d;
      __m512 acc[kKeyBlockAvx512];
      for (int64_t b = 0; b < kKeyBlockAvx512; ++b) {
        const float* kb = kr + b * ks;
        acc[b] = _mm512_mul_ps(_mm512_loadu_ps(qh), _mm512_loadu_ps(kb));
        for (int c = 1; c < NV; ++c)
          acc[b] = _mm512_fmadd_ps(_mm512_loadu_ps(qh + c * kLanesAvx512), _mm512_loadu_ps(kb + c * kLanesAvx512), acc[b]);
      }
      const __m256 sv = _mm256_mul_ps(hsum8_avx512(acc), _mm256_set1_ps(scale));
      _mm256_storeu_ps(scores + h * n_kv + j, sv);
      const float m = hmax_avx512(_mm512_insertf32x8(_mm512_set1_ps(-__builtin_inff()), sv, 0));
      max_s[h] = m > max_s[h] ? m : max_s[h];
    }
  }
  for (; j < n_kv; ++j) {
    const float* kj = kv_rows_avx512<d>(k, kv_stride, j, j + 1, buf, ks);
    for (int64_t h = 0; h < n_heads; ++h) {
      const float* qh = q + h * d;
      __m512 acc = _mm512_mul_ps(_mm512_loadu_ps(qh), _mm512_loadu_ps(kj));
      for (int c = 1; c < NV; ++c)
        acc = _mm512_fmadd_ps(_mm512_loadu_ps(qh + c * kLanesAvx512), _mm512_loadu_ps(kj + c * kLanesAvx512), acc);
      const float sj = hsum_avx512(acc) * scale;
      scores[h * n_kv + j] = sj;
      max_s[h] = sj > max_s[h] ? sj : max_s[h];
    }
  }
  for (int64_t h = 0; h < n_heads; ++h) softmax_scores_avx512(scores + h * n_kv, n_kv, max_s[h]);
  for (int64_t h = 0; h < n_heads; ++h)
    for (int c = 0; c < NV; ++c) _mm512_storeu_ps(out + h * d + c * kLanesAvx512, _mm512_setzero_ps());
  for (int64_t j0 = 0; j0 < n_kv; j0 += kValueBlock) {
    const int64_t j1 = j0 + kValueBlock < n_kv ? j0 + kValueBlock : n_kv;
    int64_t vs = 0;
    const float* vr = kv_rows_avx512<d>(v, kv_stride, j0, j1, buf, vs);
    for (int64_t h = 0; h < n_heads; ++h) {
      const float* p = scores + h * n_kv;
      __m512 acc[NV];
      for (int c = 0; c < NV; ++c) acc[c] = _mm512_loadu_ps(out + h * d + c * kLanesAvx512);
      for (int64_t jj = j0; jj < j1; ++jj) {
        const __m512 pj = _mm512_set1_ps(p[jj]);
        const float* vj = vr + (jj - j0) * vs;
        for (int c = 0; c < NV; ++c) acc[c] = _mm512_fmadd_ps(pj, _mm512_loadu_ps(vj + c * kLanesAvx512), acc[c]);
      }
      for (int c = 0; c < NV; ++c) _mm512_storeu_ps(out + h * d + c * kLanesAvx512, acc[c]);
    }
  }
}

// attention_heads_avx512_takes(n_heads, d) must hold.
template <class T>
void attention_heads_avx512(float* out, const float* q, int64_t n_heads, const T* k, const T* v, int64_t kv_stride,
                            int64_t n_kv, int64_t d, float scale, float* scores) {
  if (d == 64) {
    attention_heads_whole_avx512<4>(out, q, n_heads, k, v, kv_stride, n_kv, scale, scores);
  } else {
    attention_heads_whole_avx512<8>(out, q, n_heads, k, v, kv_stride, n_kv, scale, scores);
  }
}

template <class T>
void attention_row_avx512(float* out, const float* q, const T* k, const T* v, int64_t kv_stride, int64_t n_kv,
                        int64_t d, float scale, float* scores) {
  if (attention_heads_avx512_takes(1, d)) {  // q in registers, no tails
    attention_heads_avx512(out, q, 1, k, v, kv_stride, n_kv, d, scale, scores);
    return;
  }
  softmax_scores_avx512(scores, n_kv, scores_avx512(scores, q, k, kv_stride, n_kv, d, scale));
  // out = sum_j scores[j] v_j, up to kOutVecsAvx512 vectors of the row at a time
  for (int64_t i = 0; i < d; i += kOutVecsAvx512 * kLanesAvx512) {
    const int64_t rest = d - i;
    const int64_t nv =
        rest >= kOutVecsAvx512 * kLanesAvx512 ? kOutVecsAvx512 : (rest + kLanesAvx512 - 1) / kLanesAvx512;
    switch (nv) {
      case 1: weighted_sum_avx512<1>(out + i, scores, v + i, kv_stride, n_kv, rest); break;
      case 2: weighted_sum_avx512<2>(out + i, scores, v + i, kv_stride, n_kv, rest); break;
      case 3: weighted_sum_avx512<3>(out + i, scores, v + i, kv_stride, n_kv, rest); break;
      case 4: weighted_sum_avx512<4>(out + i, scores, v + i, kv_stride, n_kv, rest); break;
      case 5: weighted_sum_avx512<5>(out + i, scores, v + i, kv_stride, n_kv, rest); break;
      case 6: weighted_sum_avx512<6>(out + i, scores, v + i, kv_stride, n_kv, rest); break;
      case 7: weighted_sum_avx512<7>(out + i, scores, v + i, kv_stride, n_kv, rest); break;
      default:
        weighted_sum_avx512<8>(out + i, scores, v + i, kv_stride, n_kv,
                               rest < kOutVecsAvx512 * kLanesAvx512 ? rest : kOutVecsAvx512 * kLanesAvx512);
        break;
    }
  }
}

}  // namespace

void attention_heads_f32_avx512(float* out, const float* q, int64_t n_heads, const float* k, const float* v,
                                int64_t kv_stride, int64_t n_kv, int64_t d, float scale, float* scores) {
  attention_heads_avx512(out, q, n_heads, k, v, kv_stride, n_kv, d, scale, scores);
}

void attention_heads_f16_avx512(float* out, const float* q, int64_t n_heads, const uint16_t* k, const uint16_t* v,
                                int64_t kv_stride, int64_t n_kv, int64_t d, float scale, float* scores) {
  attention_heads_avx512(out, q, n_heads, k, v, kv_stride, n_kv, d, scale, scores);
}

void attention_row_f32_avx512(float* out, const float* q, const float* k, const float* v, int64_t kv_stride,
                            int64_t n_kv, int64_t d, float scale, float* scores) {
  attention_row_avx512(out, q, k, v, kv_stride, n_kv, d, scale, scores);
}

void attention_row_f16_avx512(float* out, const float* q, const uint16_t* k, const uint16_t* v, int64_t kv_stride,
                            int64_t n_kv, int64_t d, float scale, float* scores) {
  attention_row_avx512(out, q, k, v, kv_stride, n_kv, d, scale, scores);
}

}  // namespace aigc
