// Tests for attention.h: optimised variants against the scalar reference
// (causal KV cache with grouped-query heads, F32 and F16 caches; full
// attention, on AMX within its bound and exact where every part is
// representable); grouped heads give the same bits as separate KV copies; the
// first position attends only to itself; thread-count independence.
#include "kernels/attention.h"

#include <cmath>
#include <random>
#include <utility>

#include "core/fp16.h"
#include "kernels/op_test_util.h"

namespace aigc {
namespace {

constexpr double kTol = 1e-5;  // relative to the output's magnitude

std::vector<uint16_t> to_f16(const std::vector<float>& v) {
  std::vector<uint16_t> h(v.size());
  for (size_t i = 0; i < v.size(); ++i) h[i] = fp32_to_fp16(v[i]);
  return h;
}

class AttentionTest : public IsaTest {};

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(double(a[i]) - double(b[i])));
  return m;
}

// kTol of the output's magnitude; on AMX (attention_amx.h) plus 2^-15 max |v|
// for P V's 16-bit products.
double full_attention_bound(const std::vector<float>& want, const std::vector<float>& v) {
  double out_max = 0, v_max = 0;
  for (float x : want) out_max = std::max(out_max, double(std::fabs(x)));
  for (float x : v) v_max = std::max(v_max, double(std::fabs(x)));
  return kTol * out_max + (amx_usable() ? std::ldexp(v_max, -15) : 0.0);
}

TEST_P(AttentionTest, CachedMatchesReference) {
  struct Heads { int64_t n_head, n_head_kv; };
  for (int64_t d : {1, 2, 3, 5, 7, 15, 17, 31, 33, 64, 65, 128}) {
    for (const Heads hs : {Heads{1, 1}, Heads{4, 2}, Heads{6, 1}, Heads{16, 2}}) {
      for (DType type : {DType::F32, DType::F16}) {
        const int64_t n_ctx = 40, T = 5;
        const std::vector<int32_t> pos = {0, 16, 17, 33, 39};
        const auto q = random_floats(T * hs.n_head * d, uint32_t(d));
        const auto k = random_floats(n_ctx * hs.n_head_kv * d, uint32_t(d) + 1);
        const auto v = random_floats(n_ctx * hs.n_head_kv * d, uint32_t(d) + 2);
        const auto k16 = to_f16(k), v16 = to_f16(v);
        const void* kp = type == DType::F16 ? static_cast<const void*>(k16.data()) : k.data();
        const void* vp = type == DType::F16 ? static_cast<const void*>(v16.data()) : v.data();
        std::vector<float> want(q.size()), got(q.size());
        attention_cached_ref(want.data(), q.data(), kp, vp, type, pos.data(), T, hs.n_head, hs.n_head_kv, d, n_ctx);
        attention_cached(got.data(), q.data(), kp, vp, type, pos.data(), T, hs.n_head, hs.n_head_kv, d, n_ctx);
        EXPECT_TRUE(all_finite(got));
        EXPECT_LE(rel_error(got, want), kTol)
            << "d=" << d << " heads=" << hs.n_head << "/" << hs.n_head_kv << " type=" << dtype_name(type);
      }
    }
  }
}

TEST_P(AttentionTest, FullMatchesReference) {
  for (int64_t n_kv : {1, 2, 3, 7, 17, 33, 65, 300}) {
    for (int64_t d : {1, 5, 8, 17, 40, 260}) {  // 260: more than one reduction block of q k^T
      // T = 31: a full piece of 24 queries, then a partial one of one full and one partial micro-tile row
      const int64_t T = 31, H = 2;
      const auto q = random_floats(T * H * d, uint32_t(n_kv * 100 + d), -2.0f, 2.0f);
      const auto k = random_floats(n_kv * H * d, uint32_t(n_kv * 100 + d) + 1, -2.0f, 2.0f);
      const auto v = random_floats(n_kv * H * d, uint32_t(n_kv * 100 + d) + 2);
      std::vector<float> want(q.size()), got(q.size());
      attention_full_ref(want.data(), q.data(), k.data(), v.data(), T, n_kv, H, d);
      for (bool amx : {false, true}) {  // with AMX where the CPU has it, and the FMA kernels
        allow_amx(amx);
        attention_full(got.data(), q.data(), k.data(), v.data(), T, n_kv, H, d);
        EXPECT_TRUE(all_finite(got));
        EXPECT_LE(max_abs_diff(got, want), full_attention_bound(want, v))
            << "n_kv=" << n_kv << " d=" << d << " amx=" << amx_usable();
      }
    }
  }
}

// Scores of up to about 40 after scaling (queries and keys up to 6): the
// softmax turns a score's error into a relative error of its weight, so this
// fails unless the scores are F32-grade (on AMX: Q and K in three parts;
// with two, 1.4e-4 here against the bound of 8.1e-5).
TEST_P(AttentionTest, FullWithLargeScores) {
  for (const auto& [n_kv, d] : {std::pair<int64_t, int64_t>{77, 40}, {300, 64}}) {
    const int64_t T = 64, H = 2;
    const auto q = random_floats(T * H * d, uint32_t(n_kv + d), -6.0f, 6.0f);
    const auto k = random_floats(n_kv * H * d, uint32_t(n_kv + d) + 1, -6.0f, 6.0f);
    const auto v = random_floats(n_kv * H * d, uint32_t(n_kv + d) + 2, -2.0f, 2.0f);
    std::vector<float> want(q.size()), got(q.size());
    attention_full_ref(want.data(), q.data(), k.data(), v.data(), T, n_kv, H, d);
    attention_full(got.data(), q.data(), k.data(), v.data(), T, n_kv, H, d);
    EXPECT_LE(max_abs_diff(got, want), full_attention_bound(want, v)) << "n_kv=" << n_kv << " d=" << d;
  }
}

