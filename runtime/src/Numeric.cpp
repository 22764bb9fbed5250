#include "fathom/runtime/Numeric.h"

#include "fathom/runtime/Error.h"
#include <string>

#include <limits>

namespace fathom {

float f16ToFloat(uint16_t bits) {
  uint32_t sign = uint32_t(bits & 0x8000u) << 16;
  uint32_t exponent = (bits >> 10) & 0x1fu;
  uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0) {
    float magnitude = std::ldexp(float(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31)
    return bitsToFloat(sign | 0x7f800000u | (mantissa << 13));
  return bitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

uint16_t floatToF16(float value) {
  uint32_t bits = floatBits(value);
  uint16_t sign = uint16_t((bits >> 16) & 0x8000u);
  float magnitude = std::fabs(value);
  if (std::isnan(value))
    return uint16_t(sign | 0x7e00u);
  if (magnitude >= 65520.0f)
    return uint16_t(sign | 0x7c00u);
  if (magnitude < 6.103515625e-05f) { // subnormal: quantum 2^-24, round half to even
    float scaled = magnitude * 16777216.0f;
    return uint16_t(sign | uint16_t(std::nearbyint(scaled)));
  }
  uint32_t abs = bits & 0x7fffffffu;
  uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);
  return uint16_t(sign | ((rounded - (112u << 23)) >> 13));
}

float f8e4m3ToFloat(uint8_t bits) {
  float sign = (bits & 0x80u) ? -1.0f : 1.0f;
  int exponent = (bits >> 3) & 0xf;
  int mantissa = bits & 0x7;
  if (exponent == 0xf && mantissa == 0x7)
    return std::numeric_limits<float>::quiet_NaN();
  if (exponent == 0)
    return sign * std::ldexp(float(mantissa), -9);
  return sign * std::ldexp(1.0f + float(mantissa) / 8.0f, exponent - 7);
}

uint8_t floatToF8e4m3(float value) {
  if (std::isnan(value))
    return 0x7f;
  const uint8_t sign = std::signbit(value) ? 0x80 : 0x00;
  const float magnitude = std::fabs(value);
  if (magnitude >= 448.0f)
    return uint8_t(sign | 0x7e); // saturates at the largest finite value
  if (magnitude < 0.015625f) {
    // Below the smallest normal (2^-6) the codes are k * 2^-9, k = 0..8 (8 is 2^-6 itself):
    // scaling by 2^9 is exact and the default rounding mode rounds half to even.
    return uint8_t(sign | uint8_t(std::nearbyint(magnitude * 512.0f)));
  }
  // Normal: round fp32's 23 mantissa bits to 3, half to even; a carry into the exponent is the
  // next binade's code, and the result stays <= 448 (0x7e) because magnitude < 448.
  uint32_t bits;
  std::memcpy(&bits, &magnitude, 4);
  bits += 0x7ffffu + ((bits >> 20) & 1u);
  const uint32_t exponent = (bits >> 23) - 127 + 7, mantissa = (bits >> 20) & 0x7u;
  return uint8_t(sign | uint8_t((exponent << 3) | mantissa));
}

float f8e5m2ToFloat(uint8_t bits) {
  // e5m2 is the top byte of an IEEE binary16.
  return f16ToFloat(uint16_t(bits) << 8);
}

float loadFloat(DType dtype, const void* element) {
  switch (dtype) {
  case DType::F32: {
    float value;
    std::memcpy(&value, element, 4);
    return value;
  }
  case DType::BF16:
  case DType::F16: {
    uint16_t bits;
    std::memcpy(&bits, element, 2);
    return dtype == DType::BF16 ? bf16ToFloat(bits) : f16ToFloat(bits);
  }
  case DType::F8E4M3:
    return f8e4m3ToFloat(*static_cast<const uint8_t*>(element));
  case DType::F8E5M2:
    return f8e5m2ToFloat(*static_cast<const uint8_t*>(element));
  default:
    throw Error("cannot read " + std::string(dtypeName(dtype)) + " elements as floats");
  }
}

void storeFloat(DType dtype, float value, void* element) {
  switch (dtype) {
  case DType::F32:
    std::memcpy(element, &value, 4);
    return;
  case DType::BF16:
  case DType::F16: {
    uint16_t bits = dtype == DType::BF16 ? floatToBf16(value) : floatToF16(value);
    std::memcpy(element, &bits, 2);
    return;
  }
  case DType::F8E4M3:
    *static_cast<uint8_t*>(element) = floatToF8e4m3(value);
    return;
  default:
    throw Error("cannot store floats as " + std::string(dtypeName(dtype)) + " elements");
  }
}

} // namespace fathom
