// The AMX pieces behind gemm_amx.h (amx/gemm_amx_tile.cpp, built with AMX and
// AVX-512 flags); only gemm_amx.cpp calls them, and only where amx_usable().
//
// Data layouts (bf16 values as uint16_t bit patterns):
//   weights, row-major: w[j * ldw + p], rows j of B, p along k;
//   activations, VNNI pairs by groups of 16 tokens: within a group,
//     act[(p / 2) * 32 + t * 2 + p % 2] for token t (0..15) and k index p;
//   C transposed: ct[j * ldct + t], F32.
// TDPBF16PS then computes ct[j][t] += sum_p w[j][p] * act[t][p] in F32.
#pragma once

#include <cstdint>

namespace aigc {

// Every tile 16 rows x 64 bytes; once per thread before gemm_amx_tile_32x32.
void gemm_amx_configure_tiles();
// Frees this thread's tile state (a context switch then saves less).
void gemm_amx_release_tiles();

// 32 weight rows x 32 tokens, over kc (a multiple of 32) values of k:
//   ct[j][t] (+)= w_hi[j] . a_hi[t] + w_hi[j] . a_lo[t] + w_lo[j] . a_hi[t]
// (the w_lo term only when w_lo is not null). w_hi, w_lo: rows 0..31 at
// stride ldw elements; a_hi, a_lo: two groups of 16 tokens, group_stride
// elements apart; ct: 32 rows at stride ldct floats. accumulate = 0 starts
// from zero.
void gemm_amx_tile_32x32(int64_t kc, const uint16_t* w_hi, const uint16_t* w_lo, int64_t ldw, const uint16_t* a_hi,
                         const uint16_t* a_lo, int64_t group_stride, float* ct, int64_t ldct, int accumulate);

// Splits n floats (n a multiple of 32) into bf16 hi = round(x) and
// lo = round(x - hi), each to nearest even, row-major.
void gemm_amx_split_row(const float* x, int64_t n, uint16_t* hi, uint16_t* lo);

// Splits token t's n floats (n a multiple of 32) the same way into a group
// of 16 in VNNI pair layout (hi and lo point at the group's start).
void gemm_amx_split_token(const float* x, int64_t n, int64_t t, uint16_t* hi, uint16_t* lo);

}  // namespace aigc
