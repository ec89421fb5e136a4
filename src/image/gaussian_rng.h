// GaussianRng: the seeded standard-normal generator of the image pipeline
// (initial latent noise, img2img noise, ancestral sampler noise).
//
// Counter-based, so sample i of a seed is a pure function of (seed, i):
//   key     = splitmix64(seed)
//   bits(j) = splitmix64_mix(key + (j + 1) * 0x9E3779B97F4A7C15)     (64 bits)
//   pair k (samples 2k, 2k+1), Box-Muller in double precision:
//     u1 = ((bits(2k) >> 11) + 1) / 2^53        in (0, 1]
//     u2 =  (bits(2k + 1) >> 11) / 2^53         in [0, 1)
//     sample 2k     = sqrt(-2 ln u1) * cos(2 pi u2)
//     sample 2k + 1 = sqrt(-2 ln u1) * sin(2 pi u2)
// The same seed gives the same floats on any thread count and however the
// stream is cut into fill() calls. It is not the web UI's torch.randn (a
// CPU engine cannot reproduce the CUDA generator); `--noise FILE.npy` is the
// way to start from another tool's latent.
//
// Not thread-safe (fill() advances the position); sample_at() is const.
#pragma once

#include <cstdint>

namespace aigc {

class GaussianRng {
 public:
  explicit GaussianRng(uint64_t seed);

  // Writes the next n samples and advances the position by n.
  void fill(float* out, int64_t n);
  // Sample `index` of this seed's stream (does not move the position).
  float sample_at(uint64_t index) const;

  uint64_t position() const { return position_; }

 private:
  uint64_t key_;
  uint64_t position_ = 0;
};

}  // namespace aigc
