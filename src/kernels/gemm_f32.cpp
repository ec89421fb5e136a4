// Packed F32 GEMM: drivers, packing and the scalar micro-kernel.
//
// Blocking (GotoBLAS style, roles of A and B swapped because B holds the
// weights): work items are (chunk of kGemmMChunkMcs x mc rows of A) x (nc
// rows of B). For each block of kGemmKc along k, a work item
// dequantizes/packs its nc x kGemmKc slice of B into panels of nr columns
// (one panel stays in L1), then runs the micro-kernel over mc-row blocks
// (mc = kGemmMcTiles x the tile's mr rows) of the packed A
// (which stay in L2), each block meeting all nc / nr panels before the next
// one comes from L3. A is packed once per call, shared by all threads.
//
// nc is kGemmNcMax (256: A's L3 -> L2 traffic spread over 16 panels; 64
// gave about 50% of the FMA peak on one core, 256 about 70%), halved down to
// kGemmNcMin while that gives fewer than kGemmMinItems work items. It depends
// only on the shape, never on the thread count.
#include "kernels/gemm_f32.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "core/assert.h"
#include "core/cpu_features.h"
#include "kernels/gemm_f32_isa.h"
#include "kernels/gemm_items.h"
#include "kernels/scratch.h"

namespace aigc {

namespace {

constexpr int64_t kGemmNcMax = 256;    // rows of B per work item (a multiple of every nr) ...
constexpr int64_t kGemmNcMin = 64;     // ... down to this where that makes too few work items
constexpr int64_t kGemmMinItems = 8;
constexpr int64_t kGemmMcTiles = 22;   // tiles of mr rows of A per L2 block (132 rows for mr = 6)
constexpr int64_t kGemmMChunkMcs = 4;  // L2 blocks of A per work item
constexpr int64_t kMaxMr = 8;
constexpr int64_t kMaxNr = 32;

using TileFn = void (*)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int accumulate);

void gemm_f32_tile_6x16_scalar(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int accumulate) {
  float acc[6][16];
  for (int64_t i = 0; i < 6; ++i)
    for (int64_t j = 0; j < 16; ++j) acc[i][j] = accumulate ? c[i * ldc + j] : 0.0f;
  for (int64_t p = 0; p < kc; ++p, a += 6, b += 16)
    for (int64_t i = 0; i < 6; ++i)
      for (int64_t j = 0; j < 16; ++j) acc[i][j] = std::fma(a[i], b[j], acc[i][j]);
  for (int64_t i = 0; i < 6; ++i)
    for (int64_t j = 0; j < 16; ++j) c[i * ldc + j] = acc[i][j];
}

using PackPanelFn = void (*)(const float* const* src, int64_t nr, int64_t kc, float* dst);

void gemm_pack_panel_scalar(const float* const* src, int64_t nr, int64_t kc, float* dst) {
  for (int64_t j = 0; j < nr; ++j)
    for (int64_t p = 0; p < kc; ++p) dst[p * nr + j] = src[j][p];
}

struct TileKernel {
  int64_t mr, nr;  // the tile: mr rows of A (C) by nr rows of B (columns of C)
  TileFn fn;
  PackPanelFn pack;
  // Prefetch the next tile's rows of C (ldc apart: no hardware prefetcher
  // follows them). One thread, 512 x 2048 x 2048, alternated: AVX2 F32
  // 89-90 -> 96-105 GFLOP/s, Q8_0 92-94 -> 97-100; AVX-512 0-5% slower.
  bool prefetch_c;
};

TileKernel tile_kernel(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return {8, 32, gemm_f32_tile_8x32_avx512, gemm_pack_panel_avx512, false};
    case Isa::kAvx2: return {6, 16, gemm_f32_tile_6x16_avx2, gemm_pack_panel_avx2, true};
    case Isa::kScalar: break;
  }
  return {6, 16, gemm_f32_tile_6x16_scalar, gemm_pack_panel_scalar, false};
}

thread_local ScratchBuffer t_packed_a;  // the caller's: A in panels, shared by its team
thread_local ScratchBuffer t_packed_b;  // each thread's: one nc x kGemmKc slice of B
thread_local ScratchBuffer t_row;       // each thread's: one dequantized row slice

// Packed A is stored block by block along k: for the block at k0 (kc wide),
// panel ip holds rows [ip * mr, +mr) x columns [k0, k0 + kc) as [kc][mr],
// zero-padded, at packed + k0 * m_padded + ip * mr * kc. So the panels the
// micro-kernel streams for one block are contiguous (no cache-set conflicts
// from a large panel stride).
const float* packed_a_panel(const float* packed, int64_t mr, int64_t m_padded, int64_t k0, int64_t kc, int64_t ip) {
  return packed + k0 * m_padded + ip * mr * kc;
}

// Packs panel ip of A for every block along k, reading the rows side by side.
void pack_a_panel(int64_t ip, int64_t mr, int64_t m, int64_t m_padded, int64_t k, const float* a, int64_t lda,
                  float* packed) {
  const int64_t row0 = ip * mr;
  const int64_t valid = std::min(mr, m - row0);
  const float* src[kMaxMr];
  for (int64_t i = 0; i < valid; ++i) src[i] = a + (row0 + i) * lda;
  for (int64_t k0 = 0; k0 < k; k0 += kGemmKc) {
    const int64_t kc = std::min(kGemmKc, k - k0);
    float* dst = packed + k0 * m_padded + ip * mr * kc;
    for (int64_t p = k0; p < k0 + kc; ++p, dst += mr) {
      for (int64_t i = 0; i < valid; ++i) dst[i] = src[i][p];
      for (int64_t i = valid; i < mr; ++i) dst[i] = 0.0f;
    }
  }
}

