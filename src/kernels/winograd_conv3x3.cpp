// Winograd F(2x2, 3x3) convolution (winograd_conv3x3.h): kernel, input and
// output transforms, and the 16 GEMMs per chunk of tiles on conv2d's
// micro-kernels or AMX tiles.
#include "kernels/winograd_conv3x3.h"

#include <algorithm>
#include <vector>

#include "core/assert.h"
#include "core/cpu_features.h"
#include "kernels/conv2d.h"
#include "kernels/conv2d_isa.h"
#include "kernels/gemm_amx_isa.h"
#include "kernels/scratch.h"

namespace aigc {

namespace {

// Work pieces are rectangles of at most kChunk 2x2 tiles of one sample, at
// most kMaxCols wide.
constexpr int64_t kChunk = 128;
constexpr int64_t kMaxCols = 128;
constexpr int64_t kKc = 256;  // reduction depth (input channels) per micro-kernel call

using TileFn = void (*)(int64_t kc, const float* const* a, const float* b, int64_t ldb, float* c, int64_t ldc);

thread_local ScratchBuffer t_u_split;                       // the caller's: U in bf16 parts (AMX)
thread_local ScratchBuffer t_v, t_v_rows, t_m, t_v_split;  // each thread's per-chunk buffers, grown once

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// u = G g G^T, G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]; g [3][3], u [4][4].
void winograd_kernel(const float* g, float* u) {
  float gg[4][3];  // G g
  for (int j = 0; j < 3; ++j) {
    gg[0][j] = g[j];
    gg[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
    gg[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
    gg[3][j] = g[6 + j];
  }
  for (int i = 0; i < 4; ++i) {
    u[i * 4 + 0] = gg[i][0];
    u[i * 4 + 1] = 0.5f * (gg[i][0] + gg[i][1] + gg[i][2]);
    u[i * 4 + 2] = 0.5f * (gg[i][0] - gg[i][1] + gg[i][2]);
    u[i * 4 + 3] = gg[i][2];
  }
}

// The input transform v = B^T d B, B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
// of one row of `cols` tiles: d is the 4 x (2 cols + 2) input patch rows
// (zero outside the map), v[xi] (xi = 4 i + k) receives cols values each.
// Written as loops over the tiles so that they vectorise.
void input_row(const float (*d)[2 * kMaxCols + 2], int64_t cols, float* const* v) {
  float e[kMaxCols + 1], o[kMaxCols + 1];  // even and odd columns of a patch row
  float dB[4][4][kMaxCols];               // d B, per patch row
  for (int r = 0; r < 4; ++r) {
    for (int64_t j = 0; j <= cols; ++j) e[j] = d[r][2 * j], o[j] = d[r][2 * j + 1];
    for (int64_t c = 0; c < cols; ++c) {
      dB[r][0][c] = e[c] - e[c + 1];
      dB[r][1][c] = o[c] + e[c + 1];
      dB[r][2][c] = e[c + 1] - o[c];
      dB[r][3][c] = o[c] - o[c + 1];
    }
  }
  for (int k = 0; k < 4; ++k) {
    for (int64_t c = 0; c < cols; ++c) {
      v[0 + k][c] = dB[0][k][c] - dB[2][k][c];
      v[4 + k][c] = dB[1][k][c] + dB[2][k][c];
      v[8 + k][c] = dB[2][k][c] - dB[1][k][c];
      v[12 + k][c] = dB[1][k][c] - dB[3][k][c];
    }
  }
}

// The output transform y = A^T m A + bias, A^T = [1 1 1 0; 0 1 -1 -1], of one
// row of `cols` tiles: m[xi] holds cols values each; y[2 r + c] receives the
// cols values of output pixel (r, c) of each tile.
void output_row(const float* const* m, int64_t cols, float bias, float (*y)[kMaxCols]) {
  for (int64_t c = 0; c < cols; ++c) {
    float t0[4], t1[4];  // A^T m
    for (int k = 0; k < 4; ++k) {
      t0[k] = m[k][c] + m[4 + k][c] + m[8 + k][c];
      t1[k] = m[4 + k][c] - m[8 + k][c] - m[12 + k][c];
    }
    y[0][c] = t0[0] + t0[1] + t0[2] + bias;
    y[1][c] = t0[1] - t0[2] - t0[3] + bias;
    y[2][c] = t1[0] + t1[1] + t1[2] + bias;
    y[3][c] = t1[1] - t1[2] - t1[3] + bias;
  }
}

// u [16][C_out][C_in] = G g G^T of every kernel.
void transform_weights(float* u, const void* weight, DType weight_type, int64_t c_in, int64_t c_out) {
  const int64_t elem = dtype_traits(weight_type)->block_bytes;
#pragma omp parallel
  {
    std::vector<float> g(static_cast<size_t>(c_in * 9));
#pragma omp for schedule(static)
    for (int64_t co = 0; co < c_out; ++co) {
      conv2d_weights_to_float(static_cast<const char*>(weight) + co * c_in * 9 * elem, weight_type, g.data(),
                              c_in * 9);
      for (int64_t ci = 0; ci < c_in; ++ci) {
        float uk[16];
        winograd_kernel(g.data() + ci * 9, uk);
        for (int64_t xi = 0; xi < 16; ++xi) u[(xi * c_out + co) * c_in + ci] = uk[xi];
      }
    }
  }
}

// M[xi] = U[xi] V[xi] on conv2d's micro-kernels: rows of C_out by blocks of
// kConvMr, kKc input channels at a time; v panel-major [16][T_pad / nr][C_in][nr].
void multiply_fma(const float* U, const float* v, int64_t T_pad, int64_t c_in, int64_t c_out, int64_t c_out_pad,
                  int64_t nr, TileFn tile, float* m) {
  static const std::vector<float> zeros(static_cast<size_t>(kKc), 0.0f);  // weight rows past C_out
  std::fill_n(m, 16 * c_out_pad * T_pad, 0.0f);
  for (int64_t xi = 0; xi < 16; ++xi) {
    for (int64_t k0 = 0; k0 < c_in; k0 += kKc) {
      const int64_t kc = std::min(kKc, c_in - k0);
      for (int64_t co = 0; co < c_out; co += kConvMr) {
        const float* a[kConvMr];
        for (int64_t r = 0; r < kConvMr; ++r)
          a[r] = co + r < c_out ? U + (xi * c_out + co + r) * c_in + k0 : zeros.data();
        float* mb = m + (xi * c_out_pad + co) * T_pad;
        for (int64_t j = 0; j < T_pad; j += nr) tile(kc, a, v + ((xi * T_pad + j) * c_in + k0 * nr), nr, mb + j, T_pad);
      }
    }
  }
}

// M[xi] = U[xi] V[xi] on AMX tiles, both sides in two bf16 parts and the
// three products of gemm_amx's F16 path (|error| <= 2^-15 sum |U V| per
// element of M): v is V [16][C_in][t_max] (zeros past T up to T_pad), split
// here by groups of 16 tiles into v_split; M [16][C_out_pad][T_pad].
void multiply_amx(const uint16_t* u_split, const float* v, int64_t T_pad, int64_t t_max, int64_t c_in,
                  int64_t c_in_pad, int64_t c_out_pad, uint16_t* v_split, float* m) {
  static const AmxPasses passes = gemm_amx_passes(2, 2);
  const int64_t u_part = 16 * c_out_pad * c_in_pad, v_part = 16 * t_max * c_in_pad, group = 16 * c_in_pad;
  for (int64_t xi = 0; xi < 16; ++xi) {
    for (int64_t t0 = 0; t0 < T_pad; t0 += 16) {
      uint16_t* dst[2] = {v_split + (xi * t_max + t0) * c_in_pad, v_split + v_part + (xi * t_max + t0) * c_in_pad};
      gemm_amx_split_pairs(v + xi * c_in * t_max + t0, t_max, 16, c_in_pad, c_in, 2, dst);
    }
    for (int64_t co = 0; co < c_out_pad; co += 32) {
      const uint16_t* w[2] = {u_split + (xi * c_out_pad + co) * c_in_pad,
                              u_split + u_part + (xi * c_out_pad + co) * c_in_pad};
      for (int64_t t0 = 0; t0 < T_pad; t0 += 32) {
        const uint16_t* a[2] = {v_split + (xi * t_max + t0) * c_in_pad,
                                v_split + v_part + (xi * t_max + t0) * c_in_pad};
        gemm_amx_tile_32x32(c_in_pad, passes, w, c_in_pad, a, group, m + (xi * c_out_pad + co) * T_pad + t0, T_pad, 0);
      }
    }
  }
}

}  // namespace

void conv3x3_winograd(float* out, const float* in, const void* weight, DType weight_type, const float* bias,
                      int64_t n, int64_t c_in, int64_t c_out, int64_t h, int64_t w) {
  AIGC_ASSERT(weight_type == DType::F32 || weight_type == DType::F16 || weight_type == DType::BF16);
  AIGC_ASSERT(n > 0 && c_in > 0 && c_out > 0 && h > 0 && w > 0);
  const Isa isa = active_isa();
  const bool amx = amx_usable();
  const int64_t nr = isa == Isa::kAvx512 ? kConvNrAvx512 : kConvNrAvx2;
  const TileFn tile = isa == Isa::kAvx512 ? conv_gemm_tile_avx512
                      : isa == Isa::kAvx2 ? conv_gemm_tile_avx2
                                          : conv_gemm_tile_scalar;
  thread_local std::vector<float> u;  // [16][C_out][C_in], grown once: no fresh pages per call
  u.resize(std::max(u.size(), static_cast<size_t>(16 * c_out * c_in)));
  transform_weights(u.data(), weight, weight_type, c_in, c_out);

  // Fixed rectangles of 2x2 output tiles of one sample, each transformed,
  // multiplied and transformed back by one thread. AMX multiplies whole
  // 32 x 32 blocks of (output channels x tiles).
  const int64_t tiles_y = (h + 1) / 2, tiles_x = (w + 1) / 2;
  const int64_t chunk_cols = std::min(tiles_x, kMaxCols);
  const int64_t chunk_rows = std::max(int64_t(1), kChunk / chunk_cols);
  const int64_t chunks_x = (tiles_x + chunk_cols - 1) / chunk_cols;
  const int64_t chunks_per_sample = (tiles_y + chunk_rows - 1) / chunk_rows * chunks_x;
  const int64_t t_align = amx ? 32 : nr, t_max = round_up(kChunk, t_align);
  const int64_t c_out_pad = round_up(c_out, amx ? 32 : kConvMr), c_in_pad = round_up(c_in, 32);
  const float* U = u.data();
  // AMX: U in two bf16 parts, [2][16][C_out_pad][C_in_pad]; the caller's buffer, read by the whole team.
  uint16_t* const U_split = amx ? t_u_split.get<uint16_t>(static_cast<size_t>(2 * 16 * c_out_pad * c_in_pad)) : nullptr;
  for (int64_t xi = 0; amx && xi < 16; ++xi)
    conv2d_weights_to_amx_parts(U + xi * c_out * c_in, DType::F32, c_out, c_in, c_out_pad, c_in_pad, 2,
                                16 * c_out_pad * c_in_pad, U_split + xi * c_out_pad * c_in_pad);
#pragma omp parallel
  {
    // FMA: V panel-major [16][T_pad / nr][C_in][nr]; AMX: V [16][C_in][t_max].
    float* const v = t_v.get<float>(static_cast<size_t>(16 * c_in * t_max));
    float* const v_rows = t_v_rows.get<float>(static_cast<size_t>(16 * t_max));       // [16][T_pad] of one channel
    float* const m = t_m.get<float>(static_cast<size_t>(16 * c_out_pad * t_max));     // [16][C_out_pad][T_pad]
    uint16_t* const v_split = amx ? t_v_split.get<uint16_t>(static_cast<size_t>(2 * 16 * t_max * c_in_pad)) : nullptr;
    float d[4][2 * kMaxCols + 2], y[4][kMaxCols];
    float* vx[16];
    const float* mx[16];
    if (amx) gemm_amx_configure_tiles();
#pragma omp for schedule(dynamic)
    for (int64_t piece = 0; piece < n * chunks_per_sample; ++piece) {
      const int64_t b = piece / chunks_per_sample, chunk = piece % chunks_per_sample;
      const int64_t ty0 = chunk / chunks_x * chunk_rows, tx0 = chunk % chunks_x * chunk_cols;
      const int64_t rows = std::min(chunk_rows, tiles_y - ty0), cols = std::min(chunk_cols, tiles_x - tx0);
      const int64_t T = rows * cols, T_pad = round_up(T, t_align);
      for (int64_t ci = 0; ci < c_in; ++ci) {
        const float* plane = in + (b * c_in + ci) * h * w;
        for (int64_t rr = 0; rr < rows; ++rr) {
          for (int r = 0; r < 4; ++r) {  // patch row iy, columns ix = 2 tx0 - 1 + q, q < 2 cols + 2
            const int64_t iy = 2 * (ty0 + rr) - 1 + r, np = 2 * cols + 2;
            const int64_t q_lo = std::min(np, std::max(int64_t(0), 1 - 2 * tx0));  // first q with ix >= 0
            const int64_t q_hi = iy < 0 || iy >= h ? q_lo : std::clamp(w + 1 - 2 * tx0, q_lo, np);  // ix < w
            std::fill(d[r], d[r] + q_lo, 0.0f);
            std::copy(plane + iy * w + 2 * tx0 - 1 + q_lo, plane + iy * w + 2 * tx0 - 1 + q_hi, d[r] + q_lo);
            std::fill(d[r] + q_hi, d[r] + np, 0.0f);
          }
          for (int xi = 0; xi < 16; ++xi)  // AMX: straight into V's row ci
            vx[xi] = amx ? v + (xi * c_in + ci) * t_max + rr * cols : v_rows + xi * T_pad + rr * cols;
          input_row(d, cols, vx);
        }
        for (int64_t xi = 0; xi < 16; ++xi) {
          if (amx) {
            float* row = v + (xi * c_in + ci) * t_max;
            std::fill(row + T, row + T_pad, 0.0f);
            continue;
          }
          float* row = v_rows + xi * T_pad;
          // Panel-major, as the micro-kernel reads it: each nr-tile panel contiguous.
          std::fill(row + T, row + T_pad, 0.0f);
          for (int64_t j = 0; j < T_pad; j += nr) {
            std::copy_n(row + j, nr, v + ((xi * T_pad + j) * c_in + ci * nr));
          }
        }
      }
      if (amx) {
        multiply_amx(U_split, v, T_pad, t_max, c_in, c_in_pad, c_out_pad, v_split, m);
      } else {
        multiply_fma(U, v, T_pad, c_in, c_out, c_out_pad, nr, tile, m);
      }
      for (int64_t co = 0; co < c_out; ++co) {
        for (int64_t rr = 0; rr < rows; ++rr) {
          for (int xi = 0; xi < 16; ++xi) mx[xi] = m + (xi * c_out_pad + co) * T_pad + rr * cols;
          output_row(mx, cols, bias ? bias[co] : 0.0f, y);
          const int64_t oy = 2 * (ty0 + rr);
          for (int64_t r = 0; r < 2 && oy + r < h; ++r) {
            float* dst = out + ((b * c_out + co) * h + oy + r) * w + 2 * tx0;
            const int64_t nx = std::min(2 * cols, w - 2 * tx0);  // output columns of the chunk
            for (int64_t x = 0; x < nx; ++x) dst[x] = y[2 * r + (x & 1)][x >> 1];
          }
        }
      }
    }
    if (amx) gemm_amx_release_tiles();
  }
}

}  // namespace aigc
