// Scaled dot-product attention: scalar reference and dispatch.
#include "kernels/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/assert.h"
#include "core/cpu_features.h"
#include "core/fp16.h"
#include "kernels/attention_amx.h"
#include "kernels/attention_gemm.h"
#include "kernels/attention_isa.h"
#include "kernels/scratch.h"

namespace aigc {

namespace {

// The rows' layout: query t, head h reads keys k + (h / heads_per_kv) * D
// + j * kv_stride for j < n_kv(t), where n_kv(t) = pos[t] + 1 (causal) or
// n_kv (pos null). Element offsets, not bytes.
struct AttentionShape {
  DType kv_type;
  const int32_t* pos;
  int64_t n_kv;
  int64_t n_tokens, n_head, heads_per_kv, head_dim, kv_stride;
  int64_t rows_of(int64_t t) const { return pos ? int64_t(pos[t]) + 1 : n_kv; }
};

float kv_at(const void* base, DType type, int64_t i) {
  return type == DType::F16 ? fp16_to_fp32(static_cast<const uint16_t*>(base)[i]) : static_cast<const float*>(base)[i];
}

const void* kv_offset(const void* base, DType type, int64_t elements) {
  return static_cast<const char*>(base) + elements * (type == DType::F16 ? 2 : 4);
}

// One output row, as the math reads (attention.h).
void attend_row_ref(float* out, const float* q, const void* k, const void* v, DType type, int64_t kv_stride,
                    int64_t n_kv, int64_t d) {
  const double scale = 1.0 / std::sqrt(double(d));
  std::vector<double> s(static_cast<size_t>(n_kv));
  double max_s = -INFINITY;
  for (int64_t j = 0; j < n_kv; ++j) {
    double dot = 0.0;
    for (int64_t i = 0; i < d; ++i) dot += double(q[i]) * kv_at(k, type, j * kv_stride + i);
    s[j] = dot * scale;
    max_s = std::max(max_s, s[j]);
  }
  double sum = 0.0;
  for (int64_t j = 0; j < n_kv; ++j) {
    s[j] = std::exp(s[j] - max_s);
    sum += s[j];
  }
  for (int64_t i = 0; i < d; ++i) {
    double acc = 0.0;
    for (int64_t j = 0; j < n_kv; ++j) acc += s[j] * kv_at(v, type, j * kv_stride + i);
    out[i] = float(acc / sum);
  }
}

void attention_ref(float* out, const float* q, const void* k, const void* v, const AttentionShape& a) {
  for (int64_t t = 0; t < a.n_tokens; ++t) {
    for (int64_t h = 0; h < a.n_head; ++h) {
      const int64_t row = (t * a.n_head + h) * a.head_dim;
      const int64_t kv_col = (h / a.heads_per_kv) * a.head_dim;
      attend_row_ref(out + row, q + row, kv_offset(k, a.kv_type, kv_col), kv_offset(v, a.kv_type, kv_col), a.kv_type,
                     a.kv_stride, a.rows_of(t), a.head_dim);
    }
  }
}

thread_local ScratchBuffer t_scores;  // each thread's: its heads' scores

// Grouped-query attention on AVX-512: each (KV head, token) runs all the
// query heads that read that KV head together (attention_heads_*_avx512),
// each key and value read and converted once for all of them, where one head
// at a time read them again per head (8 times for TinyLlama's 32 / 4
// heads). Same results as the row kernels.
void attention_grouped_avx512(float* out, const float* q, const void* k, const void* v, const AttentionShape& a,
                              int64_t max_rows, float scale) {
  const int64_t d = a.head_dim, n_kv_heads = a.n_head / a.heads_per_kv;
#pragma omp parallel
  {
    float* scores = t_scores.get<float>(size_t(max_rows * a.heads_per_kv));
#pragma omp for collapse(2) schedule(static)
    for (int64_t g = 0; g < n_kv_heads; ++g) {
      for (int64_t t = 0; t < a.n_tokens; ++t) {
        const int64_t first = (t * a.n_head + g * a.heads_per_kv) * d, n = a.rows_of(t);
        const void* kh = kv_offset(k, a.kv_type, g * d);
        const void* vh = kv_offset(v, a.kv_type, g * d);
        if (a.kv_type == DType::F16) {
          attention_heads_f16_avx512(out + first, q + first, a.heads_per_kv, static_cast<const uint16_t*>(kh),
                                     static_cast<const uint16_t*>(vh), a.kv_stride, n, d, scale, scores);
        } else {
          attention_heads_f32_avx512(out + first, q + first, a.heads_per_kv, static_cast<const float*>(kh),
                                     static_cast<const float*>(vh), a.kv_stride, n, d, scale, scores);
        }
      }
    }
  }
}

void attention_dispatch(float* out, const float* q, const void* k, const void* v, const AttentionShape& a,
                        int64_t max_rows) {
  const Isa isa = active_isa();
  const float scale = float(1.0 / std::sqrt(double(a.head_dim)));
  const bool f16 = a.kv_type == DType::F16;
  if (isa == Isa::kAvx512 && a.heads_per_kv > 1 && attention_heads_avx512_takes(a.heads_per_kv, a.head_dim)) {
    attention_grouped_avx512(out, q, k, v, a, max_rows, scale);
    return;
  }
#pragma omp parallel
  {
    std::vector<float> scores(static_cast<size_t>(max_rows));
    // Head-major order: a thread's consecutive rows share one head's keys and values in cache.
#pragma omp for collapse(2) schedule(static)
    for (int64_t h = 0; h < a.n_head; ++h) {
      for (int64_t t = 0; t < a.n_tokens; ++t) {
        const int64_t row = (t * a.n_head + h) * a.head_dim;
        const int64_t kv_col = (h / a.heads_per_kv) * a.head_dim;
        const void* kh = kv_offset(k, a.kv_type, kv_col);
        const void* vh = kv_offset(v, a.kv_type, kv_col);
        const int64_t n = a.rows_of(t);
        const int64_t d = a.head_dim, st = a.kv_stride;
        if (isa == Isa::kAvx512 && f16) {
          attention_row_f16_avx512(out + row, q + row, static_cast<const uint16_t*>(kh),
                                   static_cast<const uint16_t*>(vh), st, n, d, scale, scores.data());
        } else if (isa == Isa::kAvx512) {
          attention_row_f32_avx512(out + row, q + row, static_cast<const float*>(kh), static_cast<const float*>(vh),
                                   st, n, d, scale, scores.data());
        } else if (isa == Isa::kAvx2 && f16) {
          attention_row_f16_avx2(out + row, q + row, static_cast<const uint16_t*>(kh),
                                 static_cast<const uint16_t*>(vh), st, n, d, scale, scores.data());
        } else if (isa == Isa::kAvx2) {
          attention_row_f32_avx2(out + row, q + row, static_cast<const float*>(kh), static_cast<const float*>(vh), st,
                                 n, d, scale, scores.data());
        } else {
          attend_row_ref(out + row, q + row, kh, vh, a.kv_type, st, n, d);
        }
      }
    }
  }
}

AttentionShape cached_shape(DType cache_type, const int32_t* pos, int64_t n_tokens, int64_t n_head, int64_t n_head_kv,
                            int64_t head_dim, int64_t n_ctx) {
  AIGC_ASSERT(cache_type == DType::F32 || cache_type == DType::F16);
  AIGC_ASSERT(n_head_kv > 0 && n_head % n_head_kv == 0);
  for (int64_t t = 0; t < n_tokens; ++t) AIGC_ASSERT(pos[t] >= 0 && pos[t] < n_ctx);
  return {cache_type, pos, 0, n_tokens, n_head, n_head / n_head_kv, head_dim, n_head_kv * head_dim};
}

int64_t max_rows_of(const int32_t* pos, int64_t n_tokens) {
  int64_t m = 0;
  for (int64_t t = 0; t < n_tokens; ++t) m = std::max(m, int64_t(pos[t]) + 1);
  return m;
}

}  // namespace

void attention_cached_ref(float* out, const float* q, const void* k_cache, const void* v_cache, DType cache_type,
                          const int32_t* pos, int64_t n_tokens, int64_t n_head, int64_t n_head_kv, int64_t head_dim,
                          int64_t n_ctx) {
  attention_ref(out, q, k_cache, v_cache,
                cached_shape(cache_type, pos, n_tokens, n_head, n_head_kv, head_dim, n_ctx));
}

void attention_cached(float* out, const float* q, const void* k_cache, const void* v_cache, DType cache_type,
                      const int32_t* pos, int64_t n_tokens, int64_t n_head, int64_t n_head_kv, int64_t head_dim,
                      int64_t n_ctx) {
  attention_dispatch(out, q, k_cache, v_cache,
                     cached_shape(cache_type, pos, n_tokens, n_head, n_head_kv, head_dim, n_ctx),
                     max_rows_of(pos, n_tokens));
}

void attention_full_ref(float* out, const float* q, const float* k, const float* v, int64_t n_tokens, int64_t n_kv,
                        int64_t n_head, int64_t head_dim) {
  attention_ref(out, q, k, v, {DType::F32, nullptr, n_kv, n_tokens, n_head, 1, head_dim, n_head * head_dim});
}

void attention_full(float* out, const float* q, const float* k, const float* v, int64_t n_tokens, int64_t n_kv,
                    int64_t n_head, int64_t head_dim) {
  const Isa isa = active_isa();
  if (amx_usable()) {
    attention_full_amx(out, q, k, v, n_tokens, n_kv, n_head, head_dim);
    return;
  }
  if (isa != Isa::kScalar) {
    attention_full_gemm(out, q, k, v, n_tokens, n_kv, n_head, head_dim, isa);
    return;
  }
  attention_dispatch(out, q, k, v, {DType::F32, nullptr, n_kv, n_tokens, n_head, 1, head_dim, n_head * head_dim},
                     n_kv);
}

}  // namespace aigc
