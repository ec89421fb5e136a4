// How the packed GEMMs (gemm_f32, gemm_q8) cut C into work items: chunks of
// m_chunk rows of A times tiles of nc rows of B, nc halved from nc_max down
// to nc_min while that gives fewer than min_items items. It depends only on
// the shape, never on the thread count, so each element of C is reduced the
// same way whoever runs its item.
#pragma once

#include <cstdint>

namespace aigc {

struct GemmItems {
  int64_t nc;        // rows of B per item
  int64_t n_tiles;   // items along n
  int64_t n_items;   // n_tiles x the chunks along m; item i covers chunk i / n_tiles, tile i % n_tiles
};

inline GemmItems gemm_items(int64_t m, int64_t n, int64_t m_chunk, int64_t nc_max, int64_t nc_min, int64_t min_items) {
  const int64_t m_chunks = (m + m_chunk - 1) / m_chunk;
  int64_t nc = nc_max;
  while (nc > nc_min && (n + nc - 1) / nc * m_chunks < min_items) nc /= 2;
  const int64_t n_tiles = (n + nc - 1) / nc;
  return {nc, n_tiles, n_tiles * m_chunks};
}

}  // namespace aigc
