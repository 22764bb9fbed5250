#pragma once
// Internal: the dot products and scaled accumulations inside attention. They are sums whose
// order HF leaves to its BLAS, so they fuse multiply-adds (this file's .cpp is built with
// -ffp-contract=fast) while the rounding-sensitive steps around them do not.
#include <cstdint>

namespace fathom::cpu::detail {

// sum_i a[i] * b[i] in fp32: 16 lanes, then a fixed tree.
float dot(const float* a, const float* b, int64_t n);
float dot(const float* a, const uint16_t* bf16, int64_t n);

// acc[i] += alpha * x[i] in fp32.
void axpy(float alpha, const float* x, float* acc, int64_t n);
void axpy(float alpha, const uint16_t* bf16, float* acc, int64_t n);

// The same for `count` (1 .. kMaxHeadBlock) query heads that share one key or value row, which
// is read once: dots[h] = dot(q[h], k, n) and acc[h][i] += alpha[h] * x[i], each summed exactly
// as its single-head form sums it.
inline constexpr int kMaxHeadBlock = 8;
void dotHeads(const float* const* q, int count, const float* k, int64_t n, float* dots);
void dotHeads(const float* const* q, int count, const uint16_t* bf16, int64_t n, float* dots);
void axpyHeads(const float* alpha, int count, const float* x, float* const* acc, int64_t n);
void axpyHeads(const float* alpha, int count, const uint16_t* bf16, float* const* acc, int64_t n);

} // namespace fathom::cpu::detail
