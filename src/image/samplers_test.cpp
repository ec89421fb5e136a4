// The samplers against tools/reference/image/samplers_ref.py (float64) on a
// toy eps model defined identically there: every sampler x spacing x step
// count, txt2img and img2img, feeding the same noise stream. Tolerance: the
// final latent within 1e-4 of the reference relative to its largest value
// (max |got - want| <= 1e-4 max |want|). Also: the number of model
// evaluations and progress calls, names, errors, determinism, the latent hook
// and classifier-free guidance.
#include "image/samplers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace aigc {
namespace {

constexpr int64_t kN = 96;  // the toy latent's size in samplers_ref.py

// eps_i = tanh(0.8 x_i + b_i log(t + 1)), b_i = 0.25 cos(0.7 i): samplers_ref.py's toy_eps.
Status toy_eps(const float* x_in, float t, float* eps) {
  for (int64_t i = 0; i < kN; ++i)
    eps[i] = float(std::tanh(0.8 * x_in[i] + 0.25 * std::cos(0.7 * double(i)) * std::log(double(t) + 1.0)));
  return Status();
}

struct Record {
  std::vector<std::string> words;  // the leading fields that name the record
  std::vector<double> values;      // the numbers after them
};

// Each line of a reference file: `n_words` names, then numbers.
std::vector<Record> read_records(const std::string& file, size_t n_words) {
  const std::string path = std::string(AIGC_BUILD_TESTDATA_DIR) + "/image/samplers/" + file;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::vector<Record> records;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    Record r;
    r.words.resize(n_words);
    for (std::string& word : r.words) fields >> word;
    for (double v; fields >> v;) r.values.push_back(v);
    records.push_back(std::move(r));
  }
  return records;
}

std::map<std::string, std::vector<float>> read_noise() {
  std::map<std::string, std::vector<float>> arrays;
  for (const Record& r : read_records("noise.txt", 1)) arrays[r.words[0]].assign(r.values.begin(), r.values.end());
  return arrays;
}

// A NoiseFn handing out `stream` in order; fails the test if it runs out.
NoiseFn stream_noise(const std::vector<float>& stream, size_t* position) {
  return [&stream, position](float* out, int64_t n) {
    ASSERT_LE(*position + size_t(n), stream.size());
    std::copy_n(stream.begin() + std::ptrdiff_t(*position), n, out);
    *position += size_t(n);
  };
}

TEST(Samplers, EveryCaseMatchesReference) {
  const auto noise = read_noise();
  const std::vector<float>& stream = noise.at("stream");
  const NoiseSchedule schedule;
  int cases = 0;
  double worst = 0;
  for (const Record& c : read_records("cases.txt", 3)) {
    // mode sampler spacing | steps strength evals x...
    ASSERT_EQ(c.words.size(), 3u);
    ASSERT_EQ(c.values.size(), size_t(3 + kN));
    const bool img2img = c.words[0] == "img2img";
    SamplerRun run;
    run.kind = *parse_sampler(c.words[1]);
    run.spacing = *parse_spacing(c.words[2]);
    run.steps = int(c.values[0]);
    run.strength = float(c.values[1]);
    const int want_evals = int(c.values[2]);
    const std::string label = c.words[0] + " " + c.words[1] + " " + c.words[2] + " steps " +
                              std::to_string(run.steps) + " strength " + std::to_string(run.strength);

    std::vector<float> x = noise.at(img2img ? "image" : "init");
    size_t position = 0;
    int calls = 0;
    const StepFn on_step = [&](int step, int n_steps) {
      EXPECT_EQ(step, calls + 1) << label;
      EXPECT_EQ(n_steps, want_evals) << label;
      ++calls;
    };
    const Status s = sample(schedule, run, toy_eps, stream_noise(stream, &position), on_step, x.data(), kN,
                            img2img ? noise.at("img2img_noise").data() : nullptr);
    ASSERT_TRUE(s.ok()) << label << ": " << s.to_string();
    EXPECT_EQ(calls, want_evals) << label;
    EXPECT_EQ(*model_evaluations(run), want_evals) << label;

    double max_ref = 0, max_diff = 0;
    for (int64_t i = 0; i < kN; ++i) {
      const double want = c.values[size_t(3 + i)];
      max_ref = std::max(max_ref, std::fabs(want));
      max_diff = std::max(max_diff, std::fabs(x[size_t(i)] - want));
    }
    EXPECT_LE(max_diff, 1e-4 * max_ref) << label;
    worst = std::max(worst, max_diff / max_ref);
    ++cases;
  }
  EXPECT_EQ(cases, 86);
  std::printf("samplers: %d cases, worst relative difference %.2e (tolerance 1e-4)\n", cases, worst);
}

