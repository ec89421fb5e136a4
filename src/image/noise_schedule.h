// NoiseSchedule: the discrete noise schedule Stable Diffusion 1.x was trained
// with, and the sigma lists the samplers step through.
//
//   betas          = linspace(sqrt(0.00085), sqrt(0.012), 1000)^2   ("scaled linear")
//   alphas_cumprod = cumprod(1 - betas)                              ac[t], t = 0..999
//   sigma(t)       = sqrt((1 - ac[t]) / ac[t])                       0.0292 .. 14.6146
//
// Fractional timesteps interpolate log sigma linearly between the integer
// steps, in both directions (k-diffusion's DiscreteSchedule); t_from_sigma
// clamps to [0, 999]. Everything is computed in double and handed out as float.
//
// Sigma spacings (each list has steps + 1 values, the last 0):
//   kNormal  sigma(t) for t = linspace(999, 0, steps)                     (k-diffusion get_sigmas)
//   kKarras  (smax^(1/7) + i/(steps-1) (smin^(1/7) - smax^(1/7)))^7      (Karras et al. 2022, rho 7)
//            between the schedule's sigma_min and sigma_max
//
// Immutable after construction: safe to share between threads.
#pragma once

#include <string_view>
#include <vector>

#include "core/status.h"

namespace aigc {

enum class Spacing { kNormal, kKarras };

// "normal" or "karras" (any case); the error lists both.
Result<Spacing> parse_spacing(std::string_view name);
const char* spacing_name(Spacing spacing);  // "normal", "karras"

class NoiseSchedule {
 public:
  static constexpr int kTrainSteps = 1000;

  NoiseSchedule();  // SD 1.x: scaled-linear betas 0.00085 .. 0.012

  const std::vector<float>& alphas_cumprod() const { return alphas_cumprod_f_; }  // [1000]
  float sigma(float t) const { return float(sigma_of_t(t)); }
  float t_from_sigma(float sigma) const { return float(t_of_sigma(sigma)); }
  float sigma_min() const { return float(sigmas_.front()); }
  float sigma_max() const { return float(sigmas_.back()); }
  // steps + 1 sigmas, decreasing, ending with 0; steps >= 1.
  std::vector<float> sigmas(int steps, Spacing spacing) const;

 private:
  double sigma_of_t(double t) const;
  double t_of_sigma(double sigma) const;

  std::vector<double> alphas_cumprod_;  // [1000]
  std::vector<float> alphas_cumprod_f_;
  std::vector<double> sigmas_;          // [1000], increasing
  std::vector<double> log_sigmas_;      // [1000]
};

}  // namespace aigc
