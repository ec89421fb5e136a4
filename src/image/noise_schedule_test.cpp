// NoiseSchedule against tools/reference/image/samplers_ref.py (float64):
// alphas_cumprod, sigmas, t <-> sigma and the sigma spacings within 1e-6
// relative (|got - want| <= 1e-6 max(|want|, 1) for timesteps).
#include "image/noise_schedule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace aigc {
namespace {

// Each line of a reference file: its first field and the numbers after it.
std::multimap<std::string, std::vector<double>> read_records(const std::string& file) {
  const std::string path = std::string(AIGC_BUILD_TESTDATA_DIR) + "/image/samplers/" + file;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::multimap<std::string, std::vector<double>> records;
  std::string line, name;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    fields >> name;
    std::vector<double> values;
    for (double v; fields >> v;) values.push_back(v);
    records.emplace(name, std::move(values));
  }
  return records;
}

TEST(NoiseSchedule, AlphasCumprodAndSigmasMatchReference) {
  const auto ref = read_records("schedule.txt");
  const NoiseSchedule schedule;
  const std::vector<double>& ac = ref.find("alphas_cumprod")->second;
  const std::vector<double>& sigmas = ref.find("sigmas")->second;
  ASSERT_EQ(ac.size(), size_t(NoiseSchedule::kTrainSteps));
  ASSERT_EQ(schedule.alphas_cumprod().size(), ac.size());
  for (int t = 0; t < NoiseSchedule::kTrainSteps; ++t) {
    EXPECT_NEAR(schedule.alphas_cumprod()[t], ac[t], 1e-6 * ac[t]) << "t " << t;
    EXPECT_NEAR(schedule.sigma(float(t)), sigmas[t], 1e-6 * sigmas[t]) << "t " << t;
  }
  EXPECT_NEAR(schedule.sigma_min(), sigmas.front(), 1e-6 * sigmas.front());
  EXPECT_NEAR(schedule.sigma_max(), sigmas.back(), 1e-6 * sigmas.back());
}

TEST(NoiseSchedule, TimestepSigmaInterpolationMatchesReference) {
  const auto ref = read_records("schedule.txt");
  const NoiseSchedule schedule;
  const std::vector<double>& sigma_of_t = ref.find("sigma_of_t")->second;
  ASSERT_EQ(sigma_of_t.size() % 2, 0u);
  for (size_t i = 0; i < sigma_of_t.size(); i += 2) {
    const double t = sigma_of_t[i], want = sigma_of_t[i + 1];
    EXPECT_NEAR(schedule.sigma(float(t)), want, 1e-6 * want) << "t " << t;
  }
  const std::vector<double>& t_of_sigma = ref.find("t_of_sigma")->second;
  ASSERT_EQ(t_of_sigma.size() % 2, 0u);
  for (size_t i = 0; i < t_of_sigma.size(); i += 2) {
    const double sigma = t_of_sigma[i], want = t_of_sigma[i + 1];
    EXPECT_NEAR(schedule.t_from_sigma(float(sigma)), want, 1e-6 * std::max(want, 1.0)) << "sigma " << sigma;
  }
}

TEST(NoiseSchedule, TimestepSigmaRoundTrip) {
  const NoiseSchedule schedule;
  for (double t = 0; t <= 999; t += 7.37) {
    EXPECT_NEAR(schedule.t_from_sigma(schedule.sigma(float(t))), t, 1e-3) << "t " << t;
  }
  EXPECT_EQ(schedule.t_from_sigma(0.0f), 0.0f);
  EXPECT_EQ(schedule.t_from_sigma(1000.0f), 999.0f);
}

TEST(NoiseSchedule, SpacingsMatchReference) {
  const auto ref = read_records("sigmas.txt");
  const NoiseSchedule schedule;
  int lists = 0;
  for (const auto& [name, values] : ref) {
    const Spacing spacing = name == "karras" ? Spacing::kKarras : Spacing::kNormal;
    const int steps = int(values[0]);
    const std::vector<float> got = schedule.sigmas(steps, spacing);
    ASSERT_EQ(got.size(), size_t(steps) + 1) << name << " " << steps;
    for (int i = 0; i <= steps; ++i) {
      const double want = values[size_t(i) + 1];
      EXPECT_NEAR(got[size_t(i)], want, 1e-6 * want) << name << " " << steps << " sigma " << i;
    }
    EXPECT_EQ(got.back(), 0.0f);
    ++lists;
  }
  EXPECT_EQ(lists, 14);
}

TEST(NoiseSchedule, ParseSpacing) {
  EXPECT_EQ(*parse_spacing("normal"), Spacing::kNormal);
  EXPECT_EQ(*parse_spacing("Karras"), Spacing::kKarras);
  EXPECT_STREQ(spacing_name(Spacing::kKarras), "karras");
  const auto bad = parse_spacing("exponential");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("exponential"), std::string::npos);
  EXPECT_NE(bad.status().message().find("normal, karras"), std::string::npos);
}

}  // namespace
}  // namespace aigc
