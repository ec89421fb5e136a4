// Scalar reference (de)quantization and dot products of the GGUF block types,
// bit-exact with ggml's reference code (see quants_ref.h for the contract).
//
// Legend: n = elements in a row; nb = blocks in the row; d, m/dmin = block
// scale and offset; q = integer quants; L = quants during the search.
#include "core/quants_ref.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/assert.h"
#include "core/fp16.h"
#include "core/quant_blocks.h"

namespace aigc {

namespace {

constexpr float kGroupMaxEps = 1e-15f;  // ggml's GROUP_MAX_EPS: an all-zero group

int64_t blocks_of(int64_t n, int64_t block_size) {
  AIGC_ASSERT(n >= 0 && n % block_size == 0);
  return n / block_size;
}

// The C conversion float -> integer (truncation toward zero) that ggml's
// legacy quantizers use as (int8_t)(v + 8.5f).
int trunc_to_int(float v) { return static_cast<int>(v); }

// ---- 32-element blocks: shared pieces -------------------------------------

// amax and the element that has it (first one on ties), as Q4_0/Q5_0 search.
float signed_absmax(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void min_max(const float* x, int n, float* min, float* max) {
  *min = std::numeric_limits<float>::max();
  *max = -std::numeric_limits<float>::max();
  for (int j = 0; j < n; ++j) {
    if (x[j] < *min) *min = x[j];
    if (x[j] > *max) *max = x[j];
  }
}

// Packs 32 five-bit quants: low nibbles as Q4 (j, j+16), fifth bits into qh.
void pack_q5(const uint8_t* q, uint8_t* qs, uint8_t* qh_bytes) {
  uint32_t qh = 0;
  for (int j = 0; j < kQK / 2; ++j) {
    qs[j] = uint8_t((q[j] & 0x0F) | ((q[j + kQK / 2] & 0x0F) << 4));
    qh |= uint32_t((q[j] & 0x10u) >> 4) << j;
    qh |= uint32_t((q[j + kQK / 2] & 0x10u) >> 4) << (j + kQK / 2);
  }
  std::memcpy(qh_bytes, &qh, 4);
}

// Unpacks 32 five-bit quants (0..31).
void unpack_q5(const uint8_t* qs, const uint8_t* qh_bytes, int* q) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  for (int j = 0; j < kQK / 2; ++j) {
    q[j] = (qs[j] & 0x0F) | int(((qh >> j) << 4) & 0x10);
    q[j + kQK / 2] = (qs[j] >> 4) | int((qh >> (j + 12)) & 0x10);
  }
}

int dot_i8(const int* q, const int8_t* q8, int n) {
  int sum = 0;
  for (int j = 0; j < n; ++j) sum += q[j] * q8[j];
  return sum;
}

// ---- K types: the searches of ggml's reference quantizers ------------------

// Asymmetric quants 0..nmax with a min, minimising the weighted error over a
// grid of nstep+1 trial scales (ggml's make_qkx2_quants; every caller has
// nstep >= 1). Returns the scale; *the_min receives -min (>= 0).
float make_qkx2_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* the_min,
                       uint8_t* Laux, float rmin, float rdelta, int nstep, bool use_mad) {
  float min = x[0];
  float max = x[0];
  float sum_w = weights[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    const float w = weights[i];
    sum_w += w;
    sum_x += w * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    *the_min = -min;
    return 0.f;
  }
  float iscale = float(nmax) / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    const int l = quant_nearest_int(iscale * (x[i] - min));
    L[i] = uint8_t(std::max(0, std::min(nmax, l)));
    float diff = scale * float(L[i]) + min - x[i];
    diff = use_mad ? std::fabs(diff) : diff * diff;
    best_error += weights[i] * diff;
  }
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * float(is) + float(nmax)) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      int l = quant_nearest_int(iscale * (x[i] - min));
      l = std::max(0, std::min(nmax, l));
      Laux[i] = uint8_t(l);
      const float w = weights[i];
      sum_l += w * float(l);
      sum_l2 += w * float(l) * float(l);
      sum_xl += w * float(l) * x[i];
    }
    const float D = sum_w * sum_l2 - sum_l * sum_l;
    if (D > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
      if (this_min > 0) {
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float cur_error = 0;
      for (int i = 0; i < n; ++i) {
        float diff = this_scale * float(Laux[i]) + this_min - x[i];
        diff = use_mad ? std::fabs(diff) : diff * diff;
        cur_error += weights[i] * diff;
      }
      if (cur_error < best_error) {
        for (int i = 0; i < n; ++i) L[i] = Laux[i];
        best_error = cur_error;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *the_min = -min;
  return scale;
}

// Symmetric quants -nmax..nmax-1 (stored +nmax), weights x^2, 18 trial scales
// around nmax / max (ggml's make_qx_quants with rmse_type 1, no importance).
float make_qx_quants(int n, int nmax, const float* x, int8_t* L) {
  float max = 0;
  float amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.f;
  }
  float iscale = float(-nmax) / max;
  float sumlx = 0;
  float suml2 = 0;
  for (int i = 0; i < n; ++i) {
    int l = quant_nearest_int(iscale * x[i]);
    l = std::max(-nmax, std::min(nmax - 1, l));
    L[i] = int8_t(l + nmax);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * float(l);
    suml2 += w * float(l) * float(l);
  }
  float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(float(nmax) + 0.1f * float(is)) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; ++i) {
      int l = quant_nearest_int(iscale * x[i]);
      l = std::max(-nmax, std::min(nmax - 1, l));
      const float w = x[i] * x[i];
      sumlx += w * x[i] * float(l);
      suml2 += w * float(l) * float(l);
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i) {
        const int l = quant_nearest_int(iscale * x[i]);
        L[i] = int8_t(nmax + std::max(-nmax, std::min(nmax - 1, l)));
      }
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

// Symmetric quants -nmax..nmax-1 (stored +nmax) refined one element at a
// time for up to 5 passes (ggml's make_q3_quants with do_rmse).
float make_q3_quants(int n, int nmax, const float* x, int8_t* L) {
  float max = 0;
  float amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.f;
  }
  const float iscale = float(-nmax) / max;
  float sumlx = 0;
  float suml2 = 0;
  for (int i = 0; i < n; ++i) {
    int l = quant_nearest_int(iscale * x[i]);
    l = std::max(-nmax, std::min(nmax - 1, l));
    L[i] = int8_t(l);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * float(l);
    suml2 += w * float(l) * float(l);
  }
  for (int itry = 0; itry < 5; ++itry) {
    int n_changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = x[i] * x[i];
      float slx = sumlx - w * x[i] * float(L[i]);
      if (slx > 0) {
        float sl2 = suml2 - w * float(L[i]) * float(L[i]);
        int new_l = quant_nearest_int(x[i] * sl2 / slx);
        new_l = std::max(-nmax, std::min(nmax - 1, new_l));
        if (new_l != L[i]) {
          slx += w * x[i] * float(new_l);
          sl2 += w * float(new_l) * float(new_l);
          if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
            L[i] = int8_t(new_l);
            sumlx = slx;
            suml2 = sl2;
            ++n_changed;
          }
        }
      }
    }
    if (n_changed == 0) break;
  }
  for (int i = 0; i < n; ++i) L[i] = int8_t(L[i] + nmax);
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

