// CPU feature detection through the compiler's cpuid helpers.
#include "core/cpu_features.h"

#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>

namespace aigc {

namespace {
std::atomic<int> g_cap{int(Isa::kAvx512)};
std::atomic<bool> g_amx_allowed{true};

// clang (14) has no "f16c" for __builtin_cpu_supports: CPUID leaf 1, ECX bit 29.
bool has_f16c() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C) != 0;
}
// AMX-TILE, AMX-BF16 and AMX-INT8 (CPUID leaf 7, EDX bits 24, 22, 25), the tile state
// enabled in XCR0 (bits 17 and 18), and Linux's per-process permission for it
// (arch_prctl ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA; Linux 5.16+).
bool detect_amx() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d) || (c & bit_OSXSAVE) == 0) return false;
  constexpr unsigned kAmxBits = (1u << 24) | (1u << 22) | (1u << 25);
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || (d & kAmxBits) != kAmxBits) return false;
  uint32_t xcr0_lo = 0, xcr0_hi = 0;
  __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  if ((xcr0_lo & (3u << 17)) != (3u << 17)) return false;
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
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

bool cap_isa_from_environment(std::string* bad) {
  const char* value = std::getenv("AIGC_ISA");
  if (value == nullptr || *value == '\0') return true;
  for (int i = 0; i < kIsaCount; ++i)
    if (std::string(value) == isa_name(Isa(i))) {
      cap_isa(Isa(i));
      return true;
    }
  *bad = value;
  return false;
}

bool amx_usable() {
  static const bool available = [] {
    const char* off = std::getenv("AIGC_NO_AMX");
    return !(off != nullptr && *off != '\0' && *off != '0') && cpu_supports(Isa::kAvx512) && detect_amx();
  }();
  return available && active_isa() == Isa::kAvx512 && g_amx_allowed.load(std::memory_order_relaxed);
}

void allow_amx(bool allowed) { g_amx_allowed.store(allowed, std::memory_order_relaxed); }

}  // namespace aigc
