#pragma once
// Internal: the dot products and scaled accumulations inside attention. They are sums whose
// order HF leaves to its BLAS, so they fuse multiply-adds (this file's .cpp is built with
// -ffp-contract=fast) while the rounding-sensitive steps around them do not.
#include <cstdint>

namespace fathom::cpu::detail {

// For `count` (1 .. kMaxLanes) query vectors that meet the same key or value row, which is read
// once: dots[h] = sum_i q[h][i] * k[i] (16 lanes, then a fixed tree, then the tail in order)
// and acc[h][i] += alpha[h] * x[i], in fp32. Each head has its own accumulators, so its sum
// is the same whatever the count.
inline constexpr int kMaxLanes = 8;
void dotHeads(const float* const* q, int count, const float* k, int64_t n, float* dots);
void dotHeads(const float* const* q, int count, const uint16_t* bf16, int64_t n, float* dots);
void axpyHeads(const float* alpha, int count, const float* x, float* const* acc, int64_t n);
void axpyHeads(const float* alpha, int count, const uint16_t* bf16, float* const* acc, int64_t n);

} // namespace fathom::cpu::detail
