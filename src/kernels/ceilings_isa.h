// The ISA-specific loops behind ceilings.h (avx2/machine_ceiling_avx2.cpp,
// avx512/machine_ceiling_avx512.cpp); only ceilings.cpp calls them.
//
// read_sum_*: reads n_bytes (a multiple of 256) from p, 64-byte aligned, with
// the widest loads and returns a value that depends on every byte (so the
// reads cannot be optimised away).
// fma_loop_*: runs `iters` steps of kFmaChains independent vector FMA chains
// in registers and returns a value that depends on all of them; each step is
// kFmaChains * lanes * 2 floating-point operations.
#pragma once

#include <cstdint>

namespace aigc {

constexpr int kFmaChains = 12;  // covers FMA latency (4-5 cycles) x 2 FMA ports with room to spare

uint64_t read_sum_avx2(const void* p, int64_t n_bytes);
uint64_t read_sum_avx512(const void* p, int64_t n_bytes);
float fma_loop_avx2(int64_t iters);   // 8 lanes
float fma_loop_avx512(int64_t iters); // 16 lanes

}  // namespace aigc
