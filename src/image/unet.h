// The Stable Diffusion 1.x UNet (ldm openaimodel.UNetModel with spatial
// transformers), the noise predictor eps(x, t, context) of the sampler.
//
// Legend: n = batch, h, w = latent height and width, L = context tokens,
// mc = model_channels, E = 4 mc (time-embedding width).
//
//   emb = time_embed.2(silu(time_embed.0(cat(cos, sin)(t * 10000^(-i / (mc/2))))))      [n, E]
//   input_blocks.0: conv3x3(in_channels -> mc)
//   per level l (width mc * channel_mult[l]): n_res_blocks x (ResBlock [+ SpatialTransformer
//     at attention levels]), then a stride-2 conv (all levels but the last; an odd size
//     halves to ceil(h / 2)); every input block's output is kept as a skip
//   middle_block: ResBlock, SpatialTransformer, ResBlock
//   per level, deepest first: (n_res_blocks + 1) x (ResBlock on cat(h, skip) [+ SpatialTransformer]),
//     then nearest resize to the next skip's size (2x, or 2x - 1 after an odd size was
//     halved, as diffusers does) + conv3x3 (all levels but the first)
//   out: conv3x3(silu(GroupNorm(h)) -> out_channels)
//
// The configuration is read from the tensors' shapes and which keys exist
// (keys as WeightStore holds them, without "model.diffusion_model."); the
// head count is the store's attention_heads() (8, SD 1.x's, unless a diffusers
// config says otherwise). Weights stay in their stored dtype
// (F32, F16 or BF16; BF16 convolution weights are converted to F32 at load,
// as is every bias and norm affine stored in 16 bits). The store's tensors
// must outlive the Unet.
//
// forward() is const: one Unet serves many threads. Its work buffers are
// kept between calls (one pool per concurrent call, each about as large as the
// pass's live activations: ~0.3 GB for SD 1.5 at 64x64, batch 2) so that
// repeated steps do not allocate. Results are bit-identical whatever the
// OpenMP thread count.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/status.h"
#include "image/weights.h"

namespace aigc {

struct UnetConfig {
  int64_t in_channels = 0, out_channels = 0, model_channels = 0, context_dim = 0, n_heads = 8;
  std::vector<int64_t> channel_mult;  // width of level l = model_channels * channel_mult[l]
  int64_t n_res_blocks = 0;           // ResBlocks per level on the way down (one more on the way up)
  std::vector<bool> attention;        // per level: whether its blocks have a SpatialTransformer
  int64_t transformer_depth = 1;      // transformer blocks per SpatialTransformer
};

struct UnetModel;  // the layers (unet.cpp)

class Unet {
 public:
  static Result<Unet> load(const WeightStore& w);

  Unet(Unet&&) noexcept;
  Unet& operator=(Unet&&) noexcept;
  ~Unet();

  const UnetConfig& config() const { return config_; }

  // x [n, in_channels, h, w], timesteps [n], context [n, n_tokens, context_dim]
  // -> out [n, out_channels, h, w]. Any h, w >= 1. out must not alias x.
  Status forward(const float* x, int64_t n, int64_t h, int64_t w, const float* timesteps, const float* context,
                 int64_t n_tokens, float* out) const;

  // Real multiply-adds x 2 of forward(): convolutions, linear layers and the
  // two products of every attention.
  double flops(int64_t n, int64_t h, int64_t w, int64_t n_tokens) const;

 private:
  Unet(UnetConfig config, std::unique_ptr<UnetModel> model);

  UnetConfig config_;
  std::unique_ptr<UnetModel> model_;
};

}  // namespace aigc
