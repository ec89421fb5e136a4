// KvCache: the keys and values of every past position, per sequence slot and
// layer, so a decode step attends to the whole context without recomputing it.
//
// Layout: [n_seq][n_layer][n_head_kv][n_ctx][head_dim] elements of the
// cache type (F32, or F16: half the memory and half the bytes each decode
// step reads back, for keys and values rounded to 11 significant bits), so
// the keys of one (sequence, layer, KV head) are a contiguous [n_ctx,
// head_dim] block: the query heads that share that KV head read it as one
// attention call, and different KV heads can go to different threads. Not
// thread-safe: owned by one LlmContext.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/dtype.h"

namespace aigc {

class KvCache {
 public:
  // type: DType::F32 or DType::F16.
  KvCache(int n_seq, int n_layer, int n_head_kv, int n_ctx, int head_dim, DType type);

  int n_seq() const { return n_seq_; }
  int n_ctx() const { return n_ctx_; }
  DType type() const { return type_; }
  // [n_ctx, head_dim] block of (seq, layer, kv_head), in the cache type.
  const void* keys(int seq, int layer, int kv_head) const { return k_.data() + offset(seq, layer, kv_head); }
  const void* values(int seq, int layer, int kv_head) const { return v_.data() + offset(seq, layer, kv_head); }
  // Stores head_dim floats of key and value at position pos, converted to the cache type.
  void store(int seq, int layer, int kv_head, int pos, const float* key, const float* value);
  size_t bytes() const { return k_.size() + v_.size(); }

 private:
  size_t offset(int seq, int layer, int kv_head) const {
    return ((size_t(seq) * size_t(n_layer_) + size_t(layer)) * size_t(n_head_kv_) + size_t(kv_head)) *
           size_t(n_ctx_) * size_t(head_dim_) * elem_bytes_;
  }

  int n_seq_, n_layer_, n_head_kv_, n_ctx_, head_dim_;
  DType type_;
  size_t elem_bytes_;
  std::vector<uint8_t> k_;
  std::vector<uint8_t> v_;
};

}  // namespace aigc