// Packs 8 six-bit scales and 8 six-bit mins into Q4_K / Q5_K's 12 bytes.
void pack_k4_scales(const uint8_t* ls, const uint8_t* lm, uint8_t* scales) {
  for (int j = 0; j < kQK_K / 32; ++j) {
    if (j < 4) {
      scales[j] = ls[j];
      scales[j + 4] = lm[j];
    } else {
      scales[j + 4] = uint8_t((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
      scales[j - 4] = uint8_t(scales[j - 4] | ((ls[j] >> 4) << 6));
      scales[j] = uint8_t(scales[j] | ((lm[j] >> 4) << 6));
    }
  }
}

// The common part of quantize_row_q4_K_ref / quantize_row_q5_K_ref: per 32
// elements a make_qkx2_quants search, 6-bit scales and mins, then the final
// quants 0..nmax of each element in L.
void quantize_k4_block(const float* x, int nmax, float rmin, int nstep, uint16_t* d_out, uint16_t* dmin_out,
                       uint8_t* scales_out, uint8_t* L) {
  uint8_t Laux[32];
  float weights[32];
  float mins[kQK_K / 32];
  float scales[kQK_K / 32];
  float max_scale = 0;  // scales and mins are >= 0: the min is subtracted
  float max_min = 0;
  for (int j = 0; j < kQK_K / 32; ++j) {
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(x[32 * j + l]);
    scales[j] = make_qkx2_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, rmin, 0.1f, nstep, false);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  uint8_t ls[kQK_K / 32], lm[kQK_K / 32];
  for (int j = 0; j < kQK_K / 32; ++j) {
    ls[j] = std::min<uint8_t>(63, uint8_t(quant_nearest_int(inv_scale * scales[j])));
    lm[j] = std::min<uint8_t>(63, uint8_t(quant_nearest_int(inv_min * mins[j])));
  }
  pack_k4_scales(ls, lm, scales_out);
  *d_out = fp32_to_fp16(max_scale / 63.f);
  *dmin_out = fp32_to_fp16(max_min / 63.f);
  for (int j = 0; j < kQK_K / 32; ++j) {
    uint8_t sc, m;
    k4_scale_min(j, scales_out, &sc, &m);
    const float d = fp16_to_fp32(*d_out) * float(sc);
    if (d == 0) continue;
    const float dm = fp16_to_fp32(*dmin_out) * float(m);
    for (int ii = 0; ii < 32; ++ii) {
      const int l = quant_nearest_int((x[32 * j + ii] + dm) / d);
      L[32 * j + ii] = uint8_t(std::max(0, std::min(nmax, l)));
    }
  }
}

// ---- K types: one super-block decoded to integers --------------------------
//
// Every K type dequantizes as y = (d * scale[g]) * q - (dmin * min[g]) over
// groups g of 16 or 32 elements, with small integer q, scale and min: the
// decoders below produce those integers; dequantize and dot share them.

struct KDecoded {
  int q[kQK_K];          // quant of each element (signed for Q3_K, Q6_K)
  int scale[kQK_K / 16]; // per group
  int min[kQK_K / 16];   // per group (0 for Q3_K, Q6_K)
  int group;             // elements per group: 16 or 32
  float d;
  float dmin;
};

void decode_q2_k(const BlockQ2_K& b, KDecoded* k) {
  k->group = 16;
  k->d = fp16_to_fp32(b.d);
  k->dmin = fp16_to_fp32(b.dmin);
  // Each half of 128 elements uses 32 bytes; element 32*j + l of the half is
  // bits 2j..2j+1 of byte l.
  for (int half = 0; half < 2; ++half)
    for (int j = 0; j < 4; ++j)
      for (int l = 0; l < 32; ++l) k->q[half * 128 + 32 * j + l] = (b.qs[half * 32 + l] >> (2 * j)) & 3;
  for (int g = 0; g < kQK_K / 16; ++g) {
    k->scale[g] = b.scales[g] & 0xF;
    k->min[g] = b.scales[g] >> 4;
  }
}

void decode_q3_k(const BlockQ3_K& b, KDecoded* k) {
  k->group = 16;
  k->d = fp16_to_fp32(b.d);
  k->dmin = 0;
  // Low 2 bits as Q2_K; the high bit of element e is bit e / 32 of hmask[e % 32].
  for (int half = 0; half < 2; ++half) {
    for (int j = 0; j < 4; ++j) {
      for (int l = 0; l < 32; ++l) {
        const int low = (b.qs[half * 32 + l] >> (2 * j)) & 3;
        const int high = (b.hmask[l] >> (4 * half + j)) & 1;
        k->q[half * 128 + 32 * j + l] = low - (high ? 0 : 4);
      }
    }
  }
  int8_t scales[16];
  q3_k_scales(b.scales, scales);
  for (int g = 0; g < kQK_K / 16; ++g) {
    k->scale[g] = scales[g];
    k->min[g] = 0;
  }
}

void decode_q4_k(const BlockQ4_K& b, KDecoded* k) {
  k->group = 32;
  k->d = fp16_to_fp32(b.d);
  k->dmin = fp16_to_fp32(b.dmin);
  // Each 64 elements use 32 bytes: low nibbles are the first 32, high the next.
  for (int chunk = 0; chunk < 4; ++chunk) {
    for (int l = 0; l < 32; ++l) {
      k->q[chunk * 64 + l] = b.qs[chunk * 32 + l] & 0xF;
      k->q[chunk * 64 + 32 + l] = b.qs[chunk * 32 + l] >> 4;
    }
  }
  for (int g = 0; g < kQK_K / 32; ++g) {
    uint8_t sc, m;
    k4_scale_min(g, b.scales, &sc, &m);
    k->scale[g] = sc;
    k->min[g] = m;
  }
}

void decode_q5_k(const BlockQ5_K& b, KDecoded* k) {
  k->group = 32;
  k->d = fp16_to_fp32(b.d);
  k->dmin = fp16_to_fp32(b.dmin);
  // Low 4 bits as Q4_K; the fifth bit of element e is bit e / 32 of qh[e % 32].
  for (int chunk = 0; chunk < 4; ++chunk) {
    for (int l = 0; l < 32; ++l) {
      k->q[chunk * 64 + l] = (b.qs[chunk * 32 + l] & 0xF) + 16 * ((b.qh[l] >> (2 * chunk)) & 1);
      k->q[chunk * 64 + 32 + l] = (b.qs[chunk * 32 + l] >> 4) + 16 * ((b.qh[l] >> (2 * chunk + 1)) & 1);
    }
  }
  for (int g = 0; g < kQK_K / 32; ++g) {
    uint8_t sc, m;
    k4_scale_min(g, b.scales, &sc, &m);
    k->scale[g] = sc;
    k->min[g] = m;
  }
}

void decode_q6_k(const BlockQ6_K& b, KDecoded* k) {
  k->group = 16;
  k->d = fp16_to_fp32(b.d);
  k->dmin = 0;
  // Each half of 128 elements uses 64 ql and 32 qh bytes. Quarter j (32
  // elements): low nibbles of ql[0..32) (j = 0), ql[32..64) (j = 1), then high
  // nibbles (j = 2, 3); its top 2 bits are bits 2j..2j+1 of qh[l].
  for (int half = 0; half < 2; ++half) {
    const uint8_t* ql = b.ql + half * 64;
    const uint8_t* qh = b.qh + half * 32;
    int* q = k->q + half * 128;
    for (int l = 0; l < 32; ++l) {
      q[l] = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
      q[l + 32] = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
      q[l + 64] = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      q[l + 96] = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
    }
  }
  for (int g = 0; g < kQK_K / 16; ++g) {
    k->scale[g] = b.scales[g];
    k->min[g] = 0;
  }
}

template <class Block, void (*decode)(const Block&, KDecoded*)>
void dequantize_k(const void* x, float* y, int64_t n) {
  const Block* b = static_cast<const Block*>(x);
  const int64_t nb = blocks_of(n, kQK_K);
  KDecoded k;
  for (int64_t i = 0; i < nb; ++i) {
    decode(b[i], &k);
    for (int g = 0; g < kQK_K / k.group; ++g) {
      const float dl = k.d * float(k.scale[g]);
      const float ml = k.dmin * float(k.min[g]);
      for (int e = g * k.group; e < (g + 1) * k.group; ++e) y[i * kQK_K + e] = dl * float(k.q[e]) - ml;
    }
  }
}

// sum_i x_i * y_i with x = d*scale[g]*q - dmin*min[g] and y = yd * q8:
// integer sums per super-block (mins through the Q8_K group sums), then float.
template <class Block, void (*decode)(const Block&, KDecoded*)>
float vec_dot_k(int64_t n, const void* vx, const void* vy) {
  const Block* x = static_cast<const Block*>(vx);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(vy);
  const int64_t nb = blocks_of(n, kQK_K);
  KDecoded k;
  float sumf = 0;
  for (int64_t i = 0; i < nb; ++i) {
    decode(x[i], &k);
    int sumi = 0;
    int summ = 0;
    for (int g = 0; g < kQK_K / k.group; ++g) {
      int dot = 0;
      for (int e = g * k.group; e < (g + 1) * k.group; ++e) dot += k.q[e] * y[i].qs[e];
      sumi += k.scale[g] * dot;
      int bsum = 0;
      for (int s = g * k.group / 16; s < (g + 1) * k.group / 16; ++s) bsum += y[i].bsums[s];
      summ += k.min[g] * bsum;
    }
    sumf += k.d * y[i].d * float(sumi) - k.dmin * y[i].d * float(summ);
  }
  return sumf;
}

}  // namespace

int quant_nearest_int(float v) {
  const float val = v + 12582912.f;
  int32_t i;
  std::memcpy(&i, &val, 4);
  return (i & 0x007fffff) - 0x00400000;
}

void k4_scale_min(int j, const uint8_t* q, uint8_t* scale, uint8_t* min) {
  if (j < 4) {
    *scale = q[j] & 63;
    *min = q[j + 4] & 63;
  } else {
    *scale = uint8_t((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *min = uint8_t((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

void q3_k_scales(const uint8_t* packed, int8_t* scales) {
  for (int j = 0; j < 16; ++j) {
    const int low = j < 8 ? (packed[j] & 0xF) : (packed[j - 8] >> 4);
    const int high = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
    scales[j] = int8_t((low | (high << 4)) - 32);
  }
}

// ---- Q4_0 --------------------------------------------------------------------

void dequantize_row_q4_0(const void* x, float* y, int64_t n) {
  const BlockQ4_0* b = static_cast<const BlockQ4_0*>(x);
  const int64_t nb = blocks_of(n, kQK);
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16_to_fp32(b[i].d);
    for (int j = 0; j < kQK / 2; ++j) {
      y[i * kQK + j] = float((b[i].qs[j] & 0x0F) - 8) * d;
      y[i * kQK + j + kQK / 2] = float((b[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void quantize_row_q4_0_ref(const float* x, void* y, int64_t n) {
  BlockQ4_0* b = static_cast<BlockQ4_0*>(y);
  const int64_t nb = blocks_of(n, kQK);
  for (int64_t i = 0; i < nb; ++i) {
    const float* xb = x + i * kQK;
    const float d = signed_absmax(xb, kQK) / -8;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    b[i].d = fp32_to_fp16(d);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = std::min(15, trunc_to_int(xb[j] * id + 8.5f));
      const int q1 = std::min(15, trunc_to_int(xb[j + kQK / 2] * id + 8.5f));
      b[i].qs[j] = uint8_t(q0 | (q1 << 4));
    }
  }
}

float vec_dot_q4_0_q8_0_ref(int64_t n, const void* vx, const void* vy) {
  const BlockQ4_0* x = static_cast<const BlockQ4_0*>(vx);
  const BlockQ8_0* y = static_cast<const BlockQ8_0*>(vy);
  const int64_t nb = blocks_of(n, kQK);
  float sumf = 0;
  for (int64_t i = 0; i < nb; ++i) {
    int q[kQK];
    for (int j = 0; j < kQK / 2; ++j) {
      q[j] = (x[i].qs[j] & 0x0F) - 8;
      q[j + kQK / 2] = (x[i].qs[j] >> 4) - 8;
    }
    sumf += float(dot_i8(q, y[i].qs, kQK)) * fp16_to_fp32(x[i].d) * fp16_to_fp32(y[i].d);
  }
  return sumf;
}

// ---- Q4_1 --------------------------------------------------------------------

void dequantize_row_q4_1(const void* x, float* y, int64_t n) {
  const BlockQ4_1* b = static_cast<const BlockQ4_1*>(x);
  const int64_t nb = blocks_of(n, kQK);
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16_to_fp32(b[i].d);
    const float m = fp16_to_fp32(b[i].m);
    for (int j = 0; j < kQK / 2; ++j) {
      y[i * kQK + j] = float(b[i].qs[j] & 0x0F) * d + m;
      y[i * kQK + j + kQK / 2] = float(b[i].qs[j] >> 4) * d + m;
    }
  }
}

void quantize_row_q4_1_ref(const float* x, void* y, int64_t n) {
  BlockQ4_1* b = static_cast<BlockQ4_1*>(y);
  const int64_t nb = blocks_of(n, kQK);
  for (int64_t i = 0; i < nb; ++i) {
    const float* xb = x + i * kQK;
    float min, max;
    min_max(xb, kQK, &min, &max);
    const float d = (max - min) / 15;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    b[i].d = fp32_to_fp16(d);
    b[i].m = fp32_to_fp16(min);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = std::min(15, trunc_to_int((xb[j] - min) * id + 0.5f));
      const int q1 = std::min(15, trunc_to_int((xb[j + kQK / 2] - min) * id + 0.5f));
      b[i].qs[j] = uint8_t(q0 | (q1 << 4));
    }
  }
}

float vec_dot_q4_1_q8_1_ref(int64_t n, const void* vx, const void* vy) {
  const BlockQ4_1* x = static_cast<const BlockQ4_1*>(vx);
  const BlockQ8_1* y = static_cast<const BlockQ8_1*>(vy);
  const int64_t nb = blocks_of(n, kQK);
  float sumf = 0;
  for (int64_t i = 0; i < nb; ++i) {
    int q[kQK];
    for (int j = 0; j < kQK / 2; ++j) {
      q[j] = x[i].qs[j] & 0x0F;
      q[j + kQK / 2] = x[i].qs[j] >> 4;
    }
    const int sumi = dot_i8(q, y[i].qs, kQK);
    sumf += (fp16_to_fp32(x[i].d) * fp16_to_fp32(y[i].d)) * float(sumi) +
            fp16_to_fp32(x[i].m) * fp16_to_fp32(y[i].s);
  }
  return sumf;
}

// ---- Q5_0 --------------------------------------------------------------------

void dequantize_row_q5_0(const void* x, float* y, int64_t n) {
  const BlockQ5_0* b = static_cast<const BlockQ5_0*>(x);
  const int64_t nb = blocks_of(n, kQK);
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16_to_fp32(b[i].d);
    int q[kQK];
    unpack_q5(b[i].qs, b[i].qh, q);
    for (int j = 0; j < kQK; ++j) y[i * kQK + j] = float(q[j] - 16) * d;
  }
}

void quantize_row_q5_0_ref(const float* x, void* y, int64_t n) {
  BlockQ5_0* b = static_cast<BlockQ5_0*>(y);
  const int64_t nb = blocks_of(n, kQK);
  for (int64_t i = 0; i < nb; ++i) {
    const float* xb = x + i * kQK;
    const float d = signed_absmax(xb, kQK) / -16;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    b[i].d = fp32_to_fp16(d);
    uint8_t q[kQK];
    for (int j = 0; j < kQK; ++j) q[j] = uint8_t(std::min(31, trunc_to_int(xb[j] * id + 16.5f)));
    pack_q5(q, b[i].qs, b[i].qh);
  }
}

float vec_dot_q5_0_q8_0_ref(int64_t n, const void* vx, const void* vy) {
  const BlockQ5_0* x = static_cast<const BlockQ5_0*>(vx);
  const BlockQ8_0* y = static_cast<const BlockQ8_0*>(vy);
  const int64_t nb = blocks_of(n, kQK);
  float sumf = 0;
  for (int64_t i = 0; i < nb; ++i) {
    int q[kQK];
    unpack_q5(x[i].qs, x[i].qh, q);
    for (int j = 0; j < kQK; ++j) q[j] -= 16;
    sumf += (fp16_to_fp32(x[i].d) * fp16_to_fp32(y[i].d)) * float(dot_i8(q, y[i].qs, kQK));
  }
  return sumf;
}

// ---- Q5_1 --------------------------------------------------------------------

void dequantize_row_q5_1(const void* x, float* y, int64_t n) {
  const BlockQ5_1* b = static_cast<const BlockQ5_1*>(x);
  const int64_t nb = blocks_of(n, kQK);
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16_to_fp32(b[i].d);
    const float m = fp16_to_fp32(b[i].m);
    int q[kQK];
    unpack_q5(b[i].qs, b[i].qh, q);
    for (int j = 0; j < kQK; ++j) y[i * kQK + j] = float(q[j]) * d + m;
  }
}

void quantize_row_q5_1_ref(const float* x, void* y, int64_t n) {
  BlockQ5_1* b = static_cast<BlockQ5_1*>(y);
  const int64_t nb = blocks_of(n, kQK);
  for (int64_t i = 0; i < nb; ++i) {
    const float* xb = x + i * kQK;
    float min, max;
    min_max(xb, kQK, &min, &max);
    const float d = (max - min) / 31;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    b[i].d = fp32_to_fp16(d);
    b[i].m = fp32_to_fp16(min);
    uint8_t q[kQK];
    for (int j = 0; j < kQK; ++j) q[j] = uint8_t(trunc_to_int((xb[j] - min) * id + 0.5f));
    pack_q5(q, b[i].qs, b[i].qh);
  }
}

float vec_dot_q5_1_q8_1_ref(int64_t n, const void* vx, const void* vy) {
  const BlockQ5_1* x = static_cast<const BlockQ5_1*>(vx);
  const BlockQ8_1* y = static_cast<const BlockQ8_1*>(vy);
  const int64_t nb = blocks_of(n, kQK);
  float sumf = 0;
  for (int64_t i = 0; i < nb; ++i) {
    int q[kQK];
    unpack_q5(x[i].qs, x[i].qh, q);
    const int sumi = dot_i8(q, y[i].qs, kQK);
    sumf += (fp16_to_fp32(x[i].d) * fp16_to_fp32(y[i].d)) * float(sumi) +
            fp16_to_fp32(x[i].m) * fp16_to_fp32(y[i].s);
  }
  return sumf;
}

// ---- Q8_0 --------------------------------------------------------------------

void dequantize_row_q8_0(const void* x, float* y, int64_t n) {
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(x);
  const int64_t nb = blocks_of(n, kQK);
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16_to_fp32(b[i].d);
    for (int j = 0; j < kQK; ++j) y[i * kQK + j] = float(b[i].qs[j]) * d;
  }
}

void quantize_row_q8_0_ref(const float* x, void* y, int64_t n) {
  BlockQ8_0* b = static_cast<BlockQ8_0*>(y);
  const int64_t nb = blocks_of(n, kQK);
  for (int64_t i = 0; i < nb; ++i) {
    const float* xb = x + i * kQK;
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(xb[j]));
    const float d = amax / 127;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    b[i].d = fp32_to_fp16(d);
    for (int j = 0; j < kQK; ++j) b[i].qs[j] = int8_t(std::round(xb[j] * id));
  }
}

float vec_dot_q8_0_q8_0_ref(int64_t n, const void* vx, const void* vy) {
  const BlockQ8_0* x = static_cast<const BlockQ8_0*>(vx);
  const BlockQ8_0* y = static_cast<const BlockQ8_0*>(vy);
  const int64_t nb = blocks_of(n, kQK);
  float sumf = 0;
  for (int64_t i = 0; i < nb; ++i) {
    int sumi = 0;
    for (int j = 0; j < kQK; ++j) sumi += x[i].qs[j] * y[i].qs[j];
    sumf += float(sumi) * (fp16_to_fp32(x[i].d) * fp16_to_fp32(y[i].d));
  }
  return sumf;
}

// ---- Q8_1 --------------------------------------------------------------------

void dequantize_row_q8_1(const void* x, float* y, int64_t n) {
  const BlockQ8_1* b = static_cast<const BlockQ8_1*>(x);
  const int64_t nb = blocks_of(n, kQK);
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16_to_fp32(b[i].d);
    for (int j = 0; j < kQK; ++j) y[i * kQK + j] = float(b[i].qs[j]) * d;
  }
}

void quantize_row_q8_1_ref(const float* x, void* y, int64_t n) {
  BlockQ8_1* b = static_cast<BlockQ8_1*>(y);
  const int64_t nb = blocks_of(n, kQK);
  for (int64_t i = 0; i < nb; ++i) {
    const float* xb = x + i * kQK;
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(xb[j]));
    const float d = amax / 127;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    b[i].d = fp32_to_fp16(d);
    int sum = 0;
    for (int j = 0; j < kQK; ++j) {
      b[i].qs[j] = int8_t(std::round(xb[j] * id));
      sum += b[i].qs[j];
    }
    b[i].s = fp32_to_fp16(float(sum) * d);
  }
}

// ---- Q2_K --------------------------------------------------------------------

void dequantize_row_q2_k(const void* x, float* y, int64_t n) { dequantize_k<BlockQ2_K, decode_q2_k>(x, y, n); }

void quantize_row_q2_k_ref(const float* x, void* y, int64_t n) {
  BlockQ2_K* b = static_cast<BlockQ2_K*>(y);
  const int64_t nb = blocks_of(n, kQK_K);
  constexpr float kQ4Scale = 15.f;
  for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
    uint8_t L[kQK_K];
    uint8_t Laux[16];
    float weights[16];
    float mins[kQK_K / 16];
    float scales[kQK_K / 16];
    float max_scale = 0;
    float max_min = 0;
    for (int j = 0; j < kQK_K / 16; ++j) {
      for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
      scales[j] = make_qkx2_quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.5f, 0.1f, 15, true);
      if (scales[j] > max_scale) max_scale = scales[j];
      if (mins[j] > max_min) max_min = mins[j];
    }
    if (max_scale > 0) {
      const float iscale = kQ4Scale / max_scale;
      for (int j = 0; j < kQK_K / 16; ++j) b[i].scales[j] = uint8_t(quant_nearest_int(iscale * scales[j]));
      b[i].d = fp32_to_fp16(max_scale / kQ4Scale);
    } else {
      for (int j = 0; j < kQK_K / 16; ++j) b[i].scales[j] = 0;
      b[i].d = fp32_to_fp16(0.f);
    }
    if (max_min > 0) {
      const float iscale = kQ4Scale / max_min;
      for (int j = 0; j < kQK_K / 16; ++j)
        b[i].scales[j] = uint8_t(b[i].scales[j] | (quant_nearest_int(iscale * mins[j]) << 4));
      b[i].dmin = fp32_to_fp16(max_min / kQ4Scale);
    } else {
      b[i].dmin = fp32_to_fp16(0.f);
    }
    for (int j = 0; j < kQK_K / 16; ++j) {
      const float d = fp16_to_fp32(b[i].d) * float(b[i].scales[j] & 0xF);
      if (d == 0) continue;
      const float dm = fp16_to_fp32(b[i].dmin) * float(b[i].scales[j] >> 4);
      for (int ii = 0; ii < 16; ++ii) {
        const int l = quant_nearest_int((x[16 * j + ii] + dm) / d);
        L[16 * j + ii] = uint8_t(std::max(0, std::min(3, l)));
      }
    }
    for (int j = 0; j < kQK_K; j += 128)
      for (int l = 0; l < 32; ++l)
        b[i].qs[j / 4 + l] =
            uint8_t(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
  }
}

float vec_dot_q2_k_q8_k_ref(int64_t n, const void* x, const void* y) {
  return vec_dot_k<BlockQ2_K, decode_q2_k>(n, x, y);
}

// ---- Q3_K --------------------------------------------------------------------

void dequantize_row_q3_k(const void* x, float* y, int64_t n) { dequantize_k<BlockQ3_K, decode_q3_k>(x, y, n); }

void quantize_row_q3_k_ref(const float* x, void* y, int64_t n) {
  BlockQ3_K* b = static_cast<BlockQ3_K*>(y);
  const int64_t nb = blocks_of(n, kQK_K);
  for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
    int8_t L[kQK_K];
    float scales[kQK_K / 16];
    float max_scale = 0;
    float amax = 0;
    for (int j = 0; j < kQK_K / 16; ++j) {
      scales[j] = make_q3_quants(16, 4, x + 16 * j, L + 16 * j);
      const float scale = std::fabs(scales[j]);
      if (scale > amax) {
        amax = scale;
        max_scale = scales[j];
      }
    }
    std::memset(b[i].scales, 0, sizeof(b[i].scales));
    if (max_scale != 0) {
      const float iscale = -32.f / max_scale;
      for (int j = 0; j < kQK_K / 16; ++j) {
        // ggml keeps the rounded value in an int8_t before clamping.
        const int8_t r = int8_t(quant_nearest_int(iscale * scales[j]));
        const int l = std::max<int>(-32, std::min<int>(31, r)) + 32;
        if (j < 8) {
          b[i].scales[j] = uint8_t(l & 0xF);
        } else {
          b[i].scales[j - 8] = uint8_t(b[i].scales[j - 8] | ((l & 0xF) << 4));
        }
        b[i].scales[j % 4 + 8] = uint8_t(b[i].scales[j % 4 + 8] | ((l >> 4) << (2 * (j / 4))));
      }
      b[i].d = fp32_to_fp16(1 / iscale);
    } else {
      b[i].d = fp32_to_fp16(0.f);
    }
    int8_t sc[16];
    q3_k_scales(b[i].scales, sc);
    for (int j = 0; j < kQK_K / 16; ++j) {
      const float d = fp16_to_fp32(b[i].d) * float(sc[j]);
      if (d == 0) continue;
      for (int ii = 0; ii < 16; ++ii) {
        const int l = quant_nearest_int(x[16 * j + ii] / d);
        L[16 * j + ii] = int8_t(std::max(-4, std::min(3, l)) + 4);
      }
    }
    std::memset(b[i].hmask, 0, sizeof(b[i].hmask));
    for (int j = 0; j < kQK_K; ++j) {
      if (L[j] > 3) {
        b[i].hmask[j % 32] = uint8_t(b[i].hmask[j % 32] | (1 << (j / 32)));
        L[j] = int8_t(L[j] - 4);
      }
    }
    for (int j = 0; j < kQK_K; j += 128)
      for (int l = 0; l < 32; ++l)
        b[i].qs[j / 4 + l] =
            uint8_t(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
  }
}

float vec_dot_q3_k_q8_k_ref(int64_t n, const void* x, const void* y) {
  return vec_dot_k<BlockQ3_K, decode_q3_k>(n, x, y);
}

// ---- Q4_K --------------------------------------------------------------------

void dequantize_row_q4_k(const void* x, float* y, int64_t n) { dequantize_k<BlockQ4_K, decode_q4_k>(x, y, n); }

void quantize_row_q4_k_ref(const float* x, void* y, int64_t n) {
  BlockQ4_K* b = static_cast<BlockQ4_K*>(y);
  const int64_t nb = blocks_of(n, kQK_K);
  for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
    uint8_t L[kQK_K];
    quantize_k4_block(x, 15, -1.f, 20, &b[i].d, &b[i].dmin, b[i].scales, L);
    for (int j = 0; j < kQK_K; j += 64)
      for (int l = 0; l < 32; ++l) b[i].qs[j / 2 + l] = uint8_t(L[j + l] | (L[j + l + 32] << 4));
  }
}

float vec_dot_q4_k_q8_k_ref(int64_t n, const void* x, const void* y) {
  return vec_dot_k<BlockQ4_K, decode_q4_k>(n, x, y);
}

// ---- Q5_K --------------------------------------------------------------------

void dequantize_row_q5_k(const void* x, float* y, int64_t n) { dequantize_k<BlockQ5_K, decode_q5_k>(x, y, n); }

void quantize_row_q5_k_ref(const float* x, void* y, int64_t n) {
  BlockQ5_K* b = static_cast<BlockQ5_K*>(y);
  const int64_t nb = blocks_of(n, kQK_K);
  for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
    uint8_t L[kQK_K];
    quantize_k4_block(x, 31, -0.5f, 15, &b[i].d, &b[i].dmin, b[i].scales, L);
    std::memset(b[i].qh, 0, sizeof(b[i].qh));
    for (int j = 0; j < kQK_K; j += 64) {
      const int bit = j / 32;  // high bits of the two 32-element halves: bits bit, bit + 1
      for (int l = 0; l < 32; ++l) {
        int l1 = L[j + l];
        int l2 = L[j + l + 32];
        if (l1 > 15) {
          l1 -= 16;
          b[i].qh[l] = uint8_t(b[i].qh[l] | (1 << bit));
        }
        if (l2 > 15) {
          l2 -= 16;
          b[i].qh[l] = uint8_t(b[i].qh[l] | (1 << (bit + 1)));
        }
        b[i].qs[j / 2 + l] = uint8_t(l1 | (l2 << 4));
      }
    }
  }
}

