// BF16 AMX GEMM driver: splits the activations once per call into bf16
// parts grouped by 16 tokens (the tile unit's VNNI layout), then each
// work item (a chunk of tokens x nc weight rows) converts its weight rows
// block by block along k (kAmxKc at a time, row-major: the tile unit reads
// weights as they are) and runs the 32 x 32 micro-kernel into a transposed
// C buffer, written back to C when the item is done.
#include "kernels/gemm_amx.h"

#include <algorithm>
#include <cstring>

#include "core/assert.h"
#include "core/cpu_features.h"
#include "kernels/gemm_amx_isa.h"
#include "kernels/gemm_f32_isa.h"
#include "kernels/gemm_items.h"
#include "kernels/scratch.h"

namespace aigc {

namespace {

constexpr int64_t kAmxKc = 256;       // values of k per block (a multiple of 32)
constexpr int64_t kAmxNcMax = 256;    // weight rows per work item ...
constexpr int64_t kAmxNcMin = 64;     // ... down to this where that makes too few items
constexpr int64_t kAmxMinItems = 8;
constexpr int64_t kAmxMChunk = 512;   // tokens per work item (a multiple of 32)
constexpr int64_t kAmxGroup = 16;     // tokens per VNNI group
constexpr int64_t kPrefetchRows = 4;

int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

thread_local ScratchBuffer t_act;     // the caller's: split activations, shared by its team
thread_local ScratchBuffer t_weights; // each thread's: one block of split weight rows
thread_local ScratchBuffer t_ct;      // each thread's: C transposed for one item
thread_local ScratchBuffer t_row;     // each thread's: one zero-padded weight row piece

// Split activations, block by block along k: the block at k0 (kc wide, a
// multiple of 32) holds group g of 16 tokens at k0 * m_pad + g * 16 * kc in
// each part's array.
struct SplitActivations {
  uint16_t* parts[kAmxMaxParts];
  int n_parts;
  int64_t m_pad;

