// SdCheckpoint: the weights of a Stable Diffusion 1.x model, opened from
//  - a single .safetensors file (or sharded `*.safetensors.index.json`) in the
//    original layout: "model.diffusion_model." (UNet), "first_stage_model."
//    (VAE), "cond_stage_model.transformer." (CLIP text encoder; the older
//    layout without "text_model." is renamed into "text_model.*");
//    "model_ema.*" and integer buffers (position_ids) are ignored;
//  - a diffusers folder: unet/, vae/, text_encoder/ (single or sharded
//    safetensors, ".fp16" variants accepted) and tokenizer/, renamed into the
//    ldm names (image/diffusers_names.h).
// An optional separate VAE (a bare AutoencoderKL state dict with encoder.* /
// decoder.* keys, a file with the "first_stage_model." prefix, or a diffusers
// VAE file or folder) replaces the built-in one.
//
// Pickle checkpoints (.ckpt/.pt/.pth/.bin, or pickle/zip content) are never
// read: open() refuses them and says how to convert them to safetensors.
// Checkpoints of other families (SDXL, SD 2.x, SD3, Flux) and files without
// the components get an Unsupported/InvalidArgument Status saying what was
// found. Weights stay in their stored dtype (F32, F16, BF16), memory-mapped;
// the files live as long as the SdCheckpoint. Move-only; its const methods
// are safe to call from many threads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "image/clip_tokenizer.h"
#include "image/weights.h"

namespace aigc {

class SafetensorsSet;

struct SdCheckpointOptions {
  std::string vae_path;  // empty: the checkpoint's own VAE
};

class SdCheckpoint {
 public:
  static Result<SdCheckpoint> open(const std::string& path, const SdCheckpointOptions& options = {});

  SdCheckpoint(SdCheckpoint&&) noexcept;
  SdCheckpoint& operator=(SdCheckpoint&&) noexcept;
  ~SdCheckpoint();

  WeightStore& unet() { return unet_; }
  WeightStore& vae() { return vae_; }
  WeightStore& text_encoder() { return text_encoder_; }
  const WeightStore& unet() const { return unet_; }
  const WeightStore& vae() const { return vae_; }
  const WeightStore& text_encoder() const { return text_encoder_; }

  // From a diffusers folder's tokenizer/, else nullptr.
  const ClipTokenizer* tokenizer() const { return tokenizer_.get(); }
  // File stem ("v1-5-pruned-emaonly") or folder name, for the PNG parameters.
  const std::string& name() const { return name_; }
  // The UNet takes 9 input channels (latent, mask, masked-image latent).
  bool is_inpainting() const;

 private:
  SdCheckpoint();
  Status open_single_file(const std::string& path);
  Status open_diffusers_folder(const std::string& dir);
  Status open_vae_override(const std::string& path);
  const SafetensorsSet& keep(SafetensorsSet set);

  std::vector<std::unique_ptr<SafetensorsSet>> files_;  // the weights point into these maps
  WeightStore unet_{"UNet"};
  WeightStore vae_{"VAE"};
  WeightStore text_encoder_{"text encoder"};
  std::unique_ptr<ClipTokenizer> tokenizer_;
  std::string name_;
};

}  // namespace aigc
