// The Stable Diffusion 1.x VAE (ldm AutoencoderKL): the decoder turns a
// latent into an image, the encoder an image into the latent distribution
// (img2img). Weights are the VAE's WeightStore (original names without
// "first_stage_model."), used in their stored type (F32, F16 or BF16).
//
// Legend: C_z = latent channels (4), h, w = latent size, f = scale factor
// (2^(levels - 1) = 8 for SD), H = f h, W = f w = image size.
//
//   decode: z -> post_quant_conv (1x1) -> decoder.conv_in -> mid (ResnetBlock,
//           AttnBlock, ResnetBlock) -> decoder.up[L-1] .. up[0] (each R + 1
//           ResnetBlocks, then nearest 2x + conv except up[0]) -> GroupNorm,
//           SiLU -> conv_out -> image [3, H, W], about [-1, 1]
//   encode: image -> encoder.conv_in -> encoder.down[0] .. down[L-1] (each R
//           ResnetBlocks, then a stride-2 conv after padding right/bottom by
//           one, except the last) -> mid -> GroupNorm, SiLU -> conv_out ->
//           quant_conv (1x1) -> mean, logvar (clamped to [-30, 20])
//   ResnetBlock(x) = skip(x) + conv2(silu(norm2(conv1(silu(norm1(x))))))
//   AttnBlock(x) = x + proj_out(softmax(q k^T / sqrt(C)) v), q, k, v = 1x1
//                  convs of norm(x), one head over the pixels
//   GroupNorm: the store's norm_groups() groups (32 in SD), eps 1e-6.
//
// The configuration (levels, channels, blocks per level) comes from the
// tensor shapes; load() names any missing or mis-shaped tensor. The encoder
// is optional (a decoder-only store loads; encode then fails).
//
// 3x3 convolutions run as Winograd F(2x2, 3x3) (kernels/winograd_conv3x3.h),
// the others as conv2d. Activations are F32 maps, freed as soon as they are consumed: a 512 x 512
// decode of the SD VAE keeps at most about 0.7 GB alive; decode_tiled bounds
// that to one tile's worth. Results are bit-identical whatever the thread
// count. A Vae is immutable after load: const methods may run concurrently
// (peak_activation_bytes then mixes the calls).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/status.h"
#include "image/weights.h"

namespace aigc {

struct VaeConfig {
  int64_t latent_channels = 0;  // C_z (embed_dim: post_quant_conv's input)
  int64_t image_channels = 0;   // decoder.conv_out's output (3)
  int64_t n_levels = 0;         // L
  std::vector<int64_t> level_channels;  // channels of decoder.up[i] (ch * ch_mult[i])
  int64_t n_res_blocks = 0;     // R (encoder blocks per level; the decoder has R + 1)
  bool has_encoder = false;
  int64_t scale() const { return int64_t(1) << (n_levels - 1); }  // f
};

class Vae {
 public:
  static Result<Vae> load(const WeightStore& w);
  Vae(Vae&&) noexcept;
  Vae& operator=(Vae&&) noexcept;
  ~Vae();

  const VaeConfig& config() const;

  // z [C_z, h, w] (raw latent: the pipeline divides by the scale factor
  // 0.18215 first) -> image [3, f h, f w], about [-1, 1].
  Status decode(const float* z, int64_t h, int64_t w, float* image) const;
  // As decode, in overlapping tiles of tile x tile latents (tile >= 4; the
  // overlap is tile / 4 latents, the last tile of a row or column is flush
  // with the edge). Each output pixel is the weighted mean of the tiles that
  // cover it, the weights ramping linearly across each shared edge. Memory:
  // one tile's activations plus the image.
  Status decode_tiled(const float* z, int64_t h, int64_t w, int64_t tile, float* image) const;
  // image [3, H, W] in [-1, 1] (H, W multiples of f) -> mean and logvar
  // [C_z, H / f, W / f] each (before the scale factor).
  Status encode(const float* image, int64_t H, int64_t W, float* mean, float* logvar) const;

  // Multiply-adds x 2 of the convolutions, projections and attention products.
  double decode_flops(int64_t h, int64_t w) const;
  double encode_flops(int64_t H, int64_t W) const;

  // The most activation bytes alive at once in the decode / encode calls since
  // load or the last reset (diagnostics, tests of the memory bound).
  int64_t peak_activation_bytes() const;
  void reset_peak_activation_bytes() const;

  struct Model;  // the typed weights (vae.cpp)

 private:
  explicit Vae(std::unique_ptr<Model> model);
  std::unique_ptr<Model> model_;
};

}  // namespace aigc
