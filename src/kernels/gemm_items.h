// How the packed GEMMs (gemm_f32, gemm_q8) cut C into work items, and how
// they run their micro-kernels on the partial tiles at its edges.
//
// Work items: chunks of m_chunk rows of A times tiles of nc rows of B, nc
// halved from nc_max down to nc_min while that gives fewer than min_items
// items. It depends only on the shape, never on the thread count, so each
// element of C is reduced the same way whoever runs its item.
#pragma once

#include <cstdint>
#include <cstring>

namespace aigc {

// One work item: rows [m0, m_end) of A (and C) by rows [n0, n0 + nb) of B.
struct GemmItem {
  int64_t m0, m_end, n0, nb;
};

struct GemmItems {
  int64_t m, n, m_chunk;
  int64_t nc;        // rows of B per item
  int64_t n_tiles;   // items along n
  int64_t n_items;   // n_tiles x the chunks along m

  // Item i: chunk i / n_tiles along m, tile i % n_tiles along n.
  GemmItem at(int64_t i) const {
    const int64_t m0 = (i / n_tiles) * m_chunk, n0 = (i % n_tiles) * nc;
    return {m0, m0 + m_chunk < m ? m0 + m_chunk : m, n0, nc < n - n0 ? nc : n - n0};
  }
};

inline GemmItems gemm_items(int64_t m, int64_t n, int64_t m_chunk, int64_t nc_max, int64_t nc_min, int64_t min_items) {
  const int64_t m_chunks = (m + m_chunk - 1) / m_chunk;
  int64_t nc = nc_max;
  while (nc > nc_min && (n + nc - 1) / nc * m_chunks < min_items) nc /= 2;
  const int64_t n_tiles = (n + nc - 1) / nc;
  return {m, n, m_chunk, nc, n_tiles, n_tiles * m_chunks};
}

// Runs kernel(dst, ld_dst), which writes a whole mr x nr tile, on the tile of
// C at c: in place when the tile is whole, else through a buffer of kMaxTile
// floats (holding C's rows x cols first when the kernel accumulates), of
// which only rows x cols go back to C.
template <int64_t kMaxTile, class Kernel>
inline void run_tile_buffered(float* c, int64_t ldc, int64_t mr, int64_t nr, int64_t rows, int64_t cols,
                              bool accumulate, Kernel kernel) {
  if (rows == mr && cols == nr) {
    kernel(c, ldc);
    return;
  }
  float tile[kMaxTile];
  if (accumulate)
    for (int64_t i = 0; i < rows; ++i) std::memcpy(tile + i * nr, c + i * ldc, size_t(cols) * sizeof(float));
  kernel(tile, nr);
  for (int64_t i = 0; i < rows; ++i) std::memcpy(c + i * ldc, tile + i * nr, size_t(cols) * sizeof(float));
}

}  // namespace aigc
