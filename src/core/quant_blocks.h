// Block layouts of the GGUF quantized types, byte-for-byte as GGUF files hold
// them (the layouts that llama.cpp's quantizers write). Each struct is pinned
// by a static_assert on its size. Values are stored little-endian; `d`, `m`,
// `dmin` are IEEE half floats kept as raw bits (see fp16.h).
//
// Legend: QK = elements per block for the 32-wide types; QK_K = 256 elements
// per super-block for the K types.
#pragma once

#include <cstdint>

namespace aigc {

constexpr int kQK = 32;
constexpr int kQK_K = 256;
constexpr int kKScaleSize = 12;  // packed 6-bit scales and mins of Q4_K / Q5_K

struct BlockQ4_0 {  // x = d * (q - 8), q in 0..15
  uint16_t d;
  uint8_t qs[kQK / 2];  // element j in low nibble of qs[j], element j+16 in high nibble
};
static_assert(sizeof(BlockQ4_0) == 2 + kQK / 2);

struct BlockQ4_1 {  // x = d * q + m
  uint16_t d;
  uint16_t m;
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ4_1) == 4 + kQK / 2);

struct BlockQ5_0 {  // x = d * (q - 16), q = nibble | (bit from qh) << 4
  uint16_t d;
  uint8_t qh[4];  // bit j: 5th bit of element j (j in 0..31)
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_0) == 2 + 4 + kQK / 2);

struct BlockQ5_1 {  // x = d * q + m
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_1) == 4 + 4 + kQK / 2);

struct BlockQ8_0 {  // x = d * q
  uint16_t d;
  int8_t qs[kQK];
};
static_assert(sizeof(BlockQ8_0) == 2 + kQK);

struct BlockQ8_1 {  // x = d * q; s = d * sum(q) (activation side of Q4_1/Q5_1 dots)
  uint16_t d;
  uint16_t s;
  int8_t qs[kQK];
};
static_assert(sizeof(BlockQ8_1) == 4 + kQK);

struct BlockQ2_K {
  uint8_t scales[kQK_K / 16];  // low nibble: scale, high nibble: min, per 16 elements
  uint8_t qs[kQK_K / 4];       // 2-bit quants
  uint16_t d;                  // super-block scale for the scales
  uint16_t dmin;               // super-block scale for the mins
};
static_assert(sizeof(BlockQ2_K) == kQK_K / 16 + kQK_K / 4 + 4);

struct BlockQ3_K {
  uint8_t hmask[kQK_K / 8];  // high bit of each 3-bit quant
  uint8_t qs[kQK_K / 4];     // low 2 bits
  uint8_t scales[12];        // 16 scales of 6 bits
  uint16_t d;
};
static_assert(sizeof(BlockQ3_K) == kQK_K / 8 + kQK_K / 4 + 12 + 2);

struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleSize];  // 8 scales and 8 mins of 6 bits
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ4_K) == 4 + kKScaleSize + kQK_K / 2);

struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ5_K) == 4 + kKScaleSize + kQK_K / 8 + kQK_K / 2);

struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];       // low 4 bits
  uint8_t qh[kQK_K / 4];       // high 2 bits
  int8_t scales[kQK_K / 16];   // 8-bit scales per 16 elements
  uint16_t d;
};
static_assert(sizeof(BlockQ6_K) == kQK_K / 2 + kQK_K / 4 + kQK_K / 16 + 2);

struct BlockQ8_K {  // activation side of the K-type dots; x = d * q
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];  // sum of each group of 16 quants
};
static_assert(sizeof(BlockQ8_K) == 4 + kQK_K + kQK_K / 8);

}  // namespace aigc
