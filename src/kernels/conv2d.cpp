// 2D convolution: scalar reference, and the optimised path (im2col panels and
// weight blocks packed on the fly + register-blocked GEMM micro-kernels from
// conv2d_isa.h).
#include "kernels/conv2d.h"

#include <algorithm>
#include <vector>

#include "core/assert.h"
#include "core/cpu_features.h"
#include "core/dtype.h"
#include "core/threads.h"
#include "kernels/conv2d_isa.h"
#include "kernels/gemm_amx_isa.h"
#include "kernels/gemm_f32_isa.h"
#include "kernels/scratch.h"

namespace aigc {

namespace {

constexpr int64_t kKc = 256;            // reduction depth of one packed block
constexpr int64_t kPixelTile = 256;     // output pixels per work piece (a multiple of every nr)
constexpr int64_t kPiecesPerThread = 4;  // pieces per thread wanted for load balance
constexpr int64_t kSharedIm2colBytes = int64_t(64) << 20;  // largest whole-sample im2col buffer

float weight_at(const void* weight, DType type, int64_t i) {
  float x;
  dtype_traits(type)->to_float(static_cast<const char*>(weight) + i * dtype_traits(type)->block_bytes, &x, 1);
  return x;
}

void check_shape(DType weight_type, const Conv2dShape& s) {
  AIGC_ASSERT(weight_type == DType::F32 || weight_type == DType::F16 || weight_type == DType::BF16);
  AIGC_ASSERT(s.n > 0 && s.c_in > 0 && s.c_out > 0 && s.kh > 0 && s.kw > 0 && s.stride > 0 && s.pad >= 0);
  AIGC_ASSERT(s.h + 2 * s.pad >= s.kh && s.w + 2 * s.pad >= s.kw);
}

using TileFn = void (*)(int64_t kc, const float* const* a, const float* b, int64_t ldb, float* c, int64_t ldc);

}  // namespace

// The portable micro-kernel (conv2d_isa.h contract, nr = kConvNrAvx2).
void conv_gemm_tile_scalar(int64_t kc, const float* const* a, const float* b, int64_t ldb, float* c, int64_t ldc) {
  for (int64_t r = 0; r < kConvMr; ++r) {
    for (int64_t j = 0; j < kConvNrAvx2; ++j) {
      float acc = c[r * ldc + j];
      for (int64_t k = 0; k < kc; ++k) acc += a[r][k] * b[k * ldb + j];
      c[r * ldc + j] = acc;
    }
  }
}

// ---- helpers shared with winograd_conv3x3.cpp ----

void conv2d_weights_to_float(const void* src, DType type, float* dst, int64_t n) {
  const Isa isa = active_isa();
  if (type == DType::F16 && isa != Isa::kScalar) {
    (isa == Isa::kAvx512 ? gemm_f16_to_f32_avx512 : gemm_f16_to_f32_avx2)(src, dst, n);
  } else if (type == DType::BF16 && isa != Isa::kScalar) {
    (isa == Isa::kAvx512 ? gemm_bf16_to_f32_avx512 : gemm_bf16_to_f32_avx2)(src, dst, n);
  } else {
    dtype_traits(type)->to_float(src, dst, n);
  }
}

void conv2d_weights_to_amx_parts(const void* w, DType type, int64_t rows, int64_t k, int64_t rows_pad, int64_t k_pad,
                                 int n_parts, int64_t part_stride, uint16_t* parts) {
  const int64_t elem = dtype_traits(type)->block_bytes;
#pragma omp parallel
  {
    std::vector<float> row(static_cast<size_t>(k_pad), 0.0f);
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows_pad; ++r) {
      if (r < rows) {
        conv2d_weights_to_float(static_cast<const char*>(w) + r * k * elem, type, row.data(), k);
      } else {
        std::fill_n(row.data(), k, 0.0f);
      }
      uint16_t* dst[kAmxMaxParts];
      for (int p = 0; p < n_parts; ++p) dst[p] = parts + p * part_stride + r * k_pad;
      gemm_amx_split_row(row.data(), k_pad, n_parts, dst);
    }
  }
}

