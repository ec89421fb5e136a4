// The samplers of the image pipeline: they turn an eps-prediction model (the
// UNet with classifier-free guidance) and a start latent into a final latent.
//
// Euler, Euler a, Heun, DPM++ 2M (and DPM++ 2M Karras) are k-diffusion's
// samplers over the denoiser that SD's eps model gives (k-diffusion's
// CompVisDenoiser):
//   c_in = 1 / sqrt(sigma^2 + 1),  eps = model(x * c_in, t_from_sigma(sigma)),
//   denoised = x - sigma * eps
// on the sigma list of the run's Spacing ("DPM++ 2M Karras" always uses the
// Karras spacing). Euler a is eta 1, s_noise 1 (k-diffusion's
// get_ancestral_step); Heun takes an Euler step on its last step (to sigma 0);
// DPM++ 2M is the multistep solver with the old_denoised correction.
//
// DDIM and LCM follow diffusers' schedulers with SD 1.5's configuration and
// call the model on the unscaled (variance-preserving) latent with the
// integer timestep; they have their own timestep lists, and asking them for
// the Karras spacing is an error.
//   DDIM: DDIMScheduler, eta 0, "leading" spacing with steps_offset 1,
//         set_alpha_to_one false: t_i = (steps-1-i) * (1000 / steps) + 1, the
//         last step lands on ac[0]. (For step counts that divide 1000 this is
//         also the web UI's compvis DDIM.) At most 999 steps.
//   LCM:  LCMScheduler: `steps` evenly chosen of the 50-step distillation
//         schedule 999, 979, .., 19; boundary conditions c_skip, c_out with
//         sigma_data 0.5 and timestep_scaling 10; fresh noise between steps
//         (none after the last). At most 50 steps.
//
// txt2img (noise == nullptr): x holds unit-variance noise on entry; the
// k-diffusion samplers scale it by the first sigma, DDIM and LCM use it as is.
// img2img (noise != nullptr, n values of unit-variance noise): x holds the
// encoded image latent (already times 0.18215); the run is the last
//   max(1, floor(strength * steps + 1/2))
// steps of the full `steps`-step schedule (diffusers' get_timesteps does the
// same with floor instead of rounding; the web UI's t_enc differs by a step),
// starting from
//   x + noise * sigma_start                                  (k-diffusion samplers)
//   sqrt(ac[t_start]) * x + sqrt(1 - ac[t_start]) * noise    (DDIM, LCM: add_noise)
// LCM's img2img therefore cuts its txt2img schedule, where diffusers' LCM
// img2img pipeline re-spaces the distillation schedule by strength.
//
// On return x holds the final latent (the pipeline divides it by 0.18215 and
// decodes it). Everything runs on the calling thread in a fixed order, so the
// result depends only on the inputs.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "image/noise_schedule.h"

namespace aigc {

enum class SamplerKind { kEuler, kEulerAncestral, kHeun, kDpmpp2m, kDpmpp2mKarras, kDdim, kLcm };

// "euler", "euler_a", "heun", "dpmpp_2m", "dpmpp_2m_karras", "ddim", "lcm", or
// the web UI's names "Euler", "Euler a", "Heun", "DPM++ 2M", "DPM++ 2M Karras",
// "DDIM", "LCM" (any case). The error lists the valid names.
Result<SamplerKind> parse_sampler(std::string_view name);
const char* sampler_name(SamplerKind kind);       // "euler_a"
std::string sampler_display_name(SamplerKind kind);  // "Euler a", for the PNG parameters

// eps for the latent x_in at timestep t (fractional for the k-diffusion
// samplers): the UNet including guidance. x_in and eps hold n values.
using EpsModel = std::function<Status(const float* x_in, float t, float* eps)>;
// Writes n standard-normal samples (Euler a and LCM draw n at a time, only
// when a step needs them).
using NoiseFn = std::function<void(float* out, int64_t n)>;
// Progress: called after model evaluation `step` (1-based) of `n_steps`.
using StepFn = std::function<void(int step, int n_steps)>;
// Called after every sampler step with the new latent, at the noise level
// where a clean latent x0 with noise e reads signal * x0 + noise * e
// (k-diffusion samplers: 1 and the next sigma; DDIM and LCM: sqrt(ac) and
// sqrt(1 - ac) of the next timestep; after the last step noise is 0, except
// DDIM's ac[0]). The hook may overwrite x: latent masking for inpainting.
using LatentHook = std::function<void(float* x, int64_t n, double signal, double noise)>;

struct SamplerRun {
  SamplerKind kind = SamplerKind::kEuler;
  int steps = 20;                     // 1 .. 1000 (DDIM 999, LCM 50)
  Spacing spacing = Spacing::kNormal;  // k-diffusion samplers only
  float strength = 1;                 // img2img: (0, 1]; txt2img: 1
  LatentHook after_step;              // optional
};

// Steps an img2img run of `strength` takes: max(1, floor(strength * steps + 1/2)), at most steps.
int img2img_steps(int steps, float strength);

// The number of model evaluations sample() will make (the StepFn's n_steps):
// one per step, Heun two per step except the last. InvalidArgument for a run
// sample() refuses.
Result<int> model_evaluations(const SamplerRun& run);

// Runs the sampler on the n-value latent x (see the top of this file).
// InvalidArgument for a bad run (steps, strength, spacing, a missing noise
// function); the model's error, prefixed with the sampler and the step.
Status sample(const NoiseSchedule& schedule, const SamplerRun& run, const EpsModel& model, const NoiseFn& noise_fn,
              const StepFn& on_step, float* x, int64_t n, const float* noise = nullptr);

// Classifier-free guidance: eps = uncond + scale * (cond - uncond), n values
// (eps may alias either input).
void apply_cfg(const float* uncond, const float* cond, float scale, int64_t n, float* eps);

}  // namespace aigc
