// ClipTextEncoder: the CLIP text transformer of Stable Diffusion 1.x
// (HuggingFace CLIPTextModel weights, ViT-L/14 for SD 1.5), which turns a
// 77-token window into the [77, 768] context of the UNet's cross-attention.
//
// Legend: T = n_positions (77), d = dim, h = n_heads (d / 64), f = ffn_dim.
//   x = token_embedding[ids] + position_embedding          [T, d]
//   each layer:  x += out_proj(causal_attention(layer_norm1(x)))
//                x += fc2(quick_gelu(fc1(layer_norm2(x))))
//   out = final_layer_norm(x after layer n_layers - clip_skip + 1)
// Attention is causal (position t sees 0..t), heads of 64, LayerNorm eps 1e-5.
// clip_skip 1 is the last layer; 2 the one before it (what the AUTOMATIC1111
// web UI calls "Clip skip"), and so on.
//
// Weights stay in their stored type (F32, F16 or BF16) and are used by
// matmul over all T positions at once; the small vectors (biases, LayerNorm
// affines) are converted to F32 at load. The WeightStore's tensors must
// outlive the encoder. encode() is const and allocates its own scratch: it
// may run from several threads at once. Results do not depend on the thread
// count.
#pragma once

#include <cstdint>
#include <memory>

#include "core/status.h"
#include "image/weights.h"

namespace aigc {

struct ClipTextConfig {
  int64_t vocab = 0, n_positions = 0, dim = 0, n_layers = 0, n_heads = 0, ffn_dim = 0;
};

class ClipTextEncoder {
 public:
  // Reads the config from the tensor shapes (dim from the token embedding,
  // layers by counting text_model.encoder.layers.{i}, heads = dim / 64, ffn
  // from mlp.fc1) and checks every tensor's presence, shape and type.
  static Result<ClipTextEncoder> load(const WeightStore& w);

  ClipTextEncoder(ClipTextEncoder&&) noexcept;
  ClipTextEncoder& operator=(ClipTextEncoder&&) noexcept;
  ~ClipTextEncoder();

  const ClipTextConfig& config() const;

  // ids: n_positions ids, each below vocab -> hidden: [n_positions, dim], the
  // hidden state of layer (n_layers - clip_skip + 1) with final_layer_norm
  // applied. InvalidArgument for an id out of range or clip_skip outside
  // 1..n_layers.
  Status encode(const int32_t* ids, int clip_skip, float* hidden) const;

  // Multiply-adds x 2 of one encode() with clip_skip 1.
  double flops() const;

 private:
  struct Model;
  explicit ClipTextEncoder(std::unique_ptr<Model> model);
  std::unique_ptr<Model> model_;
};

}  // namespace aigc
