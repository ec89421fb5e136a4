// Tests of the scalar reference quantization (quants_ref), driven by the
// dtype table so that a new quantized row is tested automatically:
//   - round trip: dequantize(quantize(x)) is within a stated bound of x;
//   - dot: vec_dot_ref equals the double-precision dot of the dequantized
//     operands within a tight tolerance;
//   - edge blocks (zeros, constants, one spike) give finite, exact results;
//   - ggml's rounding helpers (nearest_int ties to even, K-scale packing);
//   - fixtures from the independent numpy implementation
//     (tools/reference/quants.py): dequantized floats bit for bit, quantized
//     bytes exactly. Regenerate them with
//       /usr/bin/python3 tools/reference/quants.py
#include "core/quants_ref.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "core/fp16.h"
#include "core/quant_blocks.h"

namespace aigc {
namespace {

// Block counts to test: awkward sizes, so loops over blocks see tails.
constexpr int kBlockCounts[] = {1, 2, 3, 5, 7, 15, 17, 31, 33};

std::vector<const DTypeTraits*> quantized_types() {
  std::vector<const DTypeTraits*> out;
  for (int i = 0; i < dtype_count(); ++i)
    if (dtype_traits_at(i).is_quantized) out.push_back(&dtype_traits_at(i));
  return out;
}

std::vector<float> gaussian(int64_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = dist(rng);
  return x;
}

std::vector<uint8_t> quantize(const DTypeTraits& t, const std::vector<float>& x) {
  std::vector<uint8_t> q(*dtype_row_bytes(t.type, int64_t(x.size())));
  t.from_float(x.data(), q.data(), int64_t(x.size()));
  return q;
}

std::vector<float> dequantize(const DTypeTraits& t, const std::vector<uint8_t>& q, int64_t n) {
  std::vector<float> y(static_cast<size_t>(n));
  t.to_float(q.data(), y.data(), n);
  return y;
}

// Root-mean-square round-trip error as a fraction of the data's RMS, on
// Gaussian data: the documented quality of each quantizer (ggml's
// test-quantize-fns states the same kind of bound). The worst value measured
// over the block counts below is in the comment; the bounds leave ~15%.
double rms_error_bound(DType type) {
  switch (type) {
    case DType::Q4_0: return 0.105;   // 0.090
    case DType::Q4_1: return 0.10;    // 0.085
    case DType::Q5_0: return 0.056;   // 0.048
    case DType::Q5_1: return 0.048;   // 0.041
    case DType::Q8_0: return 0.007;   // 0.0060
    case DType::Q8_1: return 0.0065;  // 0.0055
    case DType::Q2_K: return 0.40;    // 0.346
    case DType::Q3_K: return 0.185;   // 0.159
    case DType::Q4_K: return 0.085;   // 0.073
    case DType::Q5_K: return 0.045;   // 0.038
    case DType::Q6_K: return 0.022;   // 0.0185
    case DType::Q8_K: return 0.0085;  // 0.0073: amax over 256 elements gives coarser steps than Q8_0
    default: return -1;  // no bound stated: the test fails and asks for one
  }
}

// Per-element bound for the 32-element types, in units of the block's
// largest |x| (amax) or range (max - min):
//   Q8_0, Q8_1: half a step d = amax/127, plus the F16 rounding of d
//               (127 * d * 2^-11): <= 0.57 * amax / 127;
//   Q4_0, Q5_0: one step |d| = amax/8 (amax/16): the element opposite the
//               signed max maps to q = 16 (32) and is clamped to 15 (31);
//               plus F16 rounding of d;
//   Q4_1, Q5_1: half a step (max-min)/15 (/31), plus F16 rounding of d and m.
double element_error_bound(DType type, const float* x) {
  float amax = 0, min = x[0], max = x[0];
  for (int j = 0; j < kQK; ++j) {
    amax = std::max(amax, std::fabs(x[j]));
    min = std::min(min, x[j]);
    max = std::max(max, x[j]);
  }
  const double f16 = 1.0 / 1024;  // relative rounding of an F16, with margin
  switch (type) {
    case DType::Q8_0:
    case DType::Q8_1: return 0.57 * amax / 127;
    case DType::Q4_0: return amax / 8 * (1 + 8 * f16);
    case DType::Q5_0: return amax / 16 * (1 + 16 * f16);
    case DType::Q4_1: return (max - min) / 15 * (0.5 + 15 * f16) + std::fabs(min) * f16;
    case DType::Q5_1: return (max - min) / 31 * (0.5 + 31 * f16) + std::fabs(min) * f16;
    default: return -1;
  }
}

TEST(QuantsRef, EveryQuantizedTypeHasReferenceKernels) {
  for (const DTypeTraits* t : quantized_types()) {
    SCOPED_TRACE(t->name);
    EXPECT_NE(t->to_float, nullptr);
    EXPECT_NE(t->from_float, nullptr);
    const DTypeTraits* act = dtype_traits(t->vec_dot_type);
    ASSERT_NE(act, nullptr);
    EXPECT_NE(act->from_float, nullptr) << "activations of the dot must be quantizable";
  }
}

TEST(QuantsRef, RoundTripWithinStatedBounds) {
  for (const DTypeTraits* t : quantized_types()) {
    SCOPED_TRACE(t->name);
    const double bound = rms_error_bound(t->type);
    ASSERT_GT(bound, 0) << "state an RMS error bound for " << t->name;
    for (int nb : kBlockCounts) {
      const int64_t n = nb * t->block_size;
      const std::vector<float> x = gaussian(n, uint32_t(nb * 7919 + int(t->type)));
      const std::vector<float> y = dequantize(*t, quantize(*t, x), n);
      double err2 = 0, ref2 = 0;
      for (int64_t i = 0; i < n; ++i) {
        ASSERT_TRUE(std::isfinite(y[i])) << "element " << i;
        err2 += double(y[i] - x[i]) * double(y[i] - x[i]);
        ref2 += double(x[i]) * double(x[i]);
      }
      EXPECT_LE(std::sqrt(err2 / ref2), bound) << nb << " blocks";
      if (t->block_size != kQK) continue;
      for (int64_t b = 0; b < nb; ++b) {
        const double eb = element_error_bound(t->type, x.data() + b * kQK);
        ASSERT_GT(eb, 0) << "state a per-element bound for " << t->name;
        for (int j = 0; j < kQK; ++j) {
          const int64_t i = b * kQK + j;
          EXPECT_LE(std::fabs(double(y[i]) - double(x[i])), eb) << "block " << b << " element " << j;
        }
      }
    }
  }
}

// Blocks that stress the searches: all zero, constant, a single spike, tiny
// values, and a block whose largest element is negative.
std::vector<std::vector<float>> edge_blocks(int64_t block_size) {
  std::vector<std::vector<float>> out;
  out.emplace_back(block_size, 0.0f);
  out.emplace_back(block_size, 0.75f);
  out.emplace_back(block_size, -3.0f);
  std::vector<float> spike(block_size, 0.0f);
  spike[block_size / 3] = 5.0f;
  out.push_back(spike);
  std::vector<float> tiny = gaussian(block_size, 17, 1e-20f);
  out.push_back(tiny);
  std::vector<float> neg = gaussian(block_size, 18);
  neg[block_size - 1] = -10.0f;
  out.push_back(neg);
  return out;
}

TEST(QuantsRef, EdgeBlocksAreFiniteAndZerosStayZero) {
  for (const DTypeTraits* t : quantized_types()) {
    SCOPED_TRACE(t->name);
    const std::vector<std::vector<float>> blocks = edge_blocks(t->block_size);
    for (size_t which = 0; which < blocks.size(); ++which) {
      SCOPED_TRACE(which);
      const std::vector<float>& x = blocks[which];
      const std::vector<float> y = dequantize(*t, quantize(*t, x), t->block_size);
      const bool all_zero = which == 0;
      for (int64_t i = 0; i < t->block_size; ++i) {
        ASSERT_TRUE(std::isfinite(y[i])) << "element " << i;
        if (all_zero) {
          EXPECT_EQ(y[i], 0.0f) << "an all-zero block stays zero, element " << i;
        }
      }
    }
  }
}

// Weights paired with Q8_1 (Q4_1, Q5_1: blocks start with F16 d, m) add
// m * s per block, where Q8_1's s = F16(d * sum(q)) is rounded apart from the
// dequantized activations' sum F16(d) * sum(q): at most 2^-10 |s| each.
double q8_1_sum_slack(const std::vector<uint8_t>& xq, const DTypeTraits& t, const std::vector<uint8_t>& yq) {
  double slack = 0;
  const size_t nb = xq.size() / size_t(t.block_bytes);
  for (size_t b = 0; b < nb; ++b) {
    uint16_t m, s;
    std::memcpy(&m, xq.data() + b * size_t(t.block_bytes) + 2, 2);
    std::memcpy(&s, yq.data() + b * sizeof(BlockQ8_1) + offsetof(BlockQ8_1, s), 2);
    slack += std::fabs(double(fp16_to_fp32(m)) * double(fp16_to_fp32(s))) / 1024;
  }
  return slack;
}

TEST(QuantsRef, VecDotMatchesDoubleDotOfDequantized) {
  for (const DTypeTraits* t : quantized_types()) {
    if (t->vec_dot_ref == nullptr) continue;
    SCOPED_TRACE(t->name);
    const DTypeTraits& act = *dtype_traits(t->vec_dot_type);
    for (int nb : kBlockCounts) {
      const int64_t n = nb * t->block_size;
      const std::vector<uint8_t> xq = quantize(*t, gaussian(n, uint32_t(nb * 31 + 1)));
      const std::vector<uint8_t> yq = quantize(act, gaussian(n, uint32_t(nb * 31 + 2), 3.0f));
      const std::vector<float> xf = dequantize(*t, xq, n);
      const std::vector<float> yf = dequantize(act, yq, n);
      double want = 0, scale = 0;
      for (int64_t i = 0; i < n; ++i) {
        want += double(xf[i]) * double(yf[i]);
        scale += std::fabs(double(xf[i]) * double(yf[i]));
      }
      const float got = t->vec_dot_ref(n, xq.data(), yq.data());
      // The integer block sums are exact; the reference rounds the scale
      // products, the block term and the running sum to float: at most about
      // four float roundings (2^-24 each) of the sum of |terms| per block.
      // Measured: below 6e-9 * scale * (2 + nb).
      double tolerance = 2.5e-7 * scale * (2 + nb);
      if (t->vec_dot_type == DType::Q8_1) tolerance += q8_1_sum_slack(xq, *t, yq);
      EXPECT_NEAR(double(got), want, tolerance) << nb << " blocks";
    }
  }
}

TEST(QuantsRef, Q8KGroupSumsMatchQuants) {
  const int64_t n = 3 * kQK_K;
  const std::vector<float> x = gaussian(n, 5);
  std::vector<BlockQ8_K> b(3);
  quantize_row_q8_k_ref(x.data(), b.data(), n);
  for (const BlockQ8_K& blk : b) {
    for (int g = 0; g < kQK_K / 16; ++g) {
      int sum = 0;
      for (int j = 0; j < 16; ++j) sum += blk.qs[g * 16 + j];
      EXPECT_EQ(blk.bsums[g], sum);
    }
  }
}

TEST(QuantsRef, Q8_1SumIsScaledQuantSum) {
  const std::vector<float> x = gaussian(2 * kQK, 6);
  BlockQ8_1 b[2];
  quantize_row_q8_1_ref(x.data(), b, 2 * kQK);
  for (const BlockQ8_1& blk : b) {
    int sum = 0;
    for (int8_t q : blk.qs) sum += q;
    // s = F16(sum * d) with d before its own F16 rounding: two F16 roundings apart.
    const double want = double(sum) * double(fp16_to_fp32(blk.d));
    EXPECT_NEAR(fp16_to_fp32(blk.s), want, std::fabs(want) / 1024 + 1e-7);
  }
}

TEST(QuantsRef, NearestIntRoundsHalfToEven) {
  EXPECT_EQ(quant_nearest_int(0.5f), 0);
  EXPECT_EQ(quant_nearest_int(1.5f), 2);
  EXPECT_EQ(quant_nearest_int(2.5f), 2);
  EXPECT_EQ(quant_nearest_int(-0.5f), 0);
  EXPECT_EQ(quant_nearest_int(-1.5f), -2);
  EXPECT_EQ(quant_nearest_int(-2.5f), -2);
  EXPECT_EQ(quant_nearest_int(2.4999998f), 2);
  EXPECT_EQ(quant_nearest_int(-127.6f), -128);
  EXPECT_EQ(quant_nearest_int(4194303.f), 4194303);
}

TEST(QuantsRef, K4ScaleMinRoundTripsEverySixBitValue) {
  // Pack scales/mins with the layout quantize_row_q4_k_ref writes and read
  // them back for all 64 values in every slot.
  for (int v = 0; v < 64; ++v) {
    uint8_t packed[kKScaleSize] = {};
    for (int j = 0; j < 8; ++j) {
      const int ls = (v + j) % 64, lm = (v + 3 * j + 1) % 64;
      if (j < 4) {
        packed[j] = uint8_t(ls);
        packed[j + 4] = uint8_t(lm);
      } else {
        packed[j + 4] = uint8_t((ls & 0xF) | ((lm & 0xF) << 4));
        packed[j - 4] = uint8_t(packed[j - 4] | ((ls >> 4) << 6));
        packed[j] = uint8_t(packed[j] | ((lm >> 4) << 6));
      }
    }
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      k4_scale_min(j, packed, &sc, &m);
      EXPECT_EQ(sc, (v + j) % 64) << "slot " << j;
      EXPECT_EQ(m, (v + 3 * j + 1) % 64) << "slot " << j;
    }
  }
}

TEST(QuantsRef, Q3KScalesUnpackAllSixteen) {
  uint8_t packed[12] = {};
  for (int j = 0; j < 16; ++j) {
    const int l = (j * 5 + 7) % 64;  // stored value = scale + 32
    if (j < 8) {
      packed[j] = uint8_t(packed[j] | (l & 0xF));
    } else {
      packed[j - 8] = uint8_t(packed[j - 8] | ((l & 0xF) << 4));
    }
    packed[j % 4 + 8] = uint8_t(packed[j % 4 + 8] | ((l >> 4) << (2 * (j / 4))));
  }
  int8_t scales[16];
  q3_k_scales(packed, scales);
  for (int j = 0; j < 16; ++j) EXPECT_EQ(scales[j], (j * 5 + 7) % 64 - 32) << "scale " << j;
}

// ---- fixtures from tools/reference/quants.py ----------------------------------

// One fixture file: blocks and their dequantized floats; floats and their
// quantized blocks (layout in quants.py's docstring).
struct Fixture {
  std::vector<uint8_t> deq_blocks;
  std::vector<float> deq_expected;
  std::vector<float> q_input;
  std::vector<uint8_t> q_expected;
};

std::string fixture_path(const DTypeTraits& t) {
  std::string name = t.name;
  for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
  return std::string(AIGC_SOURCE_DIR) + "/src/core/testdata/quants/" + name + ".bin";
}

// Reads `count` items of T at `*pos`; false if the file is too short.
template <class T>
bool take(const std::vector<uint8_t>& file, size_t* pos, size_t count, std::vector<T>* out) {
  if (count > (file.size() - *pos) / sizeof(T)) return false;
  out->resize(count);
  std::memcpy(out->data(), file.data() + *pos, count * sizeof(T));
  *pos += count * sizeof(T);
  return true;
}

bool read_fixture(const DTypeTraits& t, Fixture* f, std::string* error) {
  std::ifstream in(fixture_path(t), std::ios::binary);
  if (!in) {
    *error = "missing " + fixture_path(t) + "; regenerate: /usr/bin/python3 tools/reference/quants.py";
    return false;
  }
  const std::vector<uint8_t> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t pos = 0;
  std::vector<uint32_t> count;
  const size_t bs = size_t(t.block_size), bb = size_t(t.block_bytes);
  const bool ok = take(file, &pos, 1, &count) && take(file, &pos, count[0] * bb, &f->deq_blocks) &&
                  take(file, &pos, count[0] * bs, &f->deq_expected) && take(file, &pos, 1, &count) &&
                  count[0] % bs == 0 && take(file, &pos, count[0], &f->q_input) &&
                  take(file, &pos, count[0] / bs * bb, &f->q_expected) && pos == file.size();
  if (!ok) *error = fixture_path(t) + ": sizes do not match the layout for " + t.name;
  return ok;
}

TEST(QuantsRef, DequantizeMatchesNumpyFixturesBitForBit) {
  for (const DTypeTraits* t : quantized_types()) {
    SCOPED_TRACE(t->name);
    Fixture f;
    std::string error;
    ASSERT_TRUE(read_fixture(*t, &f, &error)) << error;
    const int64_t n = int64_t(f.deq_expected.size());
    std::vector<float> got(f.deq_expected.size());
    t->to_float(f.deq_blocks.data(), got.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      uint32_t a, b;
      std::memcpy(&a, &got[i], 4);
      std::memcpy(&b, &f.deq_expected[i], 4);
      ASSERT_EQ(a, b) << "element " << i << ": got " << got[i] << ", numpy " << f.deq_expected[i];
    }
  }
}

TEST(QuantsRef, QuantizeMatchesNumpyFixturesByteForByte) {
  for (const DTypeTraits* t : quantized_types()) {
    SCOPED_TRACE(t->name);
    Fixture f;
    std::string error;
    ASSERT_TRUE(read_fixture(*t, &f, &error)) << error;
    std::vector<uint8_t> got(f.q_expected.size());
    t->from_float(f.q_input.data(), got.data(), int64_t(f.q_input.size()));
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(int(got[i]), int(f.q_expected[i]))
          << "byte " << i << " (block " << i / size_t(t->block_bytes) << ", offset " << i % size_t(t->block_bytes)
          << ")";
    }
  }
}

}  // namespace
}  // namespace aigc
