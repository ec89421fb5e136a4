// GaussianRng: counter-based SplitMix64 bits and the Box-Muller transform
// (see gaussian_rng.h for the exact definition).
#include "image/gaussian_rng.h"

#include <cmath>
#include <numbers>

namespace aigc {

namespace {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;

// SplitMix64's output function (Steele, Lea, Flood 2014).
uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Both samples of pair k.
void box_muller_pair(uint64_t key, uint64_t k, double* z0, double* z1) {
  const uint64_t b1 = mix64(key + (2 * k + 1) * kGolden);
  const uint64_t b2 = mix64(key + (2 * k + 2) * kGolden);
  const double u1 = double((b1 >> 11) + 1) * 0x1.0p-53;
  const double u2 = double(b2 >> 11) * 0x1.0p-53;
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double angle = 2.0 * std::numbers::pi * u2;
  *z0 = r * std::cos(angle);
  *z1 = r * std::sin(angle);
}

}  // namespace

GaussianRng::GaussianRng(uint64_t seed) : key_(mix64(seed + kGolden)) {}

float GaussianRng::sample_at(uint64_t index) const {
  double z0, z1;
  box_muller_pair(key_, index / 2, &z0, &z1);
  return float(index % 2 ? z1 : z0);
}

void GaussianRng::fill(float* out, int64_t n) {
  int64_t i = 0;
  if (n > 0 && position_ % 2) out[i++] = sample_at(position_);  // finish the pair started before
  for (; i + 1 < n; i += 2) {
    double z0, z1;
    box_muller_pair(key_, (position_ + uint64_t(i)) / 2, &z0, &z1);
    out[i] = float(z0);
    out[i + 1] = float(z1);
  }
  if (i < n) out[i] = sample_at(position_ + uint64_t(i));
  position_ += uint64_t(n > 0 ? n : 0);
}

}  // namespace aigc
