#pragma once
// Scalar conversions between fp32 and the storage formats checkpoints use. bf16 rounding is
// round-to-nearest-even, exactly what torch's .to(torch.bfloat16) does, because HF parity in
// bf16 depends on matching every rounding point (shared/reference/model-spec.md).
#include <cmath>
#include <cstdint>
#include <cstring>

#include "fathom/runtime/DType.h"

namespace fathom {

inline uint32_t floatBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

inline float bitsToFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

inline float bf16ToFloat(uint16_t bits) {
  return bitsToFloat(uint32_t(bits) << 16);
}

inline uint16_t floatToBf16(float value) {
  uint32_t bits = floatBits(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) // NaN: keep it quiet and NaN
    return uint16_t((bits >> 16) | 0x0040u);
  uint32_t roundingBias = 0x7fffu + ((bits >> 16) & 1u);
  return uint16_t((bits + roundingBias) >> 16);
}

// Rounds an fp32 value to the nearest bf16 and back: the value a bf16 tensor would hold.
inline float roundToBf16(float value) {
  return bf16ToFloat(floatToBf16(value));
}

float f16ToFloat(uint16_t bits);
uint16_t floatToF16(float value);

// float8_e4m3fn: bias 7, no infinities, S.1111.111 is NaN, max magnitude 448.
float f8e4m3ToFloat(uint8_t bits);
// Round-to-nearest-even with saturation to +-448, as torch's .to(torch.float8_e4m3fn) does
// for finite inputs inside the range.
uint8_t floatToF8e4m3(float value);
// float8_e5m2: IEEE-like, bias 15, with infinities and NaN.
float f8e5m2ToFloat(uint8_t bits);

// One element of a floating-point dtype (F32, F16, BF16, F8E4M3, F8E5M2) widened exactly to
// fp32. Throws fathom::Error for other dtypes.
float loadFloat(DType dtype, const void* element);
// Stores `value` as one element of F32, F16, BF16 or F8E4M3, rounding to nearest even.
void storeFloat(DType dtype, float value, void* element);

} // namespace fathom
