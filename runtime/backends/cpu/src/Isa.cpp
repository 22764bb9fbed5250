#include "fathom/cpu/Isa.h"

#include <atomic>

namespace fathom::cpu {
namespace {

Isa detect() {
#if defined(__x86_64__) && defined(__clang__)
  // Clang (the fuzz build) knows no level names: the features the kernels use, level by level.
  __builtin_cpu_init();
  const bool v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                  __builtin_cpu_supports("bmi2");
  const bool v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                  __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
                  __builtin_cpu_supports("avx512vl");
  if (v4)
    return __builtin_cpu_supports("avx512bf16") ? Isa::Avx512Bf16 : Isa::Avx512;
  if (v3)
    return Isa::Avx2;
#elif defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("x86-64-v4"))
    return __builtin_cpu_supports("avx512bf16") ? Isa::Avx512Bf16 : Isa::Avx512;
  if (__builtin_cpu_supports("x86-64-v3"))
    return Isa::Avx2;
#endif
  return Isa::Baseline;
}

std::atomic<Isa>& pinnedIsa() {
  static std::atomic<Isa> isa{detectedIsa()};
  return isa;
}

} // namespace

Isa detectedIsa() {
  static const Isa isa = detect();
  return isa;
}

Isa gemmIsa() {
  return pinnedIsa().load(std::memory_order_relaxed);
}

Isa setGemmIsa(Isa isa) {
  if (int(isa) > int(detectedIsa()))
    isa = detectedIsa();
  pinnedIsa().store(isa, std::memory_order_relaxed);
  return isa;
}

const char* isaName(Isa isa) {
  switch (isa) {
  case Isa::Avx512Bf16:
    return "avx512_bf16";
  case Isa::Avx512:
    return "avx512";
  case Isa::Avx2:
    return "avx2";
  case Isa::Baseline:
    break;
  }
  return "baseline";
}

} // namespace fathom::cpu
