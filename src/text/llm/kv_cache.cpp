// KvCache: allocation of the per-sequence, per-layer key and value blocks.
#include "text/llm/kv_cache.h"

namespace aigc {

KvCache::KvCache(int n_seq, int n_layer, int n_ctx, int kv_dim)
    : n_seq_(n_seq), n_layer_(n_layer), n_ctx_(n_ctx), kv_dim_(kv_dim) {
  const size_t n = size_t(n_seq) * size_t(n_layer) * size_t(n_ctx) * size_t(kv_dim);
  k_.assign(n, 0.0f);
  v_.assign(n, 0.0f);
}

}  // namespace aigc
