// 2D convolution: scalar reference, and the optimised path (im2col panels
// packed on the fly + register-blocked GEMM micro-kernels from conv2d_isa.h).
#include "kernels/conv2d.h"

#include <algorithm>
#include <vector>

#include "core/assert.h"
#include "core/cpu_features.h"
#include "core/fp16.h"
#include "kernels/conv2d_isa.h"

namespace aigc {

namespace {

constexpr int64_t kKc = 256;            // reduction depth of one packed block
constexpr int64_t kPixelTile = 128;     // output pixels per work piece (a multiple of every nr)
constexpr int64_t kChannelChunk = 96;   // output channels per work piece (a multiple of kConvMr)

float weight_at(const void* weight, DType type, int64_t i) {
  return type == DType::F16 ? fp16_to_fp32(static_cast<const uint16_t*>(weight)[i])
                            : static_cast<const float*>(weight)[i];
}

void check_shape(DType weight_type, const Conv2dShape& s) {
  AIGC_ASSERT(weight_type == DType::F32 || weight_type == DType::F16);
  AIGC_ASSERT(s.n > 0 && s.c_in > 0 && s.c_out > 0 && s.kh > 0 && s.kw > 0 && s.stride > 0 && s.pad >= 0);
  AIGC_ASSERT(s.h + 2 * s.pad >= s.kh && s.w + 2 * s.pad >= s.kw);
}

using TileFn = void (*)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc);

// Per-thread buffers of the optimised path.
struct ConvScratch {
  std::vector<float> b_pack;   // [n_panels][kc][nr] im2col columns
  std::vector<float> a_pack;   // [kc][kConvMr] weights
  std::vector<float> c_tile;   // [kConvMr][nr] for edge tiles
  std::vector<int64_t> y0, x0;  // per pixel of the tile: top-left input tap (may be negative)
};

// One work piece: sample b, pixels [p0, p0 + np), output channels [m0, m1).
void conv_piece(float* out, const float* in, const void* weight, DType weight_type, const float* bias,
                const Conv2dShape& s, int64_t b, int64_t p0, int64_t np, int64_t m0, int64_t m1, int64_t nr,
                TileFn tile, ConvScratch& sc) {
  const int64_t OW = s.out_w(), P = s.out_h() * OW;
  const int64_t K = s.c_in * s.kh * s.kw;
  const int64_t n_panels = (np + nr - 1) / nr;
  float* out_b = out + b * s.c_out * P;
  const float* in_b = in + b * s.c_in * s.h * s.w;
  for (int64_t i = 0; i < np; ++i) {
    sc.y0[i] = ((p0 + i) / OW) * s.stride - s.pad;
    sc.x0[i] = ((p0 + i) % OW) * s.stride - s.pad;
  }
  for (int64_t m = m0; m < m1; ++m) std::fill_n(out_b + m * P + p0, np, bias ? bias[m] : 0.0f);

  for (int64_t k0 = 0; k0 < K; k0 += kKc) {
    const int64_t kc = std::min(kKc, K - k0);
    // im2col: column i of the tile, row kk = tap (ci, ky, kx) of the kernel.
    for (int64_t kk = 0; kk < kc; ++kk) {
      const int64_t k = k0 + kk;
      const int64_t ci = k / (s.kh * s.kw), ky = (k / s.kw) % s.kh, kx = k % s.kw;
      const float* plane = in_b + ci * s.h * s.w;
      for (int64_t panel = 0; panel < n_panels; ++panel) {
        float* dst = sc.b_pack.data() + (panel * kc + kk) * nr;
        for (int64_t j = 0; j < nr; ++j) {
          const int64_t i = panel * nr + j;
          float v = 0.0f;
          if (i < np) {
            const int64_t iy = sc.y0[i] + ky, ix = sc.x0[i] + kx;
            if (iy >= 0 && iy < s.h && ix >= 0 && ix < s.w) v = plane[iy * s.w + ix];
          }
          dst[j] = v;
        }
      }
    }
    for (int64_t m = m0; m < m1; m += kConvMr) {
      const int64_t mr = std::min(kConvMr, m1 - m);
      for (int64_t kk = 0; kk < kc; ++kk) {
        for (int64_t r = 0; r < kConvMr; ++r) {
          sc.a_pack[kk * kConvMr + r] = r < mr ? weight_at(weight, weight_type, (m + r) * K + k0 + kk) : 0.0f;
        }
      }
      for (int64_t panel = 0; panel < n_panels; ++panel) {
        const int64_t cols = std::min(nr, np - panel * nr);
        const float* bp = sc.b_pack.data() + panel * kc * nr;
        float* c = out_b + m * P + p0 + panel * nr;
        if (mr == kConvMr && cols == nr) {
          tile(kc, sc.a_pack.data(), bp, c, P);
          continue;
        }
        std::fill(sc.c_tile.begin(), sc.c_tile.end(), 0.0f);
        for (int64_t r = 0; r < mr; ++r) std::copy_n(c + r * P, cols, sc.c_tile.data() + r * nr);
        tile(kc, sc.a_pack.data(), bp, sc.c_tile.data(), nr);
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

void conv2d(float* out, const float* in, const void* weight, DType weight_type, const float* bias,
            const Conv2dShape& s) {
  check_shape(weight_type, s);
  const Isa isa = active_isa();
  if (isa == Isa::kScalar) {
    conv2d_ref(out, in, weight, weight_type, bias, s);
    return;
  }
  const int64_t nr = isa == Isa::kAvx512 ? kConvNrAvx512 : kConvNrAvx2;
  const TileFn tile = isa == Isa::kAvx512 ? conv_gemm_tile_avx512 : conv_gemm_tile_avx2;
  const int64_t P = s.out_h() * s.out_w();
  const int64_t n_ptiles = (P + kPixelTile - 1) / kPixelTile;
  const int64_t n_mchunks = (s.c_out + kChannelChunk - 1) / kChannelChunk;
  const int64_t n_pieces = s.n * n_ptiles * n_mchunks;
#pragma omp parallel
  {
    ConvScratch sc;
    sc.b_pack.resize(static_cast<size_t>(kKc * kPixelTile));
    sc.a_pack.resize(static_cast<size_t>(kKc * kConvMr));
    sc.c_tile.resize(static_cast<size_t>(kConvMr * nr));
    sc.y0.resize(static_cast<size_t>(kPixelTile));
    sc.x0.resize(static_cast<size_t>(kPixelTile));
#pragma omp for schedule(dynamic)
    for (int64_t piece = 0; piece < n_pieces; ++piece) {
      const int64_t b = piece / (n_ptiles * n_mchunks);
      const int64_t pt = (piece / n_mchunks) % n_ptiles;
      const int64_t mc = piece % n_mchunks;
      const int64_t p0 = pt * kPixelTile;
      const int64_t m0 = mc * kChannelChunk;
      conv_piece(out, in, weight, weight_type, bias, s, b, p0, std::min(kPixelTile, P - p0), m0,
                 std::min(s.c_out, m0 + kChannelChunk), nr, tile, sc);
    }
  }
}

}  // namespace aigc