float vec_dot_q5_k_q8_k_ref(int64_t n, const void* x, const void* y) {
  return vec_dot_k<BlockQ5_K, decode_q5_k>(n, x, y);
}

// ---- Q6_K --------------------------------------------------------------------

void dequantize_row_q6_k(const void* x, float* y, int64_t n) { dequantize_k<BlockQ6_K, decode_q6_k>(x, y, n); }

void quantize_row_q6_k_ref(const float* x, void* y, int64_t n) {
  BlockQ6_K* b = static_cast<BlockQ6_K*>(y);
  const int64_t nb = blocks_of(n, kQK_K);
  for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
    int8_t L[kQK_K];
    float scales[kQK_K / 16];
    float max_scale = 0;
    float max_abs_scale = 0;
    for (int ib = 0; ib < kQK_K / 16; ++ib) {
      scales[ib] = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib);
      const float abs_scale = std::fabs(scales[ib]);
      if (abs_scale > max_abs_scale) {
        max_abs_scale = abs_scale;
        max_scale = scales[ib];
      }
    }
    if (max_abs_scale < kGroupMaxEps) {
      std::memset(&b[i], 0, sizeof(b[i]));
      continue;
    }
    const float iscale = -128.f / max_scale;
    b[i].d = fp32_to_fp16(1 / iscale);
    for (int ib = 0; ib < kQK_K / 16; ++ib)
      b[i].scales[ib] = int8_t(std::min(127, quant_nearest_int(iscale * scales[ib])));
    for (int j = 0; j < kQK_K / 16; ++j) {
      const float d = fp16_to_fp32(b[i].d) * float(b[i].scales[j]);
      if (d == 0) continue;
      for (int ii = 0; ii < 16; ++ii) {
        const int l = quant_nearest_int(x[16 * j + ii] / d);
        L[16 * j + ii] = int8_t(std::max(-32, std::min(31, l)) + 32);
      }
    }
    for (int j = 0; j < kQK_K; j += 128) {
      uint8_t* ql = b[i].ql + j / 2;
      uint8_t* qh = b[i].qh + j / 4;
      for (int l = 0; l < 32; ++l) {
        const int q1 = L[j + l], q2 = L[j + l + 32], q3 = L[j + l + 64], q4 = L[j + l + 96];
        ql[l] = uint8_t((q1 & 0xF) | ((q3 & 0xF) << 4));
        ql[l + 32] = uint8_t((q2 & 0xF) | ((q4 & 0xF) << 4));
        qh[l] = uint8_t((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
      }
    }
  }
}

