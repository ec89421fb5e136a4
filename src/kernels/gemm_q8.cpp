// Integer GEMM for quantized weights: activation quantization, weight
// unpacking into panels, the driver and the scalar micro-kernel.
//
// Blocking as gemm_f32.cpp: work items are (up to kMChunk rows of A) x (nc
// rows of B); for each kKc-wide block of k an item unpacks its B slice into
// panels of kGemmQ8Nr rows (one panel, 5 KiB, stays in L1 while the
// micro-kernel runs over the item's rows of A, kGemmQ8Mr at a time).
#include "kernels/gemm_q8.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "core/assert.h"
#include "core/cpu_features.h"
#include "core/fp16.h"
#include "core/quant_blocks.h"
#include "core/quants_ref.h"
#include "kernels/gemm_items.h"
#include "kernels/gemm_q8_isa.h"
#include "kernels/scratch.h"

namespace aigc {

namespace {

constexpr int64_t kKc = 256;           // elements of k per packed slice (a multiple of every block size)
constexpr int64_t kNcMax = 256;        // rows of B per work item ...
constexpr int64_t kNcMin = 64;         // ... halved down to this while there are too few items
constexpr int64_t kMinItems = 8;
constexpr int64_t kMChunk = 512;       // rows of A per work item (a multiple of kGemmQ8Mr)

// Decoders of one 32-element block (block `blk` of a row, counted in
// 32-element blocks) into unsigned quants u[32] and w = s * u - o, or of a
// whole super-block of the K types.
uint32_t load_bits(const uint8_t* qh) {  // Q5_0 / Q5_1: bit j is element j's fifth bit
  uint32_t bits;
  std::memcpy(&bits, qh, 4);
  return bits;
}

void nibbles(const uint8_t* qs, uint8_t* u) {  // elements j and j + 16 in the low and high nibble of qs[j]
  for (int j = 0; j < kQK / 2; ++j) {
    u[j] = qs[j] & 0x0F;
    u[j + kQK / 2] = qs[j] >> 4;
  }
}

void fifth_bits(uint32_t bits, uint8_t* u) {
  for (int j = 0; j < kQK; ++j) u[j] = uint8_t(u[j] | ((bits >> j) & 1) << 4);
}

struct DecodeQ8_0 {
  static constexpr int kBlock = kQK;
  static void decode(const void* row, int64_t blk, uint8_t* u, float* s, float* o) {
    const BlockQ8_0& b = static_cast<const BlockQ8_0*>(row)[blk];
    for (int j = 0; j < kQK; ++j) u[j] = uint8_t(b.qs[j]) ^ 0x80;  // q + 128
    *s = fp16_to_fp32(b.d);
    *o = 128.0f * *s;
  }
};

// Q4_0, Q4_1, Q5_0, Q5_1: 4-bit quants, a fifth bit from qh (Q5_*), and
// either an offset of 8 or 16 (x = d (q - offset): Q4_0, Q5_0) or a min m
// (x = d q + m: Q4_1, Q5_1).
template <class Block>
struct DecodeNibbles {
  static constexpr int kBlock = kQK;
  static void decode(const void* row, int64_t blk, uint8_t* u, float* s, float* o) {
    const Block& b = static_cast<const Block*>(row)[blk];
    constexpr bool kFiveBit = requires { b.qh; };
    nibbles(b.qs, u);
    if constexpr (kFiveBit) fifth_bits(load_bits(b.qh), u);
    *s = fp16_to_fp32(b.d);
    if constexpr (requires { b.m; }) {
      *o = -fp16_to_fp32(b.m);
    } else {
      *o = (kFiveBit ? 16.0f : 8.0f) * *s;
    }
  }
};

// Q4_K / Q5_K: sub-block g of a super-block is the low (g even) or high (g
// odd) nibbles of qs[32 * (g / 2) ..], scaled by d * scale_g, offset by
// dmin * min_g; Q5_K's fifth bit of element l is bit g of qh[l].
template <class Block>
struct DecodeK {
  static constexpr int kBlock = kQK;
  // The 8 sub-blocks of super-block i, u[32 g + l] for sub-block g.
  static void decode_super_block(const void* row, int64_t i, uint8_t* u, float* s, float* o) {
    const Block& b = static_cast<const Block*>(row)[i];
    const float d = fp16_to_fp32(b.d), dmin = fp16_to_fp32(b.dmin);
    for (int c = 0; c < 4; ++c) {  // 64 elements: low nibbles (sub-block 2c), then high (2c + 1)
      const uint8_t* q = b.qs + 32 * c;
      for (int l = 0; l < 32; ++l) u[64 * c + l] = q[l] & 0x0F;
      for (int l = 0; l < 32; ++l) u[64 * c + 32 + l] = q[l] >> 4;
      if constexpr (std::is_same_v<Block, BlockQ5_K>) {
        for (int l = 0; l < 32; ++l) u[64 * c + l] = uint8_t(u[64 * c + l] | ((b.qh[l] >> (2 * c)) & 1) << 4);
        for (int l = 0; l < 32; ++l)
          u[64 * c + 32 + l] = uint8_t(u[64 * c + 32 + l] | ((b.qh[l] >> (2 * c + 1)) & 1) << 4);
      }
    }
    for (int g = 0; g < 8; ++g) {
      uint8_t sc, mn;
      k4_scale_min(g, b.scales, &sc, &mn);
      s[g] = d * float(sc);
      o[g] = dmin * float(mn);
    }
  }
};

// Q6_K in blocks of 16 (its scales change every 16 elements), a super-block
// at a time: quarter j of half h (32 elements) takes the low (j < 2) or high
// nibbles of ql[64 h + 32 (j % 2) ..] and bits 2j, 2j + 1 of qh[32 h + l];
// w = d * scale_b * (q - 32) for the 16-element block b.
struct DecodeQ6_K {
  static constexpr int kBlock = 16;
  static void decode_super_block(const void* row, int64_t i, uint8_t* u, float* s, float* o) {
    const BlockQ6_K& b = static_cast<const BlockQ6_K*>(row)[i];
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = b.ql + 64 * h;
      const uint8_t* qh = b.qh + 32 * h;
      uint8_t* uh = u + 128 * h;
      for (int l = 0; l < 32; ++l) uh[l] = uint8_t((ql[l] & 0x0F) | (qh[l] & 3) << 4);
      for (int l = 0; l < 32; ++l) uh[32 + l] = uint8_t((ql[32 + l] & 0x0F) | ((qh[l] >> 2) & 3) << 4);
      for (int l = 0; l < 32; ++l) uh[64 + l] = uint8_t((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4);
      for (int l = 0; l < 32; ++l) uh[96 + l] = uint8_t((ql[32 + l] >> 4) | ((qh[l] >> 6) & 3) << 4);
    }
    const float d = fp16_to_fp32(b.d);
    for (int g = 0; g < 16; ++g) {
      s[g] = d * float(b.scales[g]);
      o[g] = 32.0f * s[g];
    }
  }
};

// Blocks [blk0, blk0 + n_blk) of one row into u (n_blk x B quants), s, o,
// block by block; the K types decode a whole super-block at once instead.
template <class Decoder>
void decode_slice(const void* row, int64_t blk0, int64_t n_blk, uint8_t* u, float* s, float* o) {
  if constexpr (requires { Decoder::decode_super_block; }) {
    constexpr int64_t kPerSuper = kQK_K / Decoder::kBlock;
    AIGC_ASSERT(blk0 % kPerSuper == 0 && n_blk == kPerSuper);
    Decoder::decode_super_block(row, blk0 / kPerSuper, u, s, o);
  } else {
    for (int64_t jb = 0; jb < n_blk; ++jb) Decoder::decode(row, blk0 + jb, u + jb * Decoder::kBlock, s + jb, o + jb);
  }
}

// Rows [n0, n0 + nb) x blocks [blk0, blk0 + n_blk) of B into panels of
// kGemmQ8Nr rows (the last zero-padded), panel p at packed + p * n_blk *
// sizeof(block): each row's slice decoded, then moved four bytes at a time
// into the panel blocks' element-group order.
template <class Decoder>
void pack_b_slice_as(const void* b, int64_t b_row_bytes, int64_t n0, int64_t nb, int64_t blk0, int64_t n_blk,
                     uint8_t* packed) {
  constexpr int B = Decoder::kBlock;
  using PanelBlock = GemmQ8PanelBlock<B>;
  AIGC_ASSERT(n_blk * B <= kKc);
  uint8_t u[kKc];
  float s[kKc / B], o[kKc / B];
  for (int64_t p = 0; p * kGemmQ8Nr < nb; ++p) {
    const int64_t rows = std::min(kGemmQ8Nr, nb - p * kGemmQ8Nr);
    PanelBlock* panel = reinterpret_cast<PanelBlock*>(packed + p * n_blk * int64_t(sizeof(PanelBlock)));
    for (int64_t j = 0; j < kGemmQ8Nr; ++j) {
      if (j < rows) {
        decode_slice<Decoder>(static_cast<const char*>(b) + (n0 + p * kGemmQ8Nr + j) * b_row_bytes, blk0, n_blk, u,
                              s, o);
      } else {
        std::memset(u, 0, sizeof(u));
        std::fill(s, s + kKc / B, 0.0f);
        std::fill(o, o + kKc / B, 0.0f);
      }
      for (int64_t jb = 0; jb < n_blk; ++jb) {
        for (int g = 0; g < B / 4; ++g) std::memcpy(panel[jb].u[g][j], u + jb * B + 4 * g, 4);
        panel[jb].s[j] = s[jb];
        panel[jb].o[j] = o[jb];
      }
    }
  }
}

void pack_b_slice(DType type, const void* b, int64_t b_row_bytes, int64_t n0, int64_t nb, int64_t blk0,
                  int64_t n_blk, uint8_t* packed) {
  switch (type) {
    case DType::Q8_0: return pack_b_slice_as<DecodeQ8_0>(b, b_row_bytes, n0, nb, blk0, n_blk, packed);
    case DType::Q4_0: return pack_b_slice_as<DecodeNibbles<BlockQ4_0>>(b, b_row_bytes, n0, nb, blk0, n_blk, packed);
    case DType::Q4_1: return pack_b_slice_as<DecodeNibbles<BlockQ4_1>>(b, b_row_bytes, n0, nb, blk0, n_blk, packed);
    case DType::Q5_0: return pack_b_slice_as<DecodeNibbles<BlockQ5_0>>(b, b_row_bytes, n0, nb, blk0, n_blk, packed);
    case DType::Q5_1: return pack_b_slice_as<DecodeNibbles<BlockQ5_1>>(b, b_row_bytes, n0, nb, blk0, n_blk, packed);
    case DType::Q4_K: return pack_b_slice_as<DecodeK<BlockQ4_K>>(b, b_row_bytes, n0, nb, blk0, n_blk, packed);
    case DType::Q5_K: return pack_b_slice_as<DecodeK<BlockQ5_K>>(b, b_row_bytes, n0, nb, blk0, n_blk, packed);
    case DType::Q6_K: return pack_b_slice_as<DecodeQ6_K>(b, b_row_bytes, n0, nb, blk0, n_blk, packed);
    default: AIGC_ASSERT(false && "gemm_q8: unsupported weight type");
  }
}

// A row of k floats as 8-bit quants, per B-element block d = amax / 127,
// q = x * (1 / d) rounded to nearest even, and d * sum(q), into a row of the
// tile layout (gemm_q8_isa.h).
template <int B>
void quantize_a_row_scalar(const float* x, int64_t k, int8_t* q, float* d, float* dsum) {
  for (int64_t blk = 0; blk < k / B; ++blk) {
    const float* xb = x + blk * B;
    float amax = 0.0f;
    for (int j = 0; j < B; ++j) amax = std::max(amax, std::fabs(xb[j]));
    const float db = amax / 127.0f;
    const float id = db != 0.0f ? 1.0f / db : 0.0f;
    int sum = 0;
    for (int j = 0; j < B; ++j) {
      const int v = quant_nearest_int(xb[j] * id);
      q[blk * kGemmQ8Mr * B + j] = int8_t(v);
      sum += v;
    }
    d[blk * kGemmQ8Mr] = db;
    dsum[blk * kGemmQ8Mr] = db * float(sum);
  }
}

using TileFn = void (*)(int64_t n_blk, const GemmQ8A& a, const uint8_t* panel, float* c, int64_t ldc,
                        int accumulate);

// The scalar reference of the micro-kernel: the same operations in the same order.
template <int B>
void gemm_q8_tile_scalar(int64_t n_blk, const GemmQ8A& a, const uint8_t* panel, float* c, int64_t ldc,
                         int accumulate) {
  float acc[kGemmQ8Mr][kGemmQ8Nr];
  for (int64_t i = 0; i < kGemmQ8Mr; ++i)
    for (int64_t j = 0; j < kGemmQ8Nr; ++j) acc[i][j] = accumulate ? c[i * ldc + j] : 0.0f;
  for (int64_t blk = 0; blk < n_blk; ++blk) {
    const auto* pb = reinterpret_cast<const GemmQ8PanelBlock<B>*>(panel + blk * int64_t(sizeof(GemmQ8PanelBlock<B>)));
    for (int64_t i = 0; i < kGemmQ8Mr; ++i) {
      const int8_t* qa = a.q + (blk * kGemmQ8Mr + i) * B;
      const float da = a.d[blk * kGemmQ8Mr + i], dsa = a.dsum[blk * kGemmQ8Mr + i];
      for (int64_t j = 0; j < kGemmQ8Nr; ++j) {
        int32_t isum = 0;
        for (int g = 0; g < B / 4; ++g)
          for (int e = 0; e < 4; ++e) isum += int32_t(pb->u[g][j][e]) * int32_t(qa[4 * g + e]);
        acc[i][j] = std::fma(float(isum), pb->s[j] * da, acc[i][j]);
        acc[i][j] = std::fma(-pb->o[j], dsa, acc[i][j]);
      }
    }
  }
  for (int64_t i = 0; i < kGemmQ8Mr; ++i)
    for (int64_t j = 0; j < kGemmQ8Nr; ++j) c[i * ldc + j] = acc[i][j];
}

using QuantizeRowFn = void (*)(const float* x, int64_t k, int8_t* q, float* d, float* dsum);

struct Kernels {
  TileFn tile;
  QuantizeRowFn quantize_row;
  bool amx;  // the tile runs on AMX: configure each thread's tiles around it
};

// AVX2's micro-kernel for 32-element blocks of b_type: by quant width
// (gemm_q8_isa.h); 5-bit for Q5_0, Q5_1, Q5_K, 4-bit for Q4_0, Q4_1, Q4_K.
TileFn avx2_tile_for(DType b_type) {
  const bool five_bit = b_type == DType::Q5_0 || b_type == DType::Q5_1 || b_type == DType::Q5_K;
  return five_bit ? gemm_q8_tile_u5_avx2 : gemm_q8_tile_u4_avx2;
}

template <int B>
Kernels kernels_for(Isa isa, DType b_type) {
  const Isa kernel_isa = gemm_q8_kernel_isa(isa);
  if (kernel_isa == Isa::kAvx512) {
    // AMX for 32-element blocks: 5-15% faster over the whole GEMM (2 threads,
    // 512 x 2048 x 2048); with 16-element blocks (Q6_K) its half-width
    // products made it 5-10% slower than VNNI.
    if constexpr (B == 32) {
      const bool amx = amx_usable();
      return {amx ? gemm_q8_tile_amx : gemm_q8_tile_avx512, gemm_q8_quantize_row_avx512, amx};
    }
    return {gemm_q8_tile16_avx512, gemm_q8_quantize_row16_avx512, false};
  }
  if (kernel_isa == Isa::kAvx2) {
    if constexpr (B == 32) return {avx2_tile_for(b_type), gemm_q8_quantize_row_avx2, false};
    return {gemm_q8_tile16_u6_avx2, gemm_q8_quantize_row16_avx2, false};
  }
  return {gemm_q8_tile_scalar<B>, quantize_a_row_scalar<B>, false};
}

thread_local ScratchBuffer t_a_q, t_a_d, t_a_dsum;  // the caller's: quantized A, shared by its team
thread_local ScratchBuffer t_packed_b;               // each thread's: one nc x kKc slice of B

// gemm_q8 with blocks of B elements.
template <int B>
void gemm_q8_blocks(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, DType b_type, const void* b,
                    int64_t b_row_bytes, float* c, int64_t ldc, Isa isa) {
  constexpr int64_t kBlockBytes = sizeof(GemmQ8PanelBlock<B>);
  const Kernels kern = kernels_for<B>(isa, b_type);
  const int64_t n_blocks = k / B;
  const int64_t m_padded = (m + kGemmQ8Mr - 1) / kGemmQ8Mr * kGemmQ8Mr;
  int8_t* a_q = t_a_q.get<int8_t>(size_t(m_padded * k));
  float* a_d = t_a_d.get<float>(size_t(m_padded * n_blocks));
  float* a_dsum = t_a_dsum.get<float>(size_t(m_padded * n_blocks));
  const GemmItems items = gemm_items(m, n, kMChunk, kNcMax, kNcMin, kMinItems);
  const int64_t nc = items.nc;
  const bool parallel = double(m) * double(n) * double(k) > 1e6;

#pragma omp parallel if (parallel)
  {
    // A in tiles of kGemmQ8Mr rows (gemm_q8_isa.h); rows past m are zeros.
#pragma omp for schedule(static)
    for (int64_t i = 0; i < m_padded; ++i) {
      const int64_t tile0 = i / kGemmQ8Mr * kGemmQ8Mr, r = i % kGemmQ8Mr;
      int8_t* q = a_q + tile0 * k + r * B;
      float* d = a_d + tile0 * n_blocks + r;
      float* dsum = a_dsum + tile0 * n_blocks + r;
      if (i < m) {
        kern.quantize_row(a + i * lda, k, q, d, dsum);
      } else {
        for (int64_t blk = 0; blk < n_blocks; ++blk) {
          std::memset(q + blk * kGemmQ8Mr * B, 0, B);
          d[blk * kGemmQ8Mr] = dsum[blk * kGemmQ8Mr] = 0.0f;
        }
      }
    }
    const int64_t panels_max = nc / kGemmQ8Nr;
    uint8_t* packed = t_packed_b.get<uint8_t>(size_t(panels_max * (kKc / B) * kBlockBytes));
    if (kern.amx) gemm_q8_configure_tiles_amx();
#pragma omp for schedule(static)
    for (int64_t item = 0; item < items.n_items; ++item) {
      const auto [m0, m_end, n0, nb] = items.at(item);
      for (int64_t k0 = 0; k0 < k; k0 += kKc) {
        const int64_t n_blk = std::min(kKc, k - k0) / B, blk0 = k0 / B;
        pack_b_slice(b_type, b, b_row_bytes, n0, nb, blk0, n_blk, packed);
        for (int64_t jb = 0; jb < nb; jb += kGemmQ8Nr) {
          const uint8_t* panel = packed + (jb / kGemmQ8Nr) * n_blk * kBlockBytes;
          for (int64_t i = m0; i < m_end; i += kGemmQ8Mr) {
            // The next tile's rows of C, ldc apart (no hardware prefetcher follows them):
            // one thread, 512 x 2048 x 2048, alternated: AVX2 Q4_0 / Q6_K +13-17%, VNNI
            // (Q6_K) +4-12%; with AMX tiles (Q4_0) it measured 3-5% slower once, so not there.
            if (!kern.amx)
              for (int64_t r = i + kGemmQ8Mr; r < std::min(i + 2 * kGemmQ8Mr, m_end); ++r)
                __builtin_prefetch(c + r * ldc + n0 + jb, 1);
            const GemmQ8A at{a_q + i * k + blk0 * kGemmQ8Mr * B, a_d + i * n_blocks + blk0 * kGemmQ8Mr,
                             a_dsum + i * n_blocks + blk0 * kGemmQ8Mr};
            run_tile_buffered<kGemmQ8Mr * kGemmQ8Nr>(
                c + i * ldc + n0 + jb, ldc, kGemmQ8Mr, kGemmQ8Nr, std::min(kGemmQ8Mr, m - i),
                std::min(kGemmQ8Nr, nb - jb), k0 > 0,
                [&](float* dst, int64_t ld) { kern.tile(n_blk, at, panel, dst, ld, k0 > 0); });
          }
        }
      }
    }
    if (kern.amx) gemm_q8_release_tiles_amx();
  }
}

}  // namespace

Isa gemm_q8_kernel_isa(Isa isa) {
  if (isa >= Isa::kAvx512 && cpu_supports(Isa::kAvx512)) return Isa::kAvx512;
  if (isa >= Isa::kAvx2 && cpu_supports(Isa::kAvx2)) return Isa::kAvx2;
  return Isa::kScalar;
}

bool gemm_q8_supports(DType b_type, Isa isa) {
  switch (b_type) {
    case DType::Q8_0: return gemm_q8_kernel_isa(isa) != Isa::kAvx2;
    case DType::Q4_0:
    case DType::Q4_1:
    case DType::Q5_0:
    case DType::Q5_1:
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K: return true;
    default: return false;
  }
}

void gemm_q8(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, DType b_type, const void* b,
             int64_t b_row_bytes, float* c, int64_t ldc, Isa isa) {
  const DTypeTraits* bt = dtype_traits(b_type);
  AIGC_ASSERT(gemm_q8_supports(b_type, isa) && bt != nullptr);
  AIGC_ASSERT(m >= 0 && n >= 0 && k >= 0 && k % bt->block_size == 0);
  if (m == 0 || n == 0) return;
  if (b_type == DType::Q6_K) {
    gemm_q8_blocks<DecodeQ6_K::kBlock>(m, n, k, a, lda, b_type, b, b_row_bytes, c, ldc, isa);
  } else {
    gemm_q8_blocks<kQK>(m, n, k, a, lda, b_type, b, b_row_bytes, c, ldc, isa);
  }
}

}  // namespace aigc
