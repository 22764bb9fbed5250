#pragma once
// Which instruction set the CPU kernels run with. Most kernels are compiled for AVX-512, AVX2+FMA
// and baseline x86-64 and chosen by the loader (GCC ifunc); the GEMMs, whose register blocking
// differs per ISA, are dispatched here, and tests and benchmarks may pin them lower.
namespace fathom::cpu {

// Avx512Bf16 adds the bf16 dot-product instruction (vdpbf16ps), which bf16 x bf16 prefill GEMMs
// use: exact bf16 products summed in fp32 in pairs, twice the multiply-adds per instruction.
enum class Isa { Baseline, Avx2, Avx512, Avx512Bf16 };

// The best ISA this CPU (and OS) supports: x86-64-v4 (+ avx512bf16) → Avx512 (Avx512Bf16),
// x86-64-v3 → Avx2.
Isa detectedIsa();
// The ISA linear() uses now (detectedIsa() unless pinned).
Isa gemmIsa();
// Pins linear() to `isa`, lowered to detectedIsa() if the CPU lacks it; returns the ISA now in
// use. Not thread-safe against running GEMMs: for tests and benchmarks.
Isa setGemmIsa(Isa isa);
const char* isaName(Isa isa);

} // namespace fathom::cpu
