// parallel_chunks: OpenMP parallel-for over fixed-size chunks of [0, n), for
// the element-wise kernels. The chunking does not depend on the thread count,
// so every element is computed the same way however many threads run.
#pragma once

#include <cstdint>

namespace aigc {

constexpr int64_t kElementwiseChunk = 16384;

// Calls fn(begin, end) for consecutive chunks covering [0, n).
template <class Fn>
void parallel_chunks(int64_t n, Fn fn) {
  const int64_t n_chunks = (n + kElementwiseChunk - 1) / kElementwiseChunk;
#pragma omp parallel for schedule(static) if (n_chunks > 1)
  for (int64_t c = 0; c < n_chunks; ++c) {
    const int64_t begin = c * kElementwiseChunk;
    const int64_t end = begin + kElementwiseChunk < n ? begin + kElementwiseChunk : n;
    fn(begin, end);
  }
}

}  // namespace aigc
