// KvCache: the keys and values of every past position, per sequence slot and
// layer, so a decode step attends to the whole context without recomputing it.
//
// Layout: [n_seq][n_layer][n_ctx][n_head_kv * head_dim] floats, so one
// (sequence, layer) is a contiguous [n_ctx, n_head_kv, head_dim] block, the
// layout the attention kernel reads. Not thread-safe: owned by one LlmContext.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace aigc {

class KvCache {
 public:
  KvCache(int n_seq, int n_layer, int n_ctx, int kv_dim);

  int n_seq() const { return n_seq_; }
  int n_ctx() const { return n_ctx_; }
  int kv_dim() const { return kv_dim_; }
  // [n_ctx, kv_dim] block of (seq, layer).
  float* keys(int seq, int layer) { return k_.data() + offset(seq, layer); }
  float* values(int seq, int layer) { return v_.data() + offset(seq, layer); }
  size_t bytes() const { return 2 * k_.size() * sizeof(float); }

 private:
  size_t offset(int seq, int layer) const { return (size_t(seq) * size_t(n_layer_) + size_t(layer)) * size_t(n_ctx_) * size_t(kv_dim_); }

  int n_seq_, n_layer_, n_ctx_, kv_dim_;
  std::vector<float> k_;
  std::vector<float> v_;
};

}  // namespace aigc