namespace {

// Per-thread buffers of the optimised path.
struct ConvScratch {
  std::vector<float> a_rows;  // [kConvMr][kKc] F16 / BF16 weights as floats; then zeros for missing rows
  std::vector<float> row;     // one im2col row of the pixel tile
  std::vector<float> b_pack;  // [n_panels][kc][nr] im2col columns of the pixel tile
  std::vector<float> c_tile;  // [kConvMr][nr] for edge tiles
};

// Row pointers to the weights of channels m .. m + kConvMr - 1, taps
// [k0, k0 + kc): into weight ([C_out][K]) itself for F32, else converted
// into sc.a_rows; rows past mr point at zeros.
void weight_rows(const void* weight, DType type, int64_t K, int64_t m, int64_t mr, int64_t k0, int64_t kc,
                 ConvScratch& sc, const float* rows[kConvMr]) {
  for (int64_t r = 0; r < kConvMr; ++r) {
    float* buf = sc.a_rows.data() + r * kKc;
    if (r >= mr) {
      std::fill_n(buf, kc, 0.0f);
      rows[r] = buf;
    } else if (type == DType::F32) {
      rows[r] = static_cast<const float*>(weight) + (m + r) * K + k0;
    } else {
      conv2d_weights_to_float(static_cast<const char*>(weight) + ((m + r) * K + k0) * dtype_traits(type)->block_bytes, type,
                       buf, kc);
      rows[r] = buf;
    }
  }
}

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

// Copies row kk of a [rows][n_panels * nr] block into panel-major order
// dst[(panel * rows + kk) * nr + j]: each micro-kernel reads its panel as one
// contiguous [rows][nr] slice (rows a few KB apart would share cache sets).
void scatter_to_panels(float* dst, const float* row, int64_t n_panels, int64_t rows, int64_t kk, int64_t nr) {
  for (int64_t panel = 0; panel < n_panels; ++panel) std::copy_n(row + panel * nr, nr, dst + (panel * rows + kk) * nr);
}

// One work piece: samples [b0, b1), pixels [p0, p0 + np), output channels
// [m0, m1). Its im2col columns come from `shared` (every sample's, panel-major
// [N][shared_panels][K][nr]) or, when that is null, are packed here one
// reduction block at a time ([n_panels][kc][nr]; then b1 = b0 + 1). The weights of each (channel block,
// reduction block) are converted once for all the piece's samples. Every
// output element is initialised with its bias, then accumulates the reduction
// blocks in order: the same arithmetic whatever the piece split or the im2col
// mode.
void conv_piece(float* out, const float* in, const void* weight, DType weight_type, const float* bias,
                const Conv2dShape& s, int64_t b0, int64_t b1, int64_t p0, int64_t np, int64_t m0, int64_t m1,
                int64_t nr, TileFn tile, const float* shared, int64_t shared_panels, ConvScratch& sc) {
  const int64_t P = s.out_h() * s.out_w();
  const int64_t K = s.c_in * s.kh * s.kw;
  const int64_t n_panels = (np + nr - 1) / nr;
  for (int64_t b = b0; b < b1; ++b) {
    for (int64_t m = m0; m < m1; ++m) std::fill_n(out + (b * s.c_out + m) * P + p0, np, bias ? bias[m] : 0.0f);
  }
  for (int64_t k0 = 0; k0 < K; k0 += kKc) {
    const int64_t kc = std::min(kKc, K - k0);
    if (!shared) {
      const float* in_b = in + b0 * s.c_in * s.h * s.w;
      for (int64_t kk = 0; kk < kc; ++kk) {
        const int64_t k = k0 + kk;
        const int64_t ci = k / (s.kh * s.kw), ky = (k / s.kw) % s.kh, kx = k % s.kw;
        im2col_row(sc.row.data(), in_b + ci * s.h * s.w, s, ky, kx, p0, np, n_panels * nr);
        scatter_to_panels(sc.b_pack.data(), sc.row.data(), n_panels, kc, kk, nr);
      }
    }
    for (int64_t m = m0; m < m1; m += kConvMr) {
      const int64_t mr = std::min(kConvMr, m1 - m);
      const float* a[kConvMr];
      weight_rows(weight, weight_type, K, m, mr, k0, kc, sc, a);
      for (int64_t b = b0; b < b1; ++b) {
        for (int64_t panel = 0; panel < n_panels; ++panel) {
          const int64_t cols = std::min(nr, np - panel * nr);
          const float* bp = shared ? shared + ((b * shared_panels + p0 / nr + panel) * K + k0) * nr  // [kc][nr]
                                   : sc.b_pack.data() + panel * kc * nr;
          float* c = out + (b * s.c_out + m) * P + p0 + panel * nr;
          if (mr == kConvMr && cols == nr) {
            tile(kc, a, bp, nr, c, P);
            continue;
          }
          std::fill(sc.c_tile.begin(), sc.c_tile.end(), 0.0f);
          for (int64_t r = 0; r < mr; ++r) std::copy_n(c + r * P, cols, sc.c_tile.data() + r * nr);
          tile(kc, a, bp, nr, sc.c_tile.data(), nr);
          for (int64_t r = 0; r < mr; ++r) std::copy_n(sc.c_tile.data() + r * nr, cols, c + r * P);
        }
      }
    }
  }
}

// conv2d on AMX tiles (conv2d.h): the weights split once per call into bf16
// parts (F32 in three, F16 in two, BF16 in one),
// each work piece's im2col block (k-major, as im2col_row writes it) split
// into 16-pixel groups against them (three parts against F32 weights, two
// otherwise), C written back 32 x 32 at a time with the bias.
constexpr int64_t kAmxPixels = 128;  // output pixels per work piece (a multiple of 32)

thread_local ScratchBuffer t_amx_weights;          // the caller's split weights, read by its team
thread_local ScratchBuffer t_amx_cols, t_amx_act;  // each thread's im2col block and its bf16 parts

void conv2d_amx(float* out, const float* in, const void* weight, DType weight_type, const float* bias,
                const Conv2dShape& s) {
  const int w_parts = weight_type == DType::F32 ? 3 : weight_type == DType::F16 ? 2 : 1;
  const int a_parts = weight_type == DType::F32 ? 3 : 2;
  const AmxPasses passes = gemm_amx_passes(w_parts, a_parts);
  const int64_t P = s.out_h() * s.out_w(), K = s.c_in * s.kh * s.kw;
  const int64_t k_pad = (K + 31) / 32 * 32, co_pad = (s.c_out + 31) / 32 * 32, w_part = co_pad * k_pad;
  uint16_t* const W = t_amx_weights.get<uint16_t>(static_cast<size_t>(w_parts * w_part));  // [w_parts][co_pad][k_pad]
  conv2d_weights_to_amx_parts(weight, weight_type, s.c_out, K, co_pad, k_pad, w_parts, w_part, W);
  const int64_t n_ptiles = (P + kAmxPixels - 1) / kAmxPixels;
  // Channel chunks of 32 rows where samples x pixel tiles leave threads idle.
  const int64_t want_chunks = (kPiecesPerThread * num_threads() + s.n * n_ptiles - 1) / (s.n * n_ptiles);
  const int64_t co_blocks = co_pad / 32, n_chunks = std::clamp(want_chunks, int64_t(1), co_blocks);
  const int64_t chunk = (co_blocks + n_chunks - 1) / n_chunks * 32;
#pragma omp parallel
  {
    float* const cols = t_amx_cols.get<float>(static_cast<size_t>(K * kAmxPixels));  // [K][kAmxPixels]
    uint16_t* const act = t_amx_act.get<uint16_t>(static_cast<size_t>(a_parts * kAmxPixels * k_pad));
    float ct[32 * 32];
    gemm_amx_configure_tiles();
#pragma omp for schedule(dynamic)
    for (int64_t piece = 0; piece < s.n * n_ptiles * n_chunks; ++piece) {
      const int64_t b = piece / (n_ptiles * n_chunks), p0 = piece / n_chunks % n_ptiles * kAmxPixels;
      const int64_t co0 = piece % n_chunks * chunk, co1 = std::min(co_pad, co0 + chunk);
      const int64_t np = std::min(kAmxPixels, P - p0), np_pad = (np + 31) / 32 * 32;
      for (int64_t k = 0; k < K; ++k) {
        const int64_t ci = k / (s.kh * s.kw), ky = (k / s.kw) % s.kh, kx = k % s.kw;
        im2col_row(cols + k * kAmxPixels, in + (b * s.c_in + ci) * s.h * s.w, s, ky, kx, p0, np, np_pad);
      }
      for (int64_t t0 = 0; t0 < np_pad; t0 += 16) {
        uint16_t* dst[kAmxMaxParts];
        for (int p = 0; p < a_parts; ++p) dst[p] = act + (p * kAmxPixels + t0) * k_pad;
        gemm_amx_split_pairs(cols + t0, kAmxPixels, 16, k_pad, K, a_parts, dst);
      }
      for (int64_t co = co0; co < co1; co += 32) {
        const uint16_t* w[kAmxMaxParts];
        for (int p = 0; p < w_parts; ++p) w[p] = W + p * w_part + co * k_pad;
        for (int64_t t0 = 0; t0 < np_pad; t0 += 32) {
          const uint16_t* a[kAmxMaxParts];
          for (int p = 0; p < a_parts; ++p) a[p] = act + (p * kAmxPixels + t0) * k_pad;
          gemm_amx_tile_32x32(k_pad, passes, w, k_pad, a, 16 * k_pad, ct, 32, 0);
          for (int64_t j = 0; j < std::min<int64_t>(32, s.c_out - co); ++j) {
            float* dst = out + (b * s.c_out + co + j) * P + p0 + t0;
            const float add = bias ? bias[co + j] : 0.0f;
            for (int64_t t = 0; t < std::min<int64_t>(32, np - t0); ++t) dst[t] = ct[j * 32 + t] + add;
          }
        }
      }
    }
    gemm_amx_release_tiles();
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
  if (amx_usable()) {
    conv2d_amx(out, in, weight, weight_type, bias, s);
    return;
  }
  const Isa isa = active_isa();
  const int64_t nr = isa == Isa::kAvx512 ? kConvNrAvx512 : kConvNrAvx2;
  const TileFn tile = isa == Isa::kAvx512 ? conv_gemm_tile_avx512
                      : isa == Isa::kAvx2 ? conv_gemm_tile_avx2
                                          : conv_gemm_tile_scalar;
  const int64_t P = s.out_h() * s.out_w();
  const int64_t K = s.c_in * s.kh * s.kw;
  const int64_t n_ptiles = (P + kPixelTile - 1) / kPixelTile;
  const int64_t min_pieces = kPiecesPerThread * num_threads();
  // Few pixel tiles (deep, small maps): im2col every sample once, shared by
  // pieces that cover all samples and split the output channels (each weight
  // block is converted once per call). Otherwise each piece is a pixel tile
  // of one sample over all channels and packs its own columns.
  const int64_t shared_ldb = (P + nr - 1) / nr * nr;
  const bool shared =
      s.n * n_ptiles < min_pieces && s.n * K * shared_ldb * int64_t(sizeof(float)) <= kSharedIm2colBytes;
  const int64_t n_mblocks = (s.c_out + kConvMr - 1) / kConvMr;
  const int64_t want_chunks = shared ? std::clamp((min_pieces + n_ptiles - 1) / n_ptiles, int64_t(1), n_mblocks) : 1;
  const int64_t chunk = (n_mblocks + want_chunks - 1) / want_chunks * kConvMr;
  const int64_t n_mchunks = (s.c_out + chunk - 1) / chunk;
  const int64_t n_groups = shared ? 1 : s.n;  // sample groups: all samples, or one each
  const int64_t pieces_per_group = n_ptiles * n_mchunks;
  const int64_t shared_panels = shared_ldb / nr;
  std::vector<float> cols(shared ? static_cast<size_t>(s.n * K * shared_ldb) : 0);  // [N][shared_panels][K][nr]
#pragma omp parallel
  {
    ConvScratch sc;
    sc.row.resize(static_cast<size_t>(shared ? shared_ldb : kPixelTile));
    if (shared) {
#pragma omp for schedule(static)
      for (int64_t bk = 0; bk < s.n * K; ++bk) {
        const int64_t b = bk / K, k = bk % K;
        const int64_t ci = k / (s.kh * s.kw), ky = (k / s.kw) % s.kh, kx = k % s.kw;
        im2col_row(sc.row.data(), in + (b * s.c_in + ci) * s.h * s.w, s, ky, kx, 0, P, shared_ldb);
        scatter_to_panels(cols.data() + b * K * shared_ldb, sc.row.data(), shared_panels, K, k, nr);
      }
    }
    sc.a_rows.resize(static_cast<size_t>(kConvMr * kKc));
    sc.b_pack.resize(shared ? 0 : static_cast<size_t>(kKc * kPixelTile));
    sc.c_tile.resize(static_cast<size_t>(kConvMr * nr));
#pragma omp for schedule(dynamic)
    for (int64_t piece = 0; piece < n_groups * pieces_per_group; ++piece) {
      const int64_t group = piece / pieces_per_group, rest = piece % pieces_per_group;
      const int64_t b0 = shared ? 0 : group, b1 = shared ? s.n : group + 1;
      const int64_t p0 = rest / n_mchunks * kPixelTile;
      const int64_t m0 = rest % n_mchunks * chunk;
      conv_piece(out, in, weight, weight_type, bias, s, b0, b1, p0, std::min(kPixelTile, P - p0), m0,
                 std::min(s.c_out, m0 + chunk), nr, tile, shared ? cols.data() : nullptr, shared_panels, sc);
    }
  }
}

}  // namespace aigc
