// Benchmark weights (fathom-compile --synthetic-weights): the bytes of a tensor that the file
// does not hold, made from its index alone, so every run and every rank sees the same values.
// Floats are uniform in [-1/32, 1/32] (small enough that 60 layers of residual sums and norms
// stay finite); FP8 and U4 codes are random but never NaN; integer, bool (shard starts) and
// other tensors are zero.
#include "SyntheticWeights.h"

#include "fathom/runtime/Numeric.h"

#include <cstring>

namespace fathom::artifact {
namespace {

uint64_t splitmix(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

float uniform(uint64_t& state) {
  return (float(splitmix(state) >> 40) / float(1 << 24) - 0.5f) / 16.0f;
}

} // namespace

void fillSynthetic(DType type, uint32_t tensorIndex, uint8_t* bytes, uint64_t size) {
  uint64_t state = 0x5eed0000ull + tensorIndex;
  switch (type) {
  case DType::F32:
    for (uint64_t i = 0; i + 4 <= size; i += 4) {
      const float value = uniform(state);
      std::memcpy(bytes + i, &value, 4);
    }
    return;
  case DType::BF16:
    for (uint64_t i = 0; i + 2 <= size; i += 2) {
      const uint16_t bits = floatToBf16(uniform(state));
      std::memcpy(bytes + i, &bits, 2);
    }
    return;
  case DType::F8E4M3:
  case DType::F8E5M2:
    // The low exponent bit cleared: the exponent is never all ones, so no code is NaN (or Inf).
    for (uint64_t i = 0; i < size; ++i)
      bytes[i] = uint8_t(splitmix(state)) & (type == DType::F8E4M3 ? 0xf7 : 0xfb);
    return;
  case DType::U4:
    for (uint64_t i = 0; i < size; ++i)
      bytes[i] = uint8_t(splitmix(state));
    return;
  default:
    std::memset(bytes, 0, size);
  }
}

} // namespace fathom::artifact
