// KvCache: allocation of the per-sequence, per-layer, per-KV-head key and
// value blocks, and the conversion of new keys and values into them.
#include "text/llm/kv_cache.h"

#include <cstring>

#include "core/assert.h"
#include "core/fp16.h"

namespace aigc {

KvCache::KvCache(int n_seq, int n_layer, int n_head_kv, int n_ctx, int head_dim, DType type)
    : n_seq_(n_seq),
      n_layer_(n_layer),
      n_head_kv_(n_head_kv),
      n_ctx_(n_ctx),
      head_dim_(head_dim),
      type_(type),
      elem_bytes_(type == DType::F16 ? 2 : 4) {
  AIGC_ASSERT(type == DType::F32 || type == DType::F16);
  const size_t n = size_t(n_seq) * size_t(n_layer) * size_t(n_head_kv) * size_t(n_ctx) * size_t(head_dim);
  k_.assign(n * elem_bytes_, 0);
  v_.assign(n * elem_bytes_, 0);
}

void KvCache::store(int seq, int layer, int kv_head, int pos, const float* key, const float* value) {
  const size_t at = offset(seq, layer, kv_head) + size_t(pos) * size_t(head_dim_) * elem_bytes_;
  if (type_ == DType::F32) {
    std::memcpy(k_.data() + at, key, size_t(head_dim_) * sizeof(float));
    std::memcpy(v_.data() + at, value, size_t(head_dim_) * sizeof(float));
    return;
  }
  uint16_t* k = reinterpret_cast<uint16_t*>(k_.data() + at);
  uint16_t* v = reinterpret_cast<uint16_t*>(v_.data() + at);
  for (int i = 0; i < head_dim_; ++i) {
    k[i] = fp32_to_fp16(key[i]);
    v[i] = fp32_to_fp16(value[i]);
  }
}

}  // namespace aigc
