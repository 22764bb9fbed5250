#pragma once
// Each rank's deterministic data for the collective checks, which every rank can recompute.
#include <cstdint>
#include <random>
#include <vector>

inline std::vector<float> rankData(int rank, size_t count) {
  std::mt19937 random(uint32_t(1000 + rank));
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  std::vector<float> data(count);
  for (float& x : data)
    x = value(random);
  return data;
}