// How B's rows become floats: the exact SIMD conversions for F16 and BF16,
// the dtype table's dequantizer (a copy for F32) for the rest. F32 rows are
// copied too: transposing straight from B would read nr lines a row stride
// apart, and rows 2^k bytes apart all fall in one L1 cache set.
ToFloatFn b_to_float(const DTypeTraits& bt, Isa isa) {
  if (isa == Isa::kAvx512 && bt.type == DType::F16) return gemm_f16_to_f32_avx512;
  if (isa == Isa::kAvx512 && bt.type == DType::BF16) return gemm_bf16_to_f32_avx512;
  if (isa == Isa::kAvx2 && bt.type == DType::F16) return gemm_f16_to_f32_avx2;
  if (isa == Isa::kAvx2 && bt.type == DType::BF16) return gemm_bf16_to_f32_avx2;
  return bt.to_float;
}

// Packs rows [n0, n0 + nb) x columns [k0, k0 + kc) of B into panels of nr
// rows, each [kc][nr], zero-padded to a whole panel. Rows are first
// converted with to_float into row_buf (nr x kGemmKc floats).
void pack_b_slice(const DTypeTraits& bt, ToFloatFn to_float, PackPanelFn pack, const void* b, int64_t b_row_bytes,
                  int64_t n0, int64_t nb, int64_t k0, int64_t kc, int64_t nr, float* packed, float* row_buf) {
  static const float kZeros[kGemmKc] = {};
  const int64_t k0_bytes = k0 / bt.block_size * bt.block_bytes;
  for (int64_t jp = 0; jp * nr < nb; ++jp) {
    const float* src[kMaxNr];
    for (int64_t j = 0; j < nr; ++j) {
      const int64_t row = jp * nr + j;
      if (row >= nb) {
        src[j] = kZeros;
        continue;
      }
      const char* bytes = static_cast<const char*>(b) + (n0 + row) * b_row_bytes + k0_bytes;
      to_float(bytes, row_buf + j * kGemmKc, kc);
      src[j] = row_buf + j * kGemmKc;
    }
    pack(src, nr, kc, packed + jp * nr * kc);
  }
}

}  // namespace

void gemm_f32(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, DType b_type, const void* b,
              int64_t b_row_bytes, float* c, int64_t ldc) {
  const DTypeTraits* bt = dtype_traits(b_type);
  AIGC_ASSERT(bt != nullptr && (b_type == DType::F32 || bt->to_float != nullptr));
  AIGC_ASSERT(m >= 0 && n >= 0 && k >= 0 && k % bt->block_size == 0);
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    return;
  }
  const Isa isa = active_isa();
  const TileKernel kern = tile_kernel(isa);
  const ToFloatFn to_float = b_to_float(*bt, isa);
  const int64_t mr = kern.mr, mc = mr * kGemmMcTiles, m_chunk = mc * kGemmMChunkMcs;
  const int64_t m_panels = (m + mr - 1) / mr;
  const int64_t m_padded = m_panels * mr;
  float* packed_a = t_packed_a.get<float>(size_t(m_padded * k));
  const GemmItems items = gemm_items(m, n, m_chunk, kGemmNcMax, kGemmNcMin, kGemmMinItems);
  const int64_t nc = items.nc;
  const bool parallel = double(m) * double(n) * double(k) > 1e6;

#pragma omp parallel if (parallel)
  {
#pragma omp for schedule(static)
    for (int64_t ip = 0; ip < m_panels; ++ip) pack_a_panel(ip, mr, m, m_padded, k, a, lda, packed_a);

    float* packed_b = t_packed_b.get<float>(size_t(nc * kGemmKc));
    float* row_buf = t_row.get<float>(size_t(kMaxNr * kGemmKc));
#pragma omp for schedule(static)
    for (int64_t item = 0; item < items.n_items; ++item) {
      const auto [m0, m_end, n0, nb] = items.at(item);
      for (int64_t k0 = 0; k0 < k; k0 += kGemmKc) {
        const int64_t kc = std::min(kGemmKc, k - k0);
        pack_b_slice(*bt, to_float, kern.pack, b, b_row_bytes, n0, nb, k0, kc, kern.nr, packed_b, row_buf);
        for (int64_t mb = m0; mb < m_end; mb += mc) {
          const int64_t mb_end = std::min(mb + mc, m_end);
          for (int64_t jb = 0; jb < nb; jb += kern.nr) {
            const float* b_panel = packed_b + jb * kc;
            for (int64_t i = mb; i < mb_end; i += mr) {
              if (kern.prefetch_c)
                for (int64_t r = i + mr; r < std::min(i + 2 * mr, mb_end); ++r)
                  for (int64_t j = 0; j < kern.nr; j += 16) __builtin_prefetch(c + r * ldc + n0 + jb + j, 1);
              const float* a_panel = packed_a_panel(packed_a, mr, m_padded, k0, kc, i / mr);
              run_tile_buffered<kMaxMr * kMaxNr>(
                  c + i * ldc + n0 + jb, ldc, mr, kern.nr, std::min(mr, m - i), std::min(kern.nr, nb - jb), k0 > 0,
                  [&](float* dst, int64_t ld) { kern.fn(kc, a_panel, b_panel, dst, ld, k0 > 0); });
            }
          }
        }
      }
    }
  }
}

void gemm_f32(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
              int64_t ldc) {
  gemm_f32(m, n, k, a, lda, DType::F32, b, ldb * int64_t(sizeof(float)), c, ldc);
}

}  // namespace aigc
