// The SD 1.x noise schedule: scaled-linear betas, sigmas, log-sigma
// interpolation between timesteps, and the normal and Karras sigma spacings.
#include "image/noise_schedule.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace aigc {

namespace {

constexpr double kBetaStart = 0.00085, kBetaEnd = 0.012;
constexpr double kKarrasRho = 7.0;

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// numpy.linspace(first, last, n)[i]
double linspace_at(double first, double last, int n, int i) {
  if (n == 1) return first;
  return first + (last - first) * double(i) / double(n - 1);
}

}  // namespace

Result<Spacing> parse_spacing(std::string_view name) {
  if (equals_ignoring_case(name, "normal")) return Spacing::kNormal;
  if (equals_ignoring_case(name, "karras")) return Spacing::kKarras;
  return Status::invalid_argument("unknown sigma spacing (scheduler) '" + std::string(name) +
                                  "'; valid: normal, karras");
}

const char* spacing_name(Spacing spacing) { return spacing == Spacing::kKarras ? "karras" : "normal"; }

NoiseSchedule::NoiseSchedule() {
  alphas_cumprod_.resize(kTrainSteps);
  sigmas_.resize(kTrainSteps);
  log_sigmas_.resize(kTrainSteps);
  const double root_start = std::sqrt(kBetaStart), root_end = std::sqrt(kBetaEnd);
  double cumprod = 1.0;
  for (int t = 0; t < kTrainSteps; ++t) {
    const double root_beta = linspace_at(root_start, root_end, kTrainSteps, t);
    cumprod *= 1.0 - root_beta * root_beta;
    alphas_cumprod_[t] = cumprod;
    sigmas_[t] = std::sqrt((1.0 - cumprod) / cumprod);
    log_sigmas_[t] = std::log(sigmas_[t]);
  }
  alphas_cumprod_f_.assign(alphas_cumprod_.begin(), alphas_cumprod_.end());
}

double NoiseSchedule::sigma_of_t(double t) const {
  t = std::clamp(t, 0.0, double(kTrainSteps - 1));
  const int low = int(std::floor(t));
  const int high = std::min(low + 1, kTrainSteps - 1);
  const double w = t - low;
  return std::exp((1 - w) * log_sigmas_[low] + w * log_sigmas_[high]);
}

double NoiseSchedule::t_of_sigma(double sigma) const {
  if (!(sigma > sigmas_.front())) return 0.0;  // also NaN and 0
  if (sigma >= sigmas_.back()) return double(kTrainSteps - 1);
  const double log_sigma = std::log(sigma);
  // low: the last step whose log sigma is <= log_sigma
  const int low = std::clamp(
      int(std::upper_bound(log_sigmas_.begin(), log_sigmas_.end(), log_sigma) - log_sigmas_.begin()) - 1, 0,
      kTrainSteps - 2);
  const double w = std::clamp((log_sigmas_[low] - log_sigma) / (log_sigmas_[low] - log_sigmas_[low + 1]), 0.0, 1.0);
  return low + w;
}

std::vector<float> NoiseSchedule::sigmas(int steps, Spacing spacing) const {
  std::vector<float> out;
  out.reserve(size_t(std::max(steps, 0)) + 1);
  for (int i = 0; i < steps; ++i) {
    if (spacing == Spacing::kKarras) {
      const double inv_max = std::pow(sigmas_.back(), 1 / kKarrasRho);
      const double inv_min = std::pow(sigmas_.front(), 1 / kKarrasRho);
      out.push_back(float(std::pow(inv_max + linspace_at(0, 1, steps, i) * (inv_min - inv_max), kKarrasRho)));
    } else {
      out.push_back(float(sigma_of_t(linspace_at(kTrainSteps - 1, 0, steps, i))));
    }
  }
  out.push_back(0.0f);
  return out;
}

}  // namespace aigc