TEST(Samplers, SameInputsGiveTheSameBits) {
  const auto noise = read_noise();
  const NoiseSchedule schedule;
  for (SamplerKind kind : {SamplerKind::kEulerAncestral, SamplerKind::kDpmpp2mKarras, SamplerKind::kLcm}) {
    SamplerRun run;
    run.kind = kind;
    run.steps = 8;
    std::vector<float> a = noise.at("init"), b = a;
    size_t pa = 0, pb = 0;
    ASSERT_TRUE(sample(schedule, run, toy_eps, stream_noise(noise.at("stream"), &pa), {}, a.data(), kN).ok());
    ASSERT_TRUE(sample(schedule, run, toy_eps, stream_noise(noise.at("stream"), &pb), {}, b.data(), kN).ok());
    EXPECT_EQ(a, b) << sampler_name(kind);
    EXPECT_EQ(pa, pb);
  }
}

TEST(Samplers, NamesAndDisplayNames) {
  const std::pair<const char*, SamplerKind> names[] = {
      {"euler", SamplerKind::kEuler},           {"Euler a", SamplerKind::kEulerAncestral},
      {"heun", SamplerKind::kHeun},             {"DPM++ 2M", SamplerKind::kDpmpp2m},
      {"dpm++ 2m karras", SamplerKind::kDpmpp2mKarras}, {"ddim", SamplerKind::kDdim},
      {"LCM", SamplerKind::kLcm},               {"EULER_A", SamplerKind::kEulerAncestral}};
  for (const auto& [name, kind] : names) {
    const auto parsed = parse_sampler(name);
    ASSERT_TRUE(parsed.ok()) << name;
    EXPECT_EQ(*parsed, kind) << name;
  }
  EXPECT_EQ(sampler_display_name(SamplerKind::kEulerAncestral), "Euler a");
  EXPECT_EQ(sampler_display_name(SamplerKind::kDpmpp2mKarras), "DPM++ 2M Karras");
  for (SamplerKind kind : {SamplerKind::kEuler, SamplerKind::kEulerAncestral, SamplerKind::kHeun,
                           SamplerKind::kDpmpp2m, SamplerKind::kDpmpp2mKarras, SamplerKind::kDdim, SamplerKind::kLcm}) {
    EXPECT_EQ(*parse_sampler(sampler_display_name(kind)), kind);
    EXPECT_EQ(*parse_sampler(sampler_name(kind)), kind);
  }
}

TEST(Samplers, UnknownSamplerListsTheValidNames) {
  const auto bad = parse_sampler("DPM++ SDE");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  const std::string& m = bad.status().message();
  EXPECT_NE(m.find("'DPM++ SDE'"), std::string::npos) << m;
  for (const char* name : {"euler", "euler_a", "heun", "dpmpp_2m", "dpmpp_2m_karras", "ddim", "lcm", "Euler a",
                           "DPM++ 2M Karras"})
    EXPECT_NE(m.find(name), std::string::npos) << name << " missing from: " << m;
}

