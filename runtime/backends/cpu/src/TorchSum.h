#pragma once
// Internal: torch's CPU fp32 sum (aten/src/ATen/native/cpu/SumKernel.cpp, cascade_sum), step for
// step, so that sums HF takes with .sum()/.mean() come out bit-identical. torch registers this
// kernel for AVX2 even on AVX-512 machines, so its vectors hold 8 floats; it adds 4 interleaved
// partial sums (row_sum), cascading them through 4 levels every 16 steps (multi_row_sum).
// Valid for single-threaded torch (the HF reference runs with one thread).
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

namespace fathom::cpu::detail {

typedef float Vec8 __attribute__((vector_size(32)));

inline int64_t torchCeilLog2(int64_t x) {
  if (x <= 2)
    return 1;
  int64_t bits = 0;
  for (uint64_t v = uint64_t(x - 1); v; v >>= 1)
    ++bits;
  return bits;
}

template <class T, int kRows, class Load>
inline std::array<T, kRows> torchMultiRowSum(int64_t size, Load load) {
  constexpr int kLevels = 4;
  const int64_t levelPower = std::max<int64_t>(4, torchCeilLog2(size) / kLevels);
  const int64_t levelStep = int64_t(1) << levelPower;
  const int64_t levelMask = levelStep - 1;
  T acc[kLevels][kRows] = {};
  int64_t i = 0;
  while (i + levelStep <= size) {
    for (int64_t j = 0; j < levelStep; ++j, ++i)
      for (int k = 0; k < kRows; ++k)
        acc[0][k] += load(i, k);
    for (int j = 1; j < kLevels; ++j) {
      for (int k = 0; k < kRows; ++k) {
        acc[j][k] += acc[j - 1][k];
        acc[j - 1][k] = T{};
      }
      if ((i & (levelMask << (j * levelPower))) != 0)
        break;
    }
  }
  for (; i < size; ++i)
    for (int k = 0; k < kRows; ++k)
      acc[0][k] += load(i, k);
  for (int j = 1; j < kLevels; ++j)
    for (int k = 0; k < kRows; ++k)
      acc[0][k] += acc[j][k];
  std::array<T, kRows> result;
  for (int k = 0; k < kRows; ++k)
    result[size_t(k)] = acc[0][k];
  return result;
}

template <class T, class Load> inline T torchRowSum(int64_t size, Load load) {
  constexpr int kIlp = 4;
  const int64_t groups = size / kIlp;
  std::array<T, kIlp> partial =
      torchMultiRowSum<T, kIlp>(groups, [&](int64_t i, int k) { return load(i * kIlp + k); });
  for (int64_t i = groups * kIlp; i < size; ++i)
    partial[0] += load(i);
  for (int k = 1; k < kIlp; ++k)
    partial[0] += partial[size_t(k)];
  return partial[0];
}

// sum(element(i) for i < n) of a contiguous fp32 row, as torch's cascade_sum computes it.
template <class Element> inline float torchSum(int64_t n, Element element) {
  constexpr int64_t kLanes = 8;
  if (n < kLanes)
    return torchRowSum<float>(n, element);
  const int64_t vectors = n / kLanes;
  Vec8 lanes = torchRowSum<Vec8>(vectors, [&](int64_t v) {
    Vec8 chunk;
    for (int l = 0; l < kLanes; ++l)
      chunk[l] = element(v * kLanes + l);
    return chunk;
  });
  float sum = 0;
  for (int64_t i = vectors * kLanes; i < n; ++i)
    sum += element(i);
  for (int l = 0; l < kLanes; ++l)
    sum += lanes[l];
  return sum;
}

} // namespace fathom::cpu::detail
