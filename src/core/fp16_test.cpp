// Tests for the scalar F16/BF16 conversions: every half value round-trips, and
// F32 -> F16 rounds to nearest even, checked against exact double arithmetic.
#include "core/fp16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace aigc {
namespace {

TEST(Fp16, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = fp16_to_fp32(uint16_t(h));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(fp16_to_fp32(fp32_to_fp16(f))));
      continue;
    }
    EXPECT_EQ(fp32_to_fp16(f), h) << "half bits " << h;
  }
}

// The nearest half to v by exhaustive search over finite halves (ties to even).
uint16_t nearest_half(float v) {
  uint16_t best = 0;
  double best_err = INFINITY;
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = fp16_to_fp32(uint16_t(h));
    if (!std::isfinite(f)) continue;
    const double err = std::fabs(double(f) - double(v));
    if (err < best_err || (err == best_err && (h & 1) == 0 && std::signbit(f) == std::signbit(v))) {
      best_err = err;
      best = uint16_t(h);
    }
  }
  return best;
}

TEST(Fp16, RoundsToNearestEven) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> mag(-20.f, 15.f);
  for (int i = 0; i < 300; ++i) {
    float v = std::ldexp(1.0f + float(rng() % 1000) / 1000.f, int(mag(rng)));
    if (rng() & 1) v = -v;
    EXPECT_EQ(fp32_to_fp16(v), nearest_half(v)) << v;
  }
  EXPECT_EQ(fp32_to_fp16(70000.f), 0x7c00);
  EXPECT_EQ(fp32_to_fp16(-70000.f), 0xfc00);
}

TEST(Bf16, RoundsToNearestEven) {
  EXPECT_EQ(fp32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(bf16_to_fp32(0x3f80), 1.0f);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even (1.0).
  EXPECT_EQ(fp32_to_bf16(1.0f + std::ldexp(1.f, -8)), 0x3f80);
  EXPECT_EQ(fp32_to_bf16(1.0f + 3 * std::ldexp(1.f, -8)), 0x3f82);
  EXPECT_TRUE(std::isnan(bf16_to_fp32(fp32_to_bf16(NAN))));
}

}  // namespace
}  // namespace aigc
