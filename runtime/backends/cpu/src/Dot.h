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

// axpyHeads over `rows` (1 .. kRowBlock) rows x[r] one after the other, alpha[h] = weights[h][r]:
// each accumulator element takes the rows in order, as that many axpyHeads calls would (the same
// bits), but stays in a register across them instead of being loaded and stored for each row.
inline constexpr int kRowBlock = 8;
void axpyHeadsOverRows(const float (*weights)[kRowBlock], int count, const float* const* x,
                       int rows, float* const* acc, int64_t n);
void axpyHeadsOverRows(const float (*weights)[kRowBlock], int count, const uint16_t* const* bf16,
                       int rows, float* const* acc, int64_t n);

} // namespace fathom::cpu::detail
