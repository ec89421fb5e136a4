// CPU feature detection through the compiler's cpuid helpers.
#include "core/cpu_features.h"

#include <cpuid.h>

#include <atomic>

namespace aigc {

namespace {
std::atomic<int> g_cap{int(Isa::kAvx512)};

// clang (14) has no "f16c" for __builtin_cpu_supports: CPUID leaf 1, ECX bit 29.
bool has_f16c() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C) != 0;
}
}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
  }
  return "?";
}

bool cpu_supports(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return true;
    case Isa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && has_f16c();
    case Isa::kAvx512:
      return cpu_supports(Isa::kAvx2) && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bf16") &&
             __builtin_cpu_supports("avx512vbmi");
  }
  return false;
}

Isa active_isa() {
  static const Isa best = cpu_supports(Isa::kAvx512) ? Isa::kAvx512
                          : cpu_supports(Isa::kAvx2) ? Isa::kAvx2
                                                     : Isa::kScalar;
  const int cap = g_cap.load(std::memory_order_relaxed);
  return int(best) < cap ? best : Isa(cap);
}

void cap_isa(Isa isa) { g_cap.store(int(isa), std::memory_order_relaxed); }

}  // namespace aigc
