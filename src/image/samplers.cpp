// The samplers (Euler, Euler a, Heun, DPM++ 2M, DDIM, LCM) over an eps model,
// txt2img and img2img, and classifier-free guidance. See samplers.h.
#include "image/samplers.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace aigc {

namespace {

constexpr int kMaxSteps = 1000;
constexpr int kLcmOriginalSteps = 50;
constexpr double kLcmTimestepScaling = 10.0;
constexpr double kLcmSigmaData = 0.5;

struct SamplerNames {
  SamplerKind kind;
  const char* name;
  const char* display;
};
constexpr SamplerNames kSamplers[] = {
    {SamplerKind::kEuler, "euler", "Euler"},
    {SamplerKind::kEulerAncestral, "euler_a", "Euler a"},
    {SamplerKind::kHeun, "heun", "Heun"},
    {SamplerKind::kDpmpp2m, "dpmpp_2m", "DPM++ 2M"},
    {SamplerKind::kDpmpp2mKarras, "dpmpp_2m_karras", "DPM++ 2M Karras"},
    {SamplerKind::kDdim, "ddim", "DDIM"},
    {SamplerKind::kLcm, "lcm", "LCM"},
};

const SamplerNames& names_of(SamplerKind kind) {
  for (const SamplerNames& s : kSamplers)
    if (s.kind == kind) return s;
  return kSamplers[0];
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool is_k_diffusion(SamplerKind kind) { return kind != SamplerKind::kDdim && kind != SamplerKind::kLcm; }

Status check_run(const SamplerRun& run) {
  const char* name = sampler_name(run.kind);
  if (run.steps < 1 || run.steps > kMaxSteps)
    return Status::invalid_argument("sampler " + std::string(name) + ": steps " + std::to_string(run.steps) +
                                    " is outside 1.." + std::to_string(kMaxSteps));
  if (run.kind == SamplerKind::kDdim && run.steps > NoiseSchedule::kTrainSteps - 1)
    return Status::invalid_argument("sampler ddim: steps " + std::to_string(run.steps) + " is above 999");
  if (run.kind == SamplerKind::kLcm && run.steps > kLcmOriginalSteps)
    return Status::invalid_argument("sampler lcm: steps " + std::to_string(run.steps) +
                                    " is above the 50 steps of its distillation schedule");
  if (!(run.strength > 0.0f && run.strength <= 1.0f))
    return Status::invalid_argument("sampler " + std::string(name) + ": strength " + std::to_string(run.strength) +
                                    " is outside (0, 1]");
  if (!is_k_diffusion(run.kind) && run.spacing == Spacing::kKarras)
    return Status::invalid_argument("sampler " + std::string(name) +
                                    " has its own timestep schedule; the karras spacing (scheduler) applies to "
                                    "euler, euler_a, heun and dpmpp_2m");
  return Status();
}

// One sampler run: the buffers, the model call with its progress count, and
// the hook, shared by the step loops below.
class Sampling {
 public:
  Sampling(const NoiseSchedule& schedule, const SamplerRun& run, const EpsModel& model, const StepFn& on_step,
           int n_evals, int64_t n)
      : schedule_(schedule), run_(run), model_(model), on_step_(on_step), n_evals_(n_evals), n_(n),
        x_in_(static_cast<size_t>(n)), eps_(static_cast<size_t>(n)) {}

  // eps of `model` at (x * scale, t), into eps().
  Status eval_eps(const float* x, double scale, double t) {
    for (int64_t i = 0; i < n_; ++i) x_in_[i] = float(x[i] * scale);
    Status s = model_(x_in_.data(), float(t), eps_.data());
    if (!s.ok())
      return Status(s.code(), "sampler " + std::string(sampler_name(run_.kind)) + ", model evaluation " +
                                  std::to_string(evals_ + 1) + "/" + std::to_string(n_evals_) + ": " + s.message());
    ++evals_;
    if (on_step_) on_step_(evals_, n_evals_);
    return Status();
  }

  // k-diffusion's denoiser: denoised = x - sigma * model(x * c_in, t(sigma)).
  Status denoise(const float* x, double sigma, float* denoised) {
    AIGC_RETURN_IF_ERROR(eval_eps(x, 1.0 / std::sqrt(sigma * sigma + 1.0), schedule_.t_from_sigma(float(sigma))));
    for (int64_t i = 0; i < n_; ++i) denoised[i] = float(x[i] - sigma * eps_[i]);
    return Status();
  }

  void after_step(float* x, double signal, double noise) const {
    if (run_.after_step) run_.after_step(x, n_, signal, noise);
  }

  const float* eps() const { return eps_.data(); }
  int64_t n() const { return n_; }

 private:
  const NoiseSchedule& schedule_;
  const SamplerRun& run_;
  const EpsModel& model_;
  const StepFn& on_step_;
  const int n_evals_;
  const int64_t n_;
  int evals_ = 0;
  std::vector<float> x_in_, eps_;
};

// ---- k-diffusion samplers; sigmas: the run's list, ending with 0 ------------------------

Status sample_euler(Sampling& s, const std::vector<double>& sigmas, float* x) {
  const int64_t n = s.n();
  std::vector<float> denoised(static_cast<size_t>(n));
  for (size_t i = 0; i + 1 < sigmas.size(); ++i) {
    const double sigma = sigmas[i], dt = sigmas[i + 1] - sigma;
    AIGC_RETURN_IF_ERROR(s.denoise(x, sigma, denoised.data()));
    for (int64_t j = 0; j < n; ++j) x[j] = float(x[j] + (x[j] - denoised[j]) / sigma * dt);
    s.after_step(x, 1.0, sigmas[i + 1]);
  }
  return Status();
}

Status sample_euler_ancestral(Sampling& s, const std::vector<double>& sigmas, const NoiseFn& noise_fn, float* x) {
  const int64_t n = s.n();
  std::vector<float> denoised(static_cast<size_t>(n)), fresh(static_cast<size_t>(n));
  for (size_t i = 0; i + 1 < sigmas.size(); ++i) {
    const double sigma = sigmas[i], next = sigmas[i + 1];
    AIGC_RETURN_IF_ERROR(s.denoise(x, sigma, denoised.data()));
    // eta 1: deterministic down to sigma_down, then fresh noise of sigma_up,
    // sigma_down^2 + sigma_up^2 = next^2.
    const double sigma_up = std::min(next, std::sqrt(next * next * (sigma * sigma - next * next) / (sigma * sigma)));
    const double sigma_down = std::sqrt(next * next - sigma_up * sigma_up);
    const double dt = sigma_down - sigma;
    for (int64_t j = 0; j < n; ++j) x[j] = float(x[j] + (x[j] - denoised[j]) / sigma * dt);
    if (next > 0) {
      noise_fn(fresh.data(), n);
      for (int64_t j = 0; j < n; ++j) x[j] = float(x[j] + fresh[j] * sigma_up);
    }
    s.after_step(x, 1.0, next);
  }
  return Status();
}

Status sample_heun(Sampling& s, const std::vector<double>& sigmas, float* x) {
  const int64_t n = s.n();
  std::vector<float> denoised(static_cast<size_t>(n)), d(static_cast<size_t>(n)), x2(static_cast<size_t>(n));
  for (size_t i = 0; i + 1 < sigmas.size(); ++i) {
    const double sigma = sigmas[i], next = sigmas[i + 1], dt = next - sigma;
    AIGC_RETURN_IF_ERROR(s.denoise(x, sigma, denoised.data()));
    for (int64_t j = 0; j < n; ++j) d[j] = float((x[j] - denoised[j]) / sigma);
    if (next == 0) {  // Euler to sigma 0
      for (int64_t j = 0; j < n; ++j) x[j] = float(x[j] + d[j] * dt);
    } else {  // trapezoid: the mean of the slopes at sigma and at the Euler point at next
      for (int64_t j = 0; j < n; ++j) x2[j] = float(x[j] + d[j] * dt);
      AIGC_RETURN_IF_ERROR(s.denoise(x2.data(), next, denoised.data()));
      for (int64_t j = 0; j < n; ++j) {
        const double d2 = (x2[j] - denoised[j]) / next;
        x[j] = float(x[j] + (d[j] + d2) * (0.5 * dt));
      }
    }
    s.after_step(x, 1.0, next);
  }
  return Status();
}

// DPM-Solver++(2M) in lambda = -log sigma: x_next = (next/sigma) x - expm1(-h) D,
// D = denoised on the first step, else the extrapolation from the previous denoised.
Status sample_dpmpp_2m(Sampling& s, const std::vector<double>& sigmas, float* x) {
  const int64_t n = s.n();
  std::vector<float> denoised(static_cast<size_t>(n)), old_denoised(static_cast<size_t>(n));
  for (size_t i = 0; i + 1 < sigmas.size(); ++i) {
    const double sigma = sigmas[i], next = sigmas[i + 1];
    AIGC_RETURN_IF_ERROR(s.denoise(x, sigma, denoised.data()));
    if (next == 0) {
      std::copy(denoised.begin(), denoised.end(), x);
    } else {
      const double h = std::log(sigma) - std::log(next);
      const double x_scale = next / sigma, d_scale = -std::expm1(-h);
      if (i == 0) {
        for (int64_t j = 0; j < n; ++j) x[j] = float(x_scale * x[j] + d_scale * denoised[j]);
      } else {
        const double r = (std::log(sigmas[i - 1]) - std::log(sigma)) / h;
        const double w_new = 1 + 1 / (2 * r), w_old = 1 / (2 * r);
        for (int64_t j = 0; j < n; ++j)
          x[j] = float(x_scale * x[j] + d_scale * (w_new * denoised[j] - w_old * old_denoised[j]));
      }
    }
    std::swap(denoised, old_denoised);
    s.after_step(x, 1.0, next);
  }
  return Status();
}

// ---- DDIM and LCM on the variance-preserving latent ---------------------------------------

std::vector<int> ddim_timesteps(int steps) {
  const int ratio = NoiseSchedule::kTrainSteps / steps;
  std::vector<int> ts;
  for (int i = steps - 1; i >= 0; --i) ts.push_back(i * ratio + 1);
  return ts;
}

std::vector<int> lcm_timesteps(int steps) {
  const int k = NoiseSchedule::kTrainSteps / kLcmOriginalSteps;  // 20
  std::vector<int> ts;
  for (int j = 0; j < steps; ++j) {
    const int index = j * kLcmOriginalSteps / steps;  // into 999, 979, .., 19
    ts.push_back((kLcmOriginalSteps - index) * k - 1);
  }
  return ts;
}

Status sample_ddim(Sampling& s, const std::vector<double>& ac, const std::vector<int>& timesteps, int ratio,
                   float* x) {
  const int64_t n = s.n();
  for (int t : timesteps) {
    AIGC_RETURN_IF_ERROR(s.eval_eps(x, 1.0, t));
    const double a = ac[size_t(t)], a_prev = t - ratio >= 0 ? ac[size_t(t - ratio)] : ac[0];
    const double root_a = std::sqrt(a), root_1ma = std::sqrt(1 - a);
    const double root_a_prev = std::sqrt(a_prev), root_1ma_prev = std::sqrt(1 - a_prev);
    const float* eps = s.eps();
    for (int64_t j = 0; j < n; ++j) {
      const double x0 = (x[j] - root_1ma * eps[j]) / root_a;
      x[j] = float(root_a_prev * x0 + root_1ma_prev * eps[j]);
    }
    s.after_step(x, root_a_prev, root_1ma_prev);
  }
  return Status();
}

Status sample_lcm(Sampling& s, const std::vector<double>& ac, const std::vector<int>& timesteps,
                  const NoiseFn& noise_fn, float* x) {
  const int64_t n = s.n();
  std::vector<float> fresh(static_cast<size_t>(n));
  for (size_t k = 0; k < timesteps.size(); ++k) {
    const int t = timesteps[k];
    AIGC_RETURN_IF_ERROR(s.eval_eps(x, 1.0, t));
    const double a = ac[size_t(t)];
    const double scaled_t = t * kLcmTimestepScaling, sd2 = kLcmSigmaData * kLcmSigmaData;
    const double c_skip = sd2 / (scaled_t * scaled_t + sd2);
    const double c_out = scaled_t / std::sqrt(scaled_t * scaled_t + sd2);
    const bool last = k + 1 == timesteps.size();
    const double a_next = last ? 1.0 : ac[size_t(timesteps[k + 1])];
    if (!last) noise_fn(fresh.data(), n);
    const float* eps = s.eps();
    for (int64_t j = 0; j < n; ++j) {
      const double x0 = (x[j] - std::sqrt(1 - a) * eps[j]) / std::sqrt(a);
      const double denoised = c_out * x0 + c_skip * x[j];
      x[j] = last ? float(denoised) : float(std::sqrt(a_next) * denoised + std::sqrt(1 - a_next) * fresh[j]);
    }
    s.after_step(x, std::sqrt(a_next), std::sqrt(1 - a_next));
  }
  return Status();
}

}  // namespace

Result<SamplerKind> parse_sampler(std::string_view name) {
  std::string valid;
  for (const SamplerNames& s : kSamplers) {
    if (equals_ignoring_case(name, s.name) || equals_ignoring_case(name, s.display)) return s.kind;
    valid += std::string(valid.empty() ? "" : ", ") + s.name + " (\"" + s.display + "\")";
  }
  return Status::invalid_argument("unknown sampler '" + std::string(name) + "'; valid: " + valid);
}

const char* sampler_name(SamplerKind kind) { return names_of(kind).name; }
std::string sampler_display_name(SamplerKind kind) { return names_of(kind).display; }

int img2img_steps(int steps, float strength) {
  const int run = int(std::floor(double(strength) * steps + 0.5));
  return std::clamp(run, 1, std::max(steps, 1));
}

Result<int> model_evaluations(const SamplerRun& run) {
  AIGC_RETURN_IF_ERROR(check_run(run));
  const int steps = img2img_steps(run.steps, run.strength);
  return run.kind == SamplerKind::kHeun ? 2 * steps - 1 : steps;
}

Status sample(const NoiseSchedule& schedule, const SamplerRun& run, const EpsModel& model, const NoiseFn& noise_fn,
              const StepFn& on_step, float* x, int64_t n, const float* noise) {
  AIGC_ASSIGN_OR_RETURN(const int n_evals, model_evaluations(run));
  const std::string name = sampler_name(run.kind);
  if (n < 1 || x == nullptr) return Status::invalid_argument("sampler " + name + ": empty latent");
  if (!model) return Status::invalid_argument("sampler " + name + ": no model");
  if ((run.kind == SamplerKind::kEulerAncestral || run.kind == SamplerKind::kLcm) && !noise_fn)
    return Status::invalid_argument("sampler " + name + " needs a noise function");
  if (noise == nullptr && run.strength != 1.0f)
    return Status::invalid_argument("sampler " + name + ": strength " + std::to_string(run.strength) +
                                    " without an image latent and its noise (txt2img needs strength 1)");
  const int steps = run.steps, run_steps = img2img_steps(steps, run.strength);
  Sampling sampling(schedule, run, model, on_step, n_evals, n);

  if (is_k_diffusion(run.kind)) {
    const Spacing spacing = run.kind == SamplerKind::kDpmpp2mKarras ? Spacing::kKarras : run.spacing;
    const std::vector<float> all = schedule.sigmas(steps, spacing);
    const std::vector<double> sigmas(all.begin() + (steps - run_steps), all.end());
    for (int64_t j = 0; j < n; ++j) x[j] = float(noise ? x[j] + noise[j] * sigmas[0] : x[j] * sigmas[0]);
    switch (run.kind) {
      case SamplerKind::kEuler: return sample_euler(sampling, sigmas, x);
      case SamplerKind::kEulerAncestral: return sample_euler_ancestral(sampling, sigmas, noise_fn, x);
      case SamplerKind::kHeun: return sample_heun(sampling, sigmas, x);
      default: return sample_dpmpp_2m(sampling, sigmas, x);
    }
  }

  const std::vector<double> ac(schedule.alphas_cumprod().begin(), schedule.alphas_cumprod().end());
  const std::vector<int> all = run.kind == SamplerKind::kDdim ? ddim_timesteps(steps) : lcm_timesteps(steps);
  const std::vector<int> timesteps(all.begin() + (steps - run_steps), all.end());
  if (noise) {  // add_noise at the first timestep of the run
    const double a = ac[size_t(timesteps[0])];
    for (int64_t j = 0; j < n; ++j) x[j] = float(std::sqrt(a) * x[j] + std::sqrt(1 - a) * noise[j]);
  }
  if (run.kind == SamplerKind::kDdim)
    return sample_ddim(sampling, ac, timesteps, NoiseSchedule::kTrainSteps / steps, x);
  return sample_lcm(sampling, ac, timesteps, noise_fn, x);
}

void apply_cfg(const float* uncond, const float* cond, float scale, int64_t n, float* eps) {
  for (int64_t i = 0; i < n; ++i) eps[i] = uncond[i] + scale * (cond[i] - uncond[i]);
}

}  // namespace aigc
