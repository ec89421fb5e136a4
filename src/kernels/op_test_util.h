// Helpers shared by the op tests: random data, error measures, fixtures that
// run a test once per ISA (skipping the ones this CPU lacks; the model tests
// use one too), and RAII guards for the ISA cap and the thread count.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "core/cpu_features.h"
#include "core/threads.h"

namespace aigc {

// Row lengths that cover every SIMD tail for 8 and 16 lanes.
inline const std::vector<int64_t> kAwkwardSizes = {1, 2, 3, 5, 7, 15, 17, 31, 33, 63, 65, 1023};

inline std::vector<float> random_floats(int64_t n, uint32_t seed, float lo = -3.0f, float hi = 3.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

// max |got - want| / max |want|: the error relative to the data's magnitude.
inline double rel_error(const std::vector<float>& got, const std::vector<float>& want) {
  double max_diff = 0.0, max_ref = 0.0;
  for (size_t i = 0; i < want.size(); ++i) {
    max_diff = std::max(max_diff, std::fabs(double(got[i]) - double(want[i])));
    max_ref = std::max(max_ref, std::fabs(double(want[i])));
  }
  return max_ref > 0.0 ? max_diff / max_ref : max_diff;
}

inline bool all_finite(const std::vector<float>& v) {
  for (float x : v) {
    if (!std::isfinite(x)) return false;
  }
  return true;
}

inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Caps active_isa() for the guard's lifetime.
class IsaCap {
 public:
  explicit IsaCap(Isa isa) { cap_isa(isa); }
  ~IsaCap() { cap_isa(Isa::kAvx512); }
  IsaCap(const IsaCap&) = delete;
  IsaCap& operator=(const IsaCap&) = delete;
};

// Sets the kernel thread count for the guard's lifetime.
class ThreadCount {
 public:
  explicit ThreadCount(int n) : saved_(num_threads()) { set_num_threads(n); }
  ~ThreadCount() { set_num_threads(saved_); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  int saved_;
};

// A test that runs once per optimised ISA with active_isa() capped to it;
// skipped, with a message, where the CPU lacks that ISA.
class IsaTest : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!cpu_supports(GetParam())) GTEST_SKIP() << "this CPU lacks " << isa_name(GetParam()) << ": variant not tested";
    cap_isa(GetParam());
  }
  void TearDown() override { cap_isa(Isa::kAvx512); }
};

inline std::string isa_test_name(const ::testing::TestParamInfo<Isa>& info) { return isa_name(info.param); }

#define AIGC_INSTANTIATE_ISA_TEST(suite) \
  INSTANTIATE_TEST_SUITE_P(Isa, suite, ::testing::Values(Isa::kAvx2, Isa::kAvx512), isa_test_name)

// run() (returning floats) gives the same bits on 1, 2 and 3 threads.
template <class Run>
void expect_same_bits_on_any_thread_count(Run run) {
  std::vector<float> one;
  {
    ThreadCount guard(1);
    one = run();
  }
  for (int threads : {2, 3}) {
    ThreadCount guard(threads);
    EXPECT_TRUE(same_bits(run(), one)) << threads << " threads";
  }
}

// A model test over (case name, ISA) pairs: the whole forward pass runs with
// the ISA capped, so every ISA's kernels are checked end to end against the
// reference, scalar included; skipped, with a message, where the CPU lacks the ISA.
class CaseIsaTest : public ::testing::TestWithParam<std::tuple<const char*, Isa>> {
 protected:
  void SetUp() override {
    const Isa isa = std::get<1>(GetParam());
    if (!cpu_supports(isa)) GTEST_SKIP() << "this CPU lacks " << isa_name(isa) << ": variant not tested";
    cap_isa(isa);
  }
  void TearDown() override { cap_isa(Isa::kAvx512); }
  static const char* test_case() { return std::get<0>(GetParam()); }
};

inline std::string case_isa_test_name(const ::testing::TestParamInfo<std::tuple<const char*, Isa>>& info) {
  std::string name = std::string(std::get<0>(info.param)) + "_" + isa_name(std::get<1>(info.param));
  for (char& ch : name)
    if (ch == '-') ch = '_';
  return name;
}

#define AIGC_INSTANTIATE_CASE_ISA_TEST(suite, cases)                                                   \
  INSTANTIATE_TEST_SUITE_P(Cases, suite,                                                               \
                           ::testing::Combine(::testing::ValuesIn(cases),                              \
                                              ::testing::Values(Isa::kScalar, Isa::kAvx2, Isa::kAvx512)), \
                           case_isa_test_name)

}  // namespace aigc