  int64_t offset(int64_t k0, int64_t kc, int64_t token) const {
    return k0 * m_pad + token / kAmxGroup * kAmxGroup * kc;
  }
};

// Splits the group of 16 tokens from token i0 (zero rows past m) for every
// block along k.
void split_group(const SplitActivations& act, int64_t i0, int64_t m, int64_t k, int64_t k_pad, const float* a,
                 int64_t lda) {
  for (int64_t k0 = 0; k0 < k_pad; k0 += kAmxKc) {
    const int64_t kc = std::min(kAmxKc, k_pad - k0), off = act.offset(k0, kc, i0);
    const float* rows[kAmxGroup];
    for (int64_t t = 0; t < kAmxGroup; ++t) rows[t] = i0 + t < m ? a + (i0 + t) * lda + k0 : nullptr;
    uint16_t* dst[kAmxMaxParts];
    for (int q = 0; q < act.n_parts; ++q) dst[q] = act.parts[q] + off;
    gemm_amx_split_group(rows, kc, std::min(kc, k - k0), act.n_parts, dst);
  }
}

// Rows [n0, n0 + nb) x values [k0, k0 + kc) of B, zero-padded to nb_pad
// rows and past k, as n_parts bf16 parts (parts[q], row-major, kc wide).
// Each row's piece is a few cache lines in a page of its own, too short for
// the hardware prefetcher: the piece kPrefetchRows rows on is asked for
// while this one is converted.
void split_weights(DType b_type, const void* b, int64_t b_row_bytes, int64_t n0, int64_t nb, int64_t nb_pad,
                   int64_t k, int64_t k0, int64_t kc, int n_parts, uint16_t* const* parts, float* row) {
  const int64_t valid = std::min(kc, k - k0);
  const int64_t elem_bytes = b_type == DType::F32 ? 4 : 2;
  for (int64_t j = 0; j < nb_pad; ++j) {
    uint16_t* dst[kAmxMaxParts];
    for (int q = 0; q < n_parts; ++q) dst[q] = parts[q] + j * kc;
    if (j >= nb) {
      for (int q = 0; q < n_parts; ++q) std::fill(dst[q], dst[q] + kc, uint16_t(0));
      continue;
    }
    const char* src = static_cast<const char*>(b) + (n0 + j) * b_row_bytes + k0 * elem_bytes;
    if (j + kPrefetchRows < nb)
      for (int64_t off = 0; off < valid * elem_bytes; off += 64)
        __builtin_prefetch(src + kPrefetchRows * b_row_bytes + off);
    if (b_type == DType::BF16) {
      std::memcpy(dst[0], src, size_t(valid) * 2);
      std::fill(dst[0] + valid, dst[0] + kc, uint16_t(0));
      continue;
    }
    if (b_type == DType::F16) {
      gemm_f16_to_f32_avx512(src, row, valid);
    } else {
      std::memcpy(row, src, size_t(valid) * sizeof(float));
    }
    std::fill(row + valid, row + kc, 0.0f);
    gemm_amx_split_row(row, kc, n_parts, dst);
  }
}

// C rows [m0, m_end) x columns [n0, n0 + nb) from ct (nb rows of tokens,
// allocated to whole 16 x 16 blocks), by 16 x 16 transposes.
void write_transposed(const float* ct, int64_t ldct, int64_t m0, int64_t m_end, int64_t n0, int64_t nb, float* c,
                      int64_t ldc) {
  for (int64_t i0 = m0; i0 < m_end; i0 += 16)
    for (int64_t j0 = 0; j0 < nb; j0 += 16)
      gemm_amx_store_transposed(ct + j0 * ldct + (i0 - m0), ldct, std::min<int64_t>(16, m_end - i0),
                                std::min<int64_t>(16, nb - j0), c + i0 * ldc + n0 + j0, ldc);
}

}  // namespace

// Weight part i times activation part j for i + j < n_parts (the products
// left out are below 2^-8 of the smallest kept), in a snake order that
// changes one operand at a time where it can.
AmxPasses gemm_amx_passes(int w_parts, int n_parts) {
  AmxPasses passes{};
  for (int i = 0; i < w_parts; ++i)
    for (int step = 0; step < n_parts - i; ++step) {
      const int j = i % 2 == 0 ? step : n_parts - i - 1 - step;
      passes.w[passes.count] = uint8_t(i);
      passes.a[passes.count] = uint8_t(j);
      ++passes.count;
    }
  return passes;
}

bool gemm_amx_supports(DType b_type) {
  return b_type == DType::F32 || b_type == DType::F16 || b_type == DType::BF16;
}

void gemm_amx(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, DType b_type, const void* b,
              int64_t b_row_bytes, float* c, int64_t ldc) {
  AIGC_ASSERT(amx_usable() && gemm_amx_supports(b_type));
  AIGC_ASSERT(m >= 0 && n >= 0 && k >= 0);
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    return;
  }
  // Activations in 2 parts (16 bits) against F16 and BF16, 3 (24) against
  // F32; weights in as many parts as their type needs.
  const int n_parts = b_type == DType::F32 ? 3 : 2;
  const int w_parts = b_type == DType::F32 ? 3 : b_type == DType::F16 ? 2 : 1;
  const AmxPasses passes = gemm_amx_passes(w_parts, n_parts);
  const int64_t k_pad = round_up(k, 32), m_pad = round_up(m, 32);
  uint16_t* act_data = t_act.get<uint16_t>(size_t(n_parts * m_pad * k_pad));
  SplitActivations act{{}, n_parts, m_pad};
  for (int q = 0; q < n_parts; ++q) act.parts[q] = act_data + q * m_pad * k_pad;
  const GemmItems items = gemm_items(m, n, kAmxMChunk, kAmxNcMax, kAmxNcMin, kAmxMinItems);
  const int64_t nc_pad = round_up(items.nc, 32), ldct = kAmxMChunk + 16;  // + 16: rows off one cache set
  const bool parallel = double(m) * double(n) * double(k) > 1e6;

#pragma omp parallel if (parallel)
  {
    float* row = t_row.get<float>(size_t(kAmxKc));
#pragma omp for schedule(static)
    for (int64_t g = 0; g < m_pad / kAmxGroup; ++g) split_group(act, g * kAmxGroup, m, k, k_pad, a, lda);

    uint16_t* w_data = t_weights.get<uint16_t>(size_t(w_parts * nc_pad * kAmxKc));
    uint16_t* w[kAmxMaxParts];
    for (int q = 0; q < w_parts; ++q) w[q] = w_data + q * nc_pad * kAmxKc;
    float* ct = t_ct.get<float>(size_t(nc_pad * ldct));
    gemm_amx_configure_tiles();
#pragma omp for schedule(static)
    for (int64_t item = 0; item < items.n_items; ++item) {
      const auto [m0, m_end, n0, nb] = items.at(item);
      const int64_t nb_pad = round_up(nb, 32), m_end_pad = m0 + round_up(m_end - m0, 32);
      for (int64_t k0 = 0; k0 < k_pad; k0 += kAmxKc) {
        const int64_t kc = std::min(kAmxKc, k_pad - k0);
        split_weights(b_type, b, b_row_bytes, n0, nb, nb_pad, k, k0, kc, w_parts, w, row);
        for (int64_t jb = 0; jb < nb_pad; jb += 32)
          for (int64_t ib = m0; ib < m_end_pad; ib += 32) {
            const uint16_t* w_block[kAmxMaxParts];
            const uint16_t* a_block[kAmxMaxParts];
            for (int q = 0; q < w_parts; ++q) w_block[q] = w[q] + jb * kc;
            for (int q = 0; q < n_parts; ++q) a_block[q] = act.parts[q] + act.offset(k0, kc, ib);
            gemm_amx_tile_32x32(kc, passes, w_block, kc, a_block, kAmxGroup * kc, ct + jb * ldct + (ib - m0), ldct,
                                k0 > 0);
          }
      }
      write_transposed(ct, ldct, m0, m_end, n0, nb, c, ldc);
    }
    gemm_amx_release_tiles();
  }
}

}  // namespace aigc
