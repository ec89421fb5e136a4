// KvCache: allocation of the per-sequence, per-layer, per-KV-head key and value blocks.
#include "text/llm/kv_cache.h"

namespace aigc {

KvCache::KvCache(int n_seq, int n_layer, int n_head_kv, int n_ctx, int head_dim)
    : n_seq_(n_seq), n_layer_(n_layer), n_head_kv_(n_head_kv), n_ctx_(n_ctx), head_dim_(head_dim) {
  const size_t n = size_t(n_seq) * size_t(n_layer) * size_t(n_head_kv) * size_t(n_ctx) * size_t(head_dim);
  k_.assign(n, 0.0f);
  v_.assign(n, 0.0f);
}

}  // namespace aigc
