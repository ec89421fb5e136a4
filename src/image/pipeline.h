// The Stable Diffusion 1.x image pipeline: txt2img, img2img and inpainting
// from the loaded models (CLIP text encoder + tokenizer, UNet, VAE).
//
// For each of the `batch` images (item k uses seed + k, as the web UIs do):
//   1. cond, uncond = CLIP(prompt), CLIP(negative)                 [n_tokens, dim] each (once per request)
//   2. noise  = request.noise, else GaussianRng(seed + k)           [4, h, w], h = H/8, w = W/8
//      txt2img: x = noise; the sampler scales it by the first sigma
//      img2img: x = VAE.encode(init).mean * 0.18215 (the posterior mean, no sampling noise),
//               noised by the sampler to the sigma where `strength` of the steps remain
//   3. each sampler step: eps = eps(uncond) + cfg * (eps(cond) - eps(uncond)), one UNet call
//      on a batch of 2 (cfg == 1: the cond half only)
//        9-channel (inpainting) UNets get [x, m, masked_latent] as the diffusers inpainting
//        pipeline and the web UI build them: b = (mask >= 0.5) binarized per pixel,
//        m = b at pixel (8y, 8x) of each 8x8 block (torch's nearest interpolation),
//        masked_latent = VAE.encode(init * (1 - b)).mean * 0.18215 (the posterior mean
//        where they draw a sample; without a mask: b = 1, init * 0); no latent masking
//        4-channel UNets with a mask: latent masking, after every step the latent where
//        the mask is 0 is set to the original latent noised to the step's level with
//        the item's initial noise (SamplerRun::after_step); the last step leaves the
//        original latent there
//   4. image = VAE.decode(x / 0.18215), tiled above kVaeAutoTileLatentPixels (or when asked)
//   5. pixels = round(clamp((image + 1) / 2, 0, 1) * 255)   (planar_to_image)
// The sampler's own noise (ancestral samplers) continues item k's generator
// after the initial noise, so a seed fixes the whole run.
//
// The mask (white = repaint; its gray level, mask_to_float) is reduced to
// latent size for latent masking by the mean of each 8x8 block (soft edges);
// 9-channel models get the binarized, nearest-sampled mask above (what they
// were trained on; tools/reference/image/sd_ref.py checks it). The pipeline is const: one
// model set serves requests from many threads (the models are read-only).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "image/clip_text_encoder.h"
#include "image/clip_tokenizer.h"
#include "image/image.h"
#include "image/prompt_weights.h"
#include "image/samplers.h"
#include "image/unet.h"
#include "image/vae.h"

namespace aigc {

inline constexpr float kSdLatentScale = 0.18215f;
// Latents with more pixels than this (96 x 96 = 768 x 768 images) decode tiled.
inline constexpr int64_t kVaeAutoTileLatentPixels = 96 * 96;
inline constexpr int64_t kVaeDefaultTile = 64;  // latent pixels per tile side

struct ImageRequest {
  std::string prompt, negative;
  // Multiples of 8 times the UNet's downsampling (2^(levels - 1): 64 for SD 1.x), at most max_side.
  int width = 512, height = 512;
  int max_side = 2048;
  int steps = 20;
  float cfg = 7.0f;  // 1: no guidance (one UNet evaluation per step)
  SamplerKind sampler = SamplerKind::kEulerAncestral;
  Spacing spacing = Spacing::kNormal;
  uint64_t seed = 0;
  int batch = 1;
  int clip_skip = 1;  // 1: last layer; 2: the one before (as the web UIs count)
  // Long prompts: a window full of ids ends after its last comma if that is among
  // its final comma_backtrack ids (the web UI's setting; 0: plain windows of 75).
  int comma_backtrack = kDefaultCommaBacktrack;
  // Initial latent noise instead of the seeded one: [1 or batch, 4, H/8, W/8].
  std::vector<float> noise;
  int64_t noise_items = 0;  // first dimension of `noise`
  // img2img / inpainting (not owned; the same size as width x height).
  const Image* init_image = nullptr;
  float strength = 0.75f;  // fraction of the steps run on the noised image (img2img)
  const Image* mask = nullptr;  // white = repaint; needs init_image
  // VAE decode tile side in latent pixels: 0 = automatic (kVaeAutoTileLatentPixels).
  int64_t vae_tile = 0;
};

// item, step (1-based), steps of that item.
using ImageProgressFn = std::function<void(int item, int step, int n_steps)>;

struct GeneratedImages {
  std::vector<Image> images;          // 8-bit RGB, one per item
  std::vector<std::vector<float>> decoded;  // [3, H, W] VAE output per item, before clamping
  std::vector<uint64_t> seeds;        // seed of each item
};

class SdPipeline {
 public:
  // The models must outlive the pipeline.
  SdPipeline(const ClipTokenizer& tokenizer, const ClipTextEncoder& text_encoder, const Unet& unet, const Vae& vae)
      : tokenizer_(&tokenizer), text_encoder_(&text_encoder), unet_(&unet), vae_(&vae) {}

  // Checks sizes, the mask, the noise shape and the model's channel count;
  // InvalidArgument naming the field and the value.
  Status validate(const ImageRequest& request) const;

  Result<GeneratedImages> generate(const ImageRequest& request, const ImageProgressFn& progress = {}) const;

  bool is_inpainting_model() const;  // UNet with 9 input channels

  // Image pixels per latent pixel: the VAE's scale (8 for SD 1.x; the shipped demonstration model's is 4).
  int64_t latent_scale() const;

 private:
  const ClipTokenizer* tokenizer_;
  const ClipTextEncoder* text_encoder_;
  const Unet* unet_;
  const Vae* vae_;
};

}  // namespace aigc
