// The AMX pieces behind gemm_amx.h (amx/gemm_amx_tile.cpp, built with AMX and
// AVX-512 flags); gemm_amx.cpp, winograd_conv3x3.cpp and attention_amx.cpp
// call them, and only where amx_usable().
//
// A float x is split into bf16 parts x = p0 + p1 (+ p2), each part the
// nearest bf16 (ties to even) to what the parts before it leave.
// Data layouts (bf16 values as uint16_t bit patterns), one array per part:
//   weights, row-major: w[j * ldw + p], rows j of B, p along k;
//   activations, VNNI pairs by groups of 16 tokens: within a group,
//     act[(p / 2) * 32 + t * 2 + p % 2] for token t (0..15) and k index p;
//   C transposed: ct[j * ldct + t], F32.
// TDPBF16PS then computes ct[j][t] += sum_p w[j][p] * act[t][p] in F32.
#pragma once

#include <cstdint>

namespace aigc {

constexpr int kAmxMaxParts = 3;

// The products of parts the tile kernel sums: weight part w[i] times
// activation part a[i], in this order (consecutive passes share a part
// where they can, so it is not loaded again).
struct AmxPasses {
  int count;
  uint8_t w[6], a[6];
};

// Weight part i times activation part j for i + j < n_parts (the products
// left out are below 2^-8 of the smallest kept), in a snake order
// (gemm_amx.cpp).
AmxPasses gemm_amx_passes(int w_parts, int n_parts);

// Every tile 16 rows x 64 bytes; once per thread before gemm_amx_tile_32x32.
void gemm_amx_configure_tiles();
// Frees this thread's tile state (a context switch then saves less).
void gemm_amx_release_tiles();

// 32 weight rows x 32 tokens, over kc (a multiple of 32) values of k:
//   ct[j][t] (+)= sum over passes q of w[q.w][j] . a[q.a][t]
// w[i]: rows 0..31 of weight part i at stride ldw elements; a[i]: two
// groups of 16 tokens of activation part i, group_stride elements apart; ct:
// 32 rows at stride ldct floats. accumulate = 0 starts from zero.
void gemm_amx_tile_32x32(int64_t kc, const AmxPasses& passes, const uint16_t* const* w, int64_t ldw,
                         const uint16_t* const* a, int64_t group_stride, float* ct, int64_t ldct, int accumulate);

// Splits n floats (n a multiple of 32) into n_parts (2 or 3) bf16 parts,
// row-major: part i to parts[i].
void gemm_amx_split_row(const float* x, int64_t n, int n_parts, uint16_t* const* parts);

// Splits 16 tokens' rows x[t] (null: a zero row) over n values (a multiple
// of 32), of which the first n_valid are read (the rest count as zeros), the
// same way into one group of 16 tokens in VNNI pair layout (parts[i] points
// at the group's start).
void gemm_amx_split_group(const float* const* x, int64_t n, int64_t n_valid, int n_parts, uint16_t* const* parts);

// The same group layout from values stored k-major: x[p * ldx + t] is token
// t's value p for t < n_tokens (<= 16; the other tokens count as zero, and
// are not read) and p < n_valid (the rest of n, a multiple of 32, zero).
void gemm_amx_split_pairs(const float* x, int64_t ldx, int64_t n_tokens, int64_t n, int64_t n_valid, int n_parts,
                          uint16_t* const* parts);

// c[i * ldc + j] = ct[j * ldct + i] for i < rows, j < cols (both <= 16);
// reads the whole 16 x 16 block of ct.
void gemm_amx_store_transposed(const float* ct, int64_t ldct, int64_t rows, int64_t cols, float* c, int64_t ldc);

}  // namespace aigc
