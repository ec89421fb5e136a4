// 2D convolution: scalar reference, and the optimised path (im2col panels
// packed on the fly + register-blocked GEMM micro-kernels from conv2d_isa.h).
#include "kernels/conv2d.h"

#include <algorithm>
#include <vector>

#include "core/assert.h"
#include "core/cpu_features.h"
#include "core/fp16.h"
#include "core/threads.h"
#include "kernels/conv2d_isa.h"

namespace aigc {

namespace {

constexpr int64_t kKc = 256;            // reduction depth of one packed block
constexpr int64_t kPixelTile = 256;     // output pixels per work piece (a multiple of every nr)
constexpr int64_t kPiecesPerThread = 4;  // pieces per thread wanted for load balance
constexpr int64_t kSharedIm2colBytes = int64_t(64) << 20;  // largest whole-sample im2col buffer

float weight_at(const void* weight, DType type, int64_t i) {
  return type == DType::F16 ? fp16_to_fp32(static_cast<const uint16_t*>(weight)[i])
                            : static_cast<const float*>(weight)[i];
}

void check_shape(DType weight_type, const Conv2dShape& s) {
  AIGC_ASSERT(weight_type == DType::F32 || weight_type == DType::F16);
  AIGC_ASSERT(s.n > 0 && s.c_in > 0 && s.c_out > 0 && s.kh > 0 && s.kw > 0 && s.stride > 0 && s.pad >= 0);
  AIGC_ASSERT(s.h + 2 * s.pad >= s.kh && s.w + 2 * s.pad >= s.kw);
}

using TileFn = void (*)(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc);

// The portable micro-kernel (conv2d_isa.h contract, nr = kConvNrAvx2).
void conv_gemm_tile_scalar(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc) {
  for (int64_t r = 0; r < kConvMr; ++r) {
    for (int64_t j = 0; j < kConvNrAvx2; ++j) {
      float acc = c[r * ldc + j];
      for (int64_t k = 0; k < kc; ++k) acc += a[k * kConvMr + r] * b[k * ldb + j];
      c[r * ldc + j] = acc;
    }
  }
}

// Per-thread buffers of the optimised path.
struct ConvScratch {
  std::vector<float> b_pack;  // [kc][ldb] im2col columns of the pixel tile
  std::vector<float> c_tile;  // [kConvMr][nr] for edge tiles
};

// Row kk of the im2col block: tap (ci, ky, kx) for pixels [p0, p0 + np),
// zero outside the input and in the padding columns up to ldb.
void im2col_row(float* dst, const float* plane, const Conv2dShape& s, int64_t ky, int64_t kx, int64_t p0,
                int64_t np, int64_t ldb) {
  const int64_t OW = s.out_w();
  // Output columns ox whose tap lies inside the input: ox_lo <= ox < ox_hi.
  const int64_t lo_num = s.pad - kx, hi_num = s.w - 1 + s.pad - kx;
  const int64_t ox_lo = lo_num <= 0 ? 0 : (lo_num + s.stride - 1) / s.stride;
  const int64_t ox_hi = hi_num < 0 ? 0 : hi_num / s.stride + 1;
  for (int64_t i = 0; i < np;) {
    const int64_t oy = (p0 + i) / OW, ox0 = (p0 + i) % OW;
    const int64_t seg = std::min(OW - ox0, np - i);  // pixels left in this output row
    const int64_t iy = oy * s.stride - s.pad + ky;
    float* d = dst + i;
    if (iy < 0 || iy >= s.h) {
      std::fill_n(d, seg, 0.0f);
    } else {
      const int64_t j_lo = std::clamp(ox_lo - ox0, int64_t(0), seg);
      const int64_t j_hi = std::clamp(ox_hi - ox0, j_lo, seg);
      const float* src = plane + iy * s.w - s.pad + kx;  // src[ox * stride] is the tap of column ox
      std::fill_n(d, j_lo, 0.0f);
      if (s.stride == 1) {
        std::copy_n(src + ox0 + j_lo, j_hi - j_lo, d + j_lo);
      } else {
        for (int64_t j = j_lo; j < j_hi; ++j) d[j] = src[(ox0 + j) * s.stride];
      }
      std::fill(d + j_hi, d + seg, 0.0f);
    }
    i += seg;
  }
  std::fill(dst + np, dst + ldb, 0.0f);
}

// One work piece of sample b: pixels [p0, p0 + np), output channels [m0, m1).
// Its im2col columns come from `shared` (the whole sample's, [K][shared_ldb])
// or, when that is null, are packed here one reduction block at a time.
// Every output element is initialised with its bias, then accumulates the
// reduction blocks in order: the same arithmetic whatever the piece split or
// the im2col mode.
void conv_piece(float* out, const float* in, const Conv2dPackedWeights& weight, const float* bias,
                const Conv2dShape& s, int64_t b, int64_t p0, int64_t np, int64_t m0, int64_t m1, int64_t nr,
                TileFn tile, const float* shared, int64_t shared_ldb, ConvScratch& sc) {
  const int64_t P = s.out_h() * s.out_w();
  const int64_t K = s.c_in * s.kh * s.kw;
  const int64_t n_panels = (np + nr - 1) / nr;
  float* out_b = out + b * s.c_out * P;
  const float* in_b = in + b * s.c_in * s.h * s.w;
  for (int64_t m = m0; m < m1; ++m) std::fill_n(out_b + m * P + p0, np, bias ? bias[m] : 0.0f);

  for (int64_t k0 = 0; k0 < K; k0 += kKc) {
    const int64_t kc = std::min(kKc, K - k0);
    const float* block = shared ? shared + k0 * shared_ldb + p0 : sc.b_pack.data();  // [kc][ldb]
    const int64_t ldb = shared ? shared_ldb : n_panels * nr;
    if (!shared) {
      for (int64_t kk = 0; kk < kc; ++kk) {
        const int64_t k = k0 + kk;
        const int64_t ci = k / (s.kh * s.kw), ky = (k / s.kw) % s.kh, kx = k % s.kw;
        im2col_row(sc.b_pack.data() + kk * ldb, in_b + ci * s.h * s.w, s, ky, kx, p0, np, ldb);
      }
    }
    for (int64_t m = m0; m < m1; m += kConvMr) {
      const int64_t mr = std::min(kConvMr, m1 - m);
      const float* a = weight.data.data() + (m / kConvMr * K + k0) * kConvMr;
      for (int64_t panel = 0; panel < n_panels; ++panel) {
        const int64_t cols = std::min(nr, np - panel * nr);
        const float* bp = block + panel * nr;
        float* c = out_b + m * P + p0 + panel * nr;
        if (mr == kConvMr && cols == nr) {
          tile(kc, a, bp, ldb, c, P);
          continue;
        }
        std::fill(sc.c_tile.begin(), sc.c_tile.end(), 0.0f);
        for (int64_t r = 0; r < mr; ++r) std::copy_n(c + r * P, cols, sc.c_tile.data() + r * nr);
        tile(kc, a, bp, ldb, sc.c_tile.data(), nr);
        for (int64_t r = 0; r < mr; ++r) std::copy_n(sc.c_tile.data() + r * nr, cols, c + r * P);
      }
    }
  }
}

}  // namespace

void conv2d_ref(float* out, const float* in, const void* weight, DType weight_type, const float* bias,
                const Conv2dShape& s) {
  check_shape(weight_type, s);
  const int64_t OH = s.out_h(), OW = s.out_w();
  for (int64_t b = 0; b < s.n; ++b) {
    for (int64_t co = 0; co < s.c_out; ++co) {
      for (int64_t oy = 0; oy < OH; ++oy) {
        for (int64_t ox = 0; ox < OW; ++ox) {
          double acc = bias ? bias[co] : 0.0;
          for (int64_t ci = 0; ci < s.c_in; ++ci) {
            for (int64_t ky = 0; ky < s.kh; ++ky) {
              for (int64_t kx = 0; kx < s.kw; ++kx) {
                const int64_t iy = oy * s.stride - s.pad + ky, ix = ox * s.stride - s.pad + kx;
                if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
                const float w = weight_at(weight, weight_type, ((co * s.c_in + ci) * s.kh + ky) * s.kw + kx);
                acc += double(w) * in[((b * s.c_in + ci) * s.h + iy) * s.w + ix];
              }
            }
          }
          out[((b * s.c_out + co) * OH + oy) * OW + ox] = float(acc);
        }
      }
    }
  }
}

Conv2dPackedWeights conv2d_pack_weights(const void* weight, DType weight_type, int64_t c_out, int64_t c_in,
                                        int64_t kh, int64_t kw) {
  AIGC_ASSERT(weight_type == DType::F32 || weight_type == DType::F16);
  Conv2dPackedWeights p{c_out, c_in, kh, kw, {}};
  const int64_t K = c_in * kh * kw;
  const int64_t n_mblocks = (c_out + kConvMr - 1) / kConvMr;
  p.data.resize(static_cast<size_t>(n_mblocks * K * kConvMr));
#pragma omp parallel for schedule(static)
  for (int64_t mb = 0; mb < n_mblocks; ++mb) {
    float* dst = p.data.data() + mb * K * kConvMr;
    for (int64_t r = 0; r < kConvMr; ++r) {
      const int64_t m = mb * kConvMr + r;
      for (int64_t k = 0; k < K; ++k) {
        dst[k * kConvMr + r] = m < c_out ? weight_at(weight, weight_type, m * K + k) : 0.0f;
      }
    }
  }
  return p;
}

void conv2d(float* out, const float* in, const void* weight, DType weight_type, const float* bias,
            const Conv2dShape& s) {
  check_shape(weight_type, s);
  conv2d_packed(out, in, conv2d_pack_weights(weight, weight_type, s.c_out, s.c_in, s.kh, s.kw), bias, s);
}

void conv2d_packed(float* out, const float* in, const Conv2dPackedWeights& weight, const float* bias,
                   const Conv2dShape& s) {
  check_shape(DType::F32, s);
  AIGC_ASSERT(weight.c_out == s.c_out && weight.c_in == s.c_in && weight.kh == s.kh && weight.kw == s.kw);
  const Isa isa = active_isa();
  const int64_t nr = isa == Isa::kAvx512 ? kConvNrAvx512 : kConvNrAvx2;
  const TileFn tile = isa == Isa::kAvx512 ? conv_gemm_tile_avx512
                      : isa == Isa::kAvx2 ? conv_gemm_tile_avx2
                                          : conv_gemm_tile_scalar;
  const int64_t P = s.out_h() * s.out_w();
  const int64_t K = s.c_in * s.kh * s.kw;
  const int64_t n_ptiles = (P + kPixelTile - 1) / kPixelTile;
  const int64_t min_pieces = kPiecesPerThread * num_threads();
  // Few pixel tiles (deep, small maps): im2col the whole sample once, shared by
  // pieces that also split the output channels. Otherwise each piece is a
  // pixel tile over all channels and packs its own columns.
  const int64_t shared_ldb = (P + nr - 1) / nr * nr;
  const bool shared = n_ptiles < min_pieces && K * shared_ldb * int64_t(sizeof(float)) <= kSharedIm2colBytes;
  const int64_t n_mblocks = (s.c_out + kConvMr - 1) / kConvMr;
  const int64_t want_chunks = shared ? std::clamp((min_pieces + n_ptiles - 1) / n_ptiles, int64_t(1), n_mblocks) : 1;
  const int64_t chunk = (n_mblocks + want_chunks - 1) / want_chunks * kConvMr;
  const int64_t n_mchunks = (s.c_out + chunk - 1) / chunk;
  const int64_t n_pieces = n_ptiles * n_mchunks;
  std::vector<float> cols(shared ? static_cast<size_t>(K * shared_ldb) : 0);  // [K][shared_ldb]
  for (int64_t b = 0; b < s.n; ++b) {
#pragma omp parallel
    {
      if (shared) {
        const float* in_b = in + b * s.c_in * s.h * s.w;
#pragma omp for schedule(static)
        for (int64_t k = 0; k < K; ++k) {
          const int64_t ci = k / (s.kh * s.kw), ky = (k / s.kw) % s.kh, kx = k % s.kw;
          im2col_row(cols.data() + k * shared_ldb, in_b + ci * s.h * s.w, s, ky, kx, 0, P, shared_ldb);
        }
      }
      ConvScratch sc;
      sc.b_pack.resize(shared ? 0 : static_cast<size_t>(kKc * kPixelTile));
      sc.c_tile.resize(static_cast<size_t>(kConvMr * nr));
#pragma omp for schedule(dynamic)
      for (int64_t piece = 0; piece < n_pieces; ++piece) {
        const int64_t p0 = piece / n_mchunks * kPixelTile;
        const int64_t m0 = piece % n_mchunks * chunk;
        conv_piece(out, in, weight, bias, s, b, p0, std::min(kPixelTile, P - p0), m0, std::min(s.c_out, m0 + chunk),
                   nr, tile, shared ? cols.data() : nullptr, shared_ldb, sc);
      }
    }
  }
}

}  // namespace aigc