TEST_P(AttentionTest, FirstPositionReturnsItsValue) {
  const int64_t d = 9, n_ctx = 4;
  const auto q = random_floats(2 * d, 1);
  const auto k = random_floats(n_ctx * d, 2);
  const auto v = random_floats(n_ctx * d, 3);
  const std::vector<int32_t> pos = {0};
  std::vector<float> got(2 * d);
  attention_cached(got.data(), q.data(), k.data(), v.data(), DType::F32, pos.data(), 1, 2, 1, d, n_ctx);
  for (int64_t h = 0; h < 2; ++h) {
    for (int64_t i = 0; i < d; ++i) EXPECT_NEAR(got[h * d + i], v[i], 1e-6f);
  }
}

AIGC_INSTANTIATE_ISA_TEST(AttentionTest);

// On AMX: queries of zero give every key the weight 1/64 (exact in bf16) and
// integer values of up to 11 bits need both bf16 parts, so the output, their
// mean, is exact only if every product of P V is summed.
TEST(AttentionAmx, UniformWeightsGiveTheExactMean) {
  if (!amx_usable()) GTEST_SKIP() << "no AMX here (CPU or OS): the AMX path not tested";
  const int64_t T = 40, n_kv = 64, H = 3, d = 40;
  const std::vector<float> q(size_t(T * H * d), 0.0f), k = random_floats(n_kv * H * d, 1);
  std::vector<float> v(size_t(n_kv * H * d));
  std::mt19937 rng(2);
  std::uniform_int_distribution<int> dist(-1000, 1000);
  for (float& x : v) x = float(dist(rng));
  std::vector<float> got(q.size()), want(q.size());
  attention_full(got.data(), q.data(), k.data(), v.data(), T, n_kv, H, d);
  attention_full_ref(want.data(), q.data(), k.data(), v.data(), T, n_kv, H, d);
  EXPECT_TRUE(same_bits(got, want)) << "max |diff| " << max_abs_diff(got, want);
}

// Query heads sharing a KV head run together (AVX-512, head sizes 64 and
// 128): the same bits as each head alone on its own copy of the KV head.
TEST_P(AttentionTest, SharedKvHeadsMatchSeparateCopiesBitForBit) {
  for (int64_t d : {64, 128}) {
    for (DType type : {DType::F32, DType::F16}) {
      const int64_t n_ctx = 70, T = 3, H = 8, H_kv = 2, per_kv = H / H_kv;
      const std::vector<int32_t> pos = {0, 23, 69};
      const auto q = random_floats(T * H * d, uint32_t(d) + 5);
      const auto k = random_floats(n_ctx * H_kv * d, uint32_t(d) + 6);
      const auto v = random_floats(n_ctx * H_kv * d, uint32_t(d) + 7);
      std::vector<float> k_copies(size_t(n_ctx * H * d)), v_copies(k_copies.size());
      for (int64_t j = 0; j < n_ctx; ++j)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t i = 0; i < d; ++i) {
            k_copies[size_t((j * H + h) * d + i)] = k[size_t((j * H_kv + h / per_kv) * d + i)];
            v_copies[size_t((j * H + h) * d + i)] = v[size_t((j * H_kv + h / per_kv) * d + i)];
          }
      const auto k16 = to_f16(k), v16 = to_f16(v), kc16 = to_f16(k_copies), vc16 = to_f16(v_copies);
      const bool f16 = type == DType::F16;
      std::vector<float> shared(q.size()), separate(q.size());
      attention_cached(shared.data(), q.data(), f16 ? static_cast<const void*>(k16.data()) : k.data(),
                       f16 ? static_cast<const void*>(v16.data()) : v.data(), type, pos.data(), T, H, H_kv, d, n_ctx);
      attention_cached(separate.data(), q.data(), f16 ? static_cast<const void*>(kc16.data()) : k_copies.data(),
                       f16 ? static_cast<const void*>(vc16.data()) : v_copies.data(), type, pos.data(), T, H, H, d,
                       n_ctx);
      EXPECT_TRUE(same_bits(shared, separate)) << "d=" << d << " type=" << dtype_name(type);
    }
  }
}

TEST(AttentionThreads, OneAndTwoThreadsBitIdentical) {
  const int64_t T = 7, H = 4, H_kv = 2, d = 32, n_ctx = 50;
  const std::vector<int32_t> pos = {10, 11, 12, 13, 14, 15, 49};
  const auto q = random_floats(T * H * d, 1);
  const auto k = random_floats(n_ctx * H_kv * d, 2);
  const auto v = random_floats(n_ctx * H_kv * d, 3);
  std::vector<float> a(q.size()), b(q.size()), fa(q.size()), fb(q.size());
  {
    ThreadCount t(1);
    attention_cached(a.data(), q.data(), k.data(), v.data(), DType::F32, pos.data(), T, H, H_kv, d, n_ctx);
    attention_full(fa.data(), q.data(), k.data(), v.data(), T, 25, H, d);
  }
  {
    ThreadCount t(2);
    attention_cached(b.data(), q.data(), k.data(), v.data(), DType::F32, pos.data(), T, H, H_kv, d, n_ctx);
    attention_full(fb.data(), q.data(), k.data(), v.data(), T, 25, H, d);
  }
  EXPECT_TRUE(same_bits(a, b));
  EXPECT_TRUE(same_bits(fa, fb));
}

}  // namespace
}  // namespace aigc
