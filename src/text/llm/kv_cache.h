// KvCache: the keys and values of every past position, per sequence slot and
// layer, so a decode step attends to the whole context without recomputing it.
//
// Layout: [n_seq][n_layer][n_head_kv][n_ctx][head_dim] floats, so the keys
// of one (sequence, layer, KV head) are a contiguous [n_ctx, head_dim] block:
// the query heads that share that KV head read it as one attention call, and
// different KV heads can go to different threads. Not thread-safe: owned by
// one LlmContext.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace aigc {

class KvCache {
 public:
  KvCache(int n_seq, int n_layer, int n_head_kv, int n_ctx, int head_dim);

  int n_seq() const { return n_seq_; }
  int n_ctx() const { return n_ctx_; }
  // [n_ctx, head_dim] block of (seq, layer, kv_head).
  float* keys(int seq, int layer, int kv_head) { return k_.data() + offset(seq, layer, kv_head); }
  float* values(int seq, int layer, int kv_head) { return v_.data() + offset(seq, layer, kv_head); }
  size_t bytes() const { return 2 * k_.size() * sizeof(float); }

 private:
  size_t offset(int seq, int layer, int kv_head) const {
    return ((size_t(seq) * size_t(n_layer_) + size_t(layer)) * size_t(n_head_kv_) + size_t(kv_head)) *
           size_t(n_ctx_) * size_t(head_dim_);
  }

  int n_seq_, n_layer_, n_head_kv_, n_ctx_, head_dim_;
  std::vector<float> k_;
  std::vector<float> v_;
};

}  // namespace aigc
