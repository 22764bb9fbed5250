#pragma once
// Internal to the loader: the bytes of a synthetic section's tensor (SyntheticWeights.cpp).
#include "fathom/runtime/DType.h"

#include <cstdint>

namespace fathom::artifact {

void fillSynthetic(DType type, uint32_t tensorIndex, uint8_t* bytes, uint64_t size);

} // namespace fathom::artifact