float vec_dot_q6_k_q8_k_ref(int64_t n, const void* x, const void* y) {
  return vec_dot_k<BlockQ6_K, decode_q6_k>(n, x, y);
}

// ---- Q8_K --------------------------------------------------------------------

void dequantize_row_q8_k(const void* x, float* y, int64_t n) {
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);
  const int64_t nb = blocks_of(n, kQK_K);
  for (int64_t i = 0; i < nb; ++i)
    for (int j = 0; j < kQK_K; ++j) y[i * kQK_K + j] = b[i].d * float(b[i].qs[j]);
}

void quantize_row_q8_k_ref(const float* x, void* y, int64_t n) {
  BlockQ8_K* b = static_cast<BlockQ8_K*>(y);
  const int64_t nb = blocks_of(n, kQK_K);
  for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
    float max = 0;
    float amax = 0;
    for (int j = 0; j < kQK_K; ++j) {
      const float ax = std::fabs(x[j]);
      if (ax > amax) {
        amax = ax;
        max = x[j];
      }
    }
    if (amax == 0) {
      std::memset(&b[i], 0, sizeof(b[i]));
      continue;
    }
    const float iscale = -127.f / max;
    for (int j = 0; j < kQK_K; ++j) b[i].qs[j] = int8_t(std::min(127, quant_nearest_int(iscale * x[j])));
    for (int j = 0; j < kQK_K / 16; ++j) {
      int sum = 0;
      for (int ii = 0; ii < 16; ++ii) sum += b[i].qs[j * 16 + ii];
      b[i].bsums[j] = int16_t(sum);
    }
    b[i].d = 1 / iscale;
  }
}

}  // namespace aigc
