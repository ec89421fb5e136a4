// SdPipeline: txt2img, img2img and inpainting (see pipeline.h for the steps).
#include "image/pipeline.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "image/conditioning.h"
#include "image/gaussian_rng.h"
#include "image/image_io.h"
#include "image/noise_schedule.h"

namespace aigc {

namespace {

std::string size_string(int64_t w, int64_t h) { return std::to_string(w) + "x" + std::to_string(h); }

// The mask (white = repaint) at latent size: the mean of each f x f block
// (f = the VAE's scale, 8 for SD) of its gray levels in [0, 1]: [H/f, W/f].
std::vector<float> latent_mask(const std::vector<float>& mask, int64_t H, int64_t W, int64_t f) {
  const int64_t h = H / f, w = W / f;
  std::vector<float> m(static_cast<size_t>(h * w));
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      float sum = 0;
      for (int64_t dy = 0; dy < f; ++dy)
        for (int64_t dx = 0; dx < f; ++dx) sum += mask[size_t((f * y + dy) * W + f * x + dx)];
      m[size_t(y * w + x)] = sum / float(f * f);
    }
  return m;
}

// The mask as the 9-channel (inpainting) UNets were trained on it, as the
// diffusers inpainting pipeline and the web UI give it: binarized (gray level
// >= 0.5 is 1), then reduced by nearest-neighbour sampling (torch's
// interpolate(mode="nearest")), i.e. pixel (fy, fx) of each f x f block: [H/f, W/f].
std::vector<float> binary_latent_mask(const std::vector<float>& mask, int64_t H, int64_t W, int64_t f) {
  const int64_t h = H / f, w = W / f;
  std::vector<float> m(static_cast<size_t>(h * w));
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) m[size_t(y * w + x)] = mask[size_t(f * y * W + f * x)] >= 0.5f ? 1.0f : 0.0f;
  return m;
}

// The eps model of the samplers: the UNet with classifier-free guidance.
struct GuidedUnet {
  const Unet* unet;
  int64_t h, w, n_tokens;
  float cfg;
  std::vector<float> context;  // [2, n_tokens, dim]: uncond, cond
  // 9-channel (inpainting) UNets: mask [h, w] and masked-image latent [4, h, w].
  bool extra_channels = false;
  std::vector<float> mask, masked_latent;
  mutable std::vector<float> x2, out2;  // scratch: [n_items, channels, h, w], [n_items, 4, h, w]

  Status eps(const float* x_in, float t, float* eps_out) const {
    const int64_t hw = h * w, n = 4 * hw;
    const int64_t per_item = (extra_channels ? 9 : 4) * hw;
    const int n_items = cfg == 1.0f ? 1 : 2;  // [uncond, cond] or [cond]
    x2.resize(size_t(per_item * n_items));
    out2.resize(size_t(n * n_items));
    for (int k = 0; k < n_items; ++k) {
      float* dst = x2.data() + k * per_item;
      std::copy(x_in, x_in + n, dst);
      if (extra_channels) {
        std::copy(mask.begin(), mask.end(), dst + n);
        std::copy(masked_latent.begin(), masked_latent.end(), dst + n + hw);
      }
    }
    const float timesteps[2] = {t, t};
    const int64_t dim = unet->config().context_dim;
    const float* ctx = n_items == 1 ? context.data() + n_tokens * dim : context.data();
    AIGC_RETURN_IF_ERROR(unet->forward(x2.data(), n_items, h, w, timesteps, ctx, n_tokens, out2.data()));
    if (n_items == 1)
      std::copy(out2.begin(), out2.begin() + n, eps_out);
    else
      apply_cfg(out2.data(), out2.data() + n, cfg, n, eps_out);
    return Status();
  }
};

// Latent masking for 4-channel UNets: after each step, where the mask is 0
// the latent becomes the original latent at the step's noise level,
// signal * original + noise * (the item's initial noise).
LatentHook latent_masking(const std::vector<float>& mask, const std::vector<float>& original,
                          const std::vector<float>& noise) {
  return [&mask, &original, &noise](float* x, int64_t n, double signal, double sigma) {
    const int64_t hw = int64_t(mask.size());
    for (int64_t j = 0; j < n; ++j) {
      const float m = mask[size_t(j % hw)];
      const float keep = float(signal * original[size_t(j)] + sigma * noise[size_t(j)]);
      x[j] = m * x[j] + (1 - m) * keep;
    }
  };
}

}  // namespace