TEST(Samplers, BadRunsAreErrors) {
  const NoiseSchedule schedule;
  std::vector<float> x(kN, 0.5f), noise(kN, 0.1f);
  const NoiseFn zeros = [](float* out, int64_t n) { std::fill_n(out, n, 0.0f); };
  auto run_with = [&](SamplerKind kind, int steps, float strength, Spacing spacing, const float* img2img_noise) {
    SamplerRun run;
    run.kind = kind;
    run.steps = steps;
    run.strength = strength;
    run.spacing = spacing;
    return sample(schedule, run, toy_eps, zeros, {}, x.data(), kN, img2img_noise);
  };
  EXPECT_FALSE(run_with(SamplerKind::kEuler, 0, 1, Spacing::kNormal, nullptr).ok());
  EXPECT_FALSE(run_with(SamplerKind::kEuler, 1001, 1, Spacing::kNormal, nullptr).ok());
  EXPECT_FALSE(run_with(SamplerKind::kDdim, 1000, 1, Spacing::kNormal, nullptr).ok());
  EXPECT_FALSE(run_with(SamplerKind::kLcm, 51, 1, Spacing::kNormal, nullptr).ok());
  EXPECT_FALSE(run_with(SamplerKind::kEuler, 10, 0, Spacing::kNormal, noise.data()).ok());
  EXPECT_FALSE(run_with(SamplerKind::kEuler, 10, 1.5f, Spacing::kNormal, noise.data()).ok());
  EXPECT_FALSE(run_with(SamplerKind::kEuler, 10, std::nanf(""), Spacing::kNormal, noise.data()).ok());
  const Status txt2img_strength = run_with(SamplerKind::kEuler, 10, 0.5f, Spacing::kNormal, nullptr);
  EXPECT_NE(txt2img_strength.message().find("strength"), std::string::npos) << txt2img_strength.message();
  const Status ddim_karras = run_with(SamplerKind::kDdim, 10, 1, Spacing::kKarras, nullptr);
  EXPECT_NE(ddim_karras.message().find("karras"), std::string::npos) << ddim_karras.message();

  SamplerRun run;
  run.kind = SamplerKind::kEulerAncestral;
  EXPECT_FALSE(sample(schedule, run, toy_eps, {}, {}, x.data(), kN).ok()) << "Euler a without a noise function";

  int calls = 0;
  const EpsModel failing = [&](const float*, float, float*) {
    return ++calls == 3 ? Status::io_error("unet: out of memory") : Status();
  };
  run.kind = SamplerKind::kHeun;
  run.steps = 4;
  const Status s = sample(schedule, run, failing, {}, {}, x.data(), kN);
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_NE(s.message().find("heun"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("3/7"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("unet: out of memory"), std::string::npos) << s.message();
  EXPECT_EQ(calls, 3);
}

TEST(Samplers, Img2imgStepCount) {
  EXPECT_EQ(img2img_steps(20, 1.0f), 20);
  EXPECT_EQ(img2img_steps(20, 0.75f), 15);
  EXPECT_EQ(img2img_steps(10, 0.75f), 8);   // 7.5 rounds up
  EXPECT_EQ(img2img_steps(10, 0.25f), 3);   // 2.5 rounds up
  EXPECT_EQ(img2img_steps(10, 0.01f), 1);   // at least one step
}

// The hook sees each step's noise level; pinning part of the latent to the
// image noised to that level (latent masking) leaves exactly the image there
// after a k-diffusion run, whose last level is noise 0.
TEST(Samplers, LatentHookSeesEachLevelAndCanMask) {
  const auto arrays = read_noise();
  const std::vector<float>& image = arrays.at("image");
  const std::vector<float>& noise = arrays.at("img2img_noise");
  const NoiseSchedule schedule;
  for (SamplerKind kind : {SamplerKind::kEuler, SamplerKind::kEulerAncestral, SamplerKind::kHeun,
                           SamplerKind::kDpmpp2m, SamplerKind::kDdim, SamplerKind::kLcm}) {
    SamplerRun run;
    run.kind = kind;
    run.steps = 10;
    run.strength = 0.7f;
    std::vector<std::pair<double, double>> levels;
    run.after_step = [&](float* x, int64_t n, double signal, double noise_scale) {
      levels.emplace_back(signal, noise_scale);
      for (int64_t i = 0; i < n / 2; ++i) x[i] = float(signal * image[size_t(i)] + noise_scale * noise[size_t(i)]);
    };
    std::vector<float> x = image;
    size_t position = 0;
    ASSERT_TRUE(sample(schedule, run, toy_eps, stream_noise(arrays.at("stream"), &position), {}, x.data(), kN,
                       noise.data())
                    .ok());
    ASSERT_EQ(levels.size(), 7u) << sampler_name(kind);
    if (kind == SamplerKind::kDdim || kind == SamplerKind::kLcm) {
      for (const auto& [signal, noise_scale] : levels)
        EXPECT_NEAR(signal * signal + noise_scale * noise_scale, 1.0, 1e-6) << sampler_name(kind);
    } else {
      const std::vector<float> sigmas = schedule.sigmas(10, Spacing::kNormal);
      for (size_t k = 0; k < levels.size(); ++k) {
        EXPECT_EQ(levels[k].first, 1.0);
        EXPECT_EQ(levels[k].second, double(sigmas[3 + k + 1])) << sampler_name(kind) << " step " << k;
      }
    }
    if (kind != SamplerKind::kDdim) {
      EXPECT_EQ(levels.back().second, 0.0) << sampler_name(kind);
      for (int64_t i = 0; i < kN / 2; ++i) ASSERT_EQ(x[size_t(i)], image[size_t(i)]) << sampler_name(kind);
    }
  }
}

TEST(Samplers, ClassifierFreeGuidance) {
  std::vector<float> uncond(37), cond(37), eps(37);
  for (int i = 0; i < 37; ++i) {
    uncond[size_t(i)] = std::sin(0.3f * float(i));
    cond[size_t(i)] = std::cos(0.7f * float(i));
  }
  apply_cfg(uncond.data(), cond.data(), 7.5f, 37, eps.data());
  for (int i = 0; i < 37; ++i) {
    const double want = double(uncond[size_t(i)]) + 7.5 * (double(cond[size_t(i)]) - uncond[size_t(i)]);
    EXPECT_NEAR(eps[size_t(i)], want, 1e-6 * std::max(1.0, std::fabs(want)));
  }
  apply_cfg(uncond.data(), cond.data(), 1.0f, 37, eps.data());
  for (int i = 0; i < 37; ++i) EXPECT_NEAR(eps[size_t(i)], cond[size_t(i)], 1e-6);
  std::vector<float> in_place = uncond;
  apply_cfg(in_place.data(), cond.data(), 7.5f, 37, in_place.data());
  apply_cfg(uncond.data(), cond.data(), 7.5f, 37, eps.data());
  EXPECT_EQ(in_place, eps);
}

}  // namespace
}  // namespace aigc
