// CPU feature detection: which instruction set the kernels may use here.
// Detected once (thread-safe); a test or benchmark may cap it to force a
// slower variant (cap_isa), which is how every variant gets compared.
#pragma once

#include <string>

namespace aigc {

enum class Isa { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };
constexpr int kIsaCount = 3;

const char* isa_name(Isa isa);
// Whether this CPU (and OS) can run code compiled for `isa`.
// kAvx2 = AVX2 + FMA + F16C; kAvx512 = F, BW, VL, DQ, VNNI, BF16 and VBMI
// (Ice Lake / Sapphire Rapids and later, Zen 4 and later).
bool cpu_supports(Isa isa);
// The ISA kernels use now: the best supported, unless capped lower.
Isa active_isa();
// Caps active_isa() at `isa` (kAvx512 removes the cap). For tests and benchmarks.
void cap_isa(Isa isa);
// Applies AIGC_ISA=scalar|avx2|avx512 from the environment as a cap (to run
// the AVX2 kernels on an AVX-512 machine, say). Returns false, with the
// value in *bad, when the variable names no ISA; unset or empty: no cap.
bool cap_isa_from_environment(std::string* bad);

// Whether kernels may use AMX tiles (BF16 products in gemm_amx.h, INT8 in
// gemm_q8's micro-kernel): the CPU has AMX-TILE, -BF16 and -INT8, the OS saves
// the tile state and granted it to this process (asked once, on the first
// call), active_isa() is kAvx512 and AMX was not turned off with
// allow_amx(false) or AIGC_NO_AMX=1 in the environment (gemm_amx rounds
// activations to 16 bits; this keeps the exact F32 path available).
bool amx_usable();
// Turns AMX on (where the CPU has it) or off. For tests and benchmarks.
void allow_amx(bool allowed);

}  // namespace aigc