bool SdPipeline::is_inpainting_model() const { return unet_->config().in_channels == 9; }

int64_t SdPipeline::latent_scale() const { return vae_->config().scale(); }

Status SdPipeline::validate(const ImageRequest& r) const {
  const int64_t f = latent_scale();
  auto side = [&](const char* name, int v) -> Status {
    if (v <= 0 || v % f != 0)
      return Status::invalid_argument(std::string(name) + " " + std::to_string(v) + " is not a positive multiple of " +
                                      std::to_string(f));
    if (v > r.max_side)
      return Status::invalid_argument(std::string(name) + " " + std::to_string(v) + " is above the maximum " +
                                      std::to_string(r.max_side));
    return Status();
  };
  AIGC_RETURN_IF_ERROR(side("width", r.width));
  AIGC_RETURN_IF_ERROR(side("height", r.height));
  if (r.steps < 1 || r.steps > 1000) return Status::invalid_argument("steps " + std::to_string(r.steps) + " is not in 1..1000");
  if (r.batch < 1) return Status::invalid_argument("batch " + std::to_string(r.batch) + " is below 1");
  if (!(r.cfg >= 0.0f && r.cfg < 1000.0f)) return Status::invalid_argument("cfg " + std::to_string(r.cfg) + " is not in [0, 1000)");
  if (r.clip_skip < 1) return Status::invalid_argument("clip skip " + std::to_string(r.clip_skip) + " is below 1");
  if (r.comma_backtrack < 0 || r.comma_backtrack > kClipWindowTokens)
    return Status::invalid_argument("comma backtrack " + std::to_string(r.comma_backtrack) + " is not in 0.." +
                                    std::to_string(kClipWindowTokens));
  const int64_t latent = 4 * int64_t(r.width / f) * (r.height / f);
  if (!r.noise.empty()) {
    if (r.noise_items != 1 && r.noise_items != r.batch)
      return Status::invalid_argument("noise has " + std::to_string(r.noise_items) + " items; expected 1 or the batch " +
                                      std::to_string(r.batch));
    if (int64_t(r.noise.size()) != r.noise_items * latent)
      return Status::invalid_argument("noise has " + std::to_string(r.noise.size()) + " values; a " +
                                      size_string(r.width, r.height) + " image needs " + std::to_string(r.noise_items) +
                                      "x4x" + std::to_string(r.height / f) + "x" + std::to_string(r.width / f));
  }
  if (r.init_image) {
    if (r.init_image->width != r.width || r.init_image->height != r.height)
      return Status::invalid_argument("init image is " + size_string(r.init_image->width, r.init_image->height) +
                                      ", the output is " + size_string(r.width, r.height) + " (resize it or pass -W/-H)");
    if (!(r.strength > 0.0f && r.strength <= 1.0f))
      return Status::invalid_argument("strength " + std::to_string(r.strength) + " is not in (0, 1]");
  }
  if (r.mask) {
    if (!r.init_image) return Status::invalid_argument("a mask needs an init image");
    if (r.mask->width != r.width || r.mask->height != r.height)
      return Status::invalid_argument("mask is " + size_string(r.mask->width, r.mask->height) + ", the init image is " +
                                      size_string(r.width, r.height));
  }
  const int64_t in_ch = unet_->config().in_channels;
  if (in_ch != 4 && in_ch != 9)
    return Status::unsupported("UNet with " + std::to_string(in_ch) + " input channels (expected 4, or 9 for inpainting)");
  return Status();
}

Result<GeneratedImages> SdPipeline::generate(const ImageRequest& r, const ImageProgressFn& progress) const {
  AIGC_RETURN_IF_ERROR(validate(r));
  const int64_t f = latent_scale();
  const int64_t H = r.height, W = r.width, h = H / f, w = W / f, hw = h * w, n = 4 * hw;

  AIGC_ASSIGN_OR_RETURN(PromptConditioning pc,
                        encode_prompts(*tokenizer_, *text_encoder_, r.prompt, r.negative, r.clip_skip, r.comma_backtrack));
  if (pc.dim != unet_->config().context_dim)
    return Status::invalid_argument("text encoder width " + std::to_string(pc.dim) + " differs from the UNet context " +
                                    std::to_string(unet_->config().context_dim));
  const NoiseSchedule schedule;
  GuidedUnet model;
  model.unet = unet_;
  model.h = h;
  model.w = w;
  model.n_tokens = pc.n_tokens;
  model.cfg = r.cfg;
  model.context = pc.uncond;
  model.context.insert(model.context.end(), pc.cond.begin(), pc.cond.end());

  // The init image's latent, and the mask at latent size.
  std::vector<float> init_latent;
  std::vector<float> mask_latent(size_t(hw), 1.0f);
  std::vector<float> mean(static_cast<size_t>(n)), logvar(static_cast<size_t>(n));
  std::vector<float> mask_pixels;
  if (r.mask) {
    mask_pixels = mask_to_float(*r.mask);
    mask_latent = latent_mask(mask_pixels, H, W, f);
  }
  if (r.init_image) {
    const std::vector<float> pixels = image_to_planar(*r.init_image);
    AIGC_RETURN_IF_ERROR(vae_->encode(pixels.data(), H, W, mean.data(), logvar.data()));
    init_latent.resize(size_t(n));
    for (int64_t j = 0; j < n; ++j) init_latent[j] = mean[j] * kSdLatentScale;
  }
  if (is_inpainting_model()) {
    // The masked image: the init image where the binarized mask is 0, else 0
    // (all 0 without a mask: the mask is 1 everywhere, as in the web UI).
    std::vector<float> masked(size_t(3 * H * W), 0.0f);
    std::vector<float> binary_mask(size_t(hw), 1.0f);
    if (r.mask) {
      binary_mask = binary_latent_mask(mask_pixels, H, W, f);
      masked = image_to_planar(*r.init_image);
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t i = 0; i < H * W; ++i)
          if (mask_pixels[size_t(i)] >= 0.5f) masked[size_t(c * H * W + i)] = 0.0f;
    }
    AIGC_RETURN_IF_ERROR(vae_->encode(masked.data(), H, W, mean.data(), logvar.data()));
    model.extra_channels = true;
    model.mask = binary_mask;
    model.masked_latent.resize(size_t(n));
    for (int64_t j = 0; j < n; ++j) model.masked_latent[j] = mean[j] * kSdLatentScale;
  }
  const bool mask_latents = r.mask && !is_inpainting_model();

  GeneratedImages out;
  const int64_t tile = r.vae_tile > 0 ? r.vae_tile : (hw > kVaeAutoTileLatentPixels ? kVaeDefaultTile : 0);
  for (int k = 0; k < r.batch; ++k) {
    const uint64_t seed = r.seed + uint64_t(k);
    GaussianRng rng(seed);
    std::vector<float> noise(static_cast<size_t>(n));
    if (!r.noise.empty()) {
      const float* src = r.noise.data() + (r.noise_items == 1 ? 0 : k * n);
      std::copy(src, src + n, noise.begin());
    } else {
      rng.fill(noise.data(), n);
    }
    SamplerRun run;
    run.kind = r.sampler;
    run.steps = r.steps;
    run.spacing = r.spacing;
    if (mask_latents) run.after_step = latent_masking(mask_latent, init_latent, noise);
    std::vector<float> x = noise;
    const float* img2img_noise = nullptr;
    if (r.init_image) {
      run.strength = r.strength;
      x = init_latent;
      img2img_noise = noise.data();
    }
    const EpsModel eps = [&model](const float* x_in, float t, float* e) { return model.eps(x_in, t, e); };
    const NoiseFn noise_fn = [&rng](float* o, int64_t count) { rng.fill(o, count); };
    const StepFn step_fn = [&](int step, int n_steps) {
      if (progress) progress(k, step, n_steps);
    };
    AIGC_RETURN_IF_ERROR(sample(schedule, run, eps, noise_fn, step_fn, x.data(), n, img2img_noise));

    for (float& v : x) v /= kSdLatentScale;
    std::vector<float> image(size_t(3 * H * W));
    if (tile > 0)
      AIGC_RETURN_IF_ERROR(vae_->decode_tiled(x.data(), h, w, tile, image.data()));
    else
      AIGC_RETURN_IF_ERROR(vae_->decode(x.data(), h, w, image.data()));
    out.images.push_back(planar_to_image(image.data(), int(W), int(H)));
    out.decoded.push_back(std::move(image));
    out.seeds.push_back(seed);
  }
  return out;
}

}  // namespace aigc
