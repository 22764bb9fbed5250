#pragma once
// Internal: the two activation element types (fp32, and bf16 stored as uint16_t bits), the
// rounding helpers that express HF's rounding points, and scratch carving.
#include "fathom/cpu/Scratch.h"
#include "fathom/runtime/DType.h"
#include "fathom/runtime/Error.h"
#include "fathom/runtime/Numeric.h"

#include <cmath>
#include <cstdint>
#include <string>

namespace fathom::cpu::detail {

inline float toFloat(float value) {
  return value;
}
inline float toFloat(uint16_t bf16Bits) {
  return bf16ToFloat(bf16Bits);
}

// The element a tensor of type T holds for `value` (bf16: round to nearest even).
template <class T> T fromFloat(float value);
template <> inline float fromFloat<float>(float value) {
  return value;
}
template <> inline uint16_t fromFloat<uint16_t>(float value) {
  return floatToBf16(value);
}

// `value` rounded to what a tensor of type T can hold: one of HF's rounding points.
template <class T> inline float roundTo(float value) {
  return toFloat(fromFloat<T>(value));
}

// torch's silu: x / (1 + exp(-x)) in fp32.
inline float silu(float g) {
  return g / (1.0f + std::exp(-g));
}

// HF's act_fn(gate) * up over one row: silu rounded to T, then the product rounded to T.
template <class T> void siluMulRow(const T* gate, const T* up, int64_t width, T* out) {
  for (int64_t i = 0; i < width; ++i) {
    float activated = roundTo<T>(silu(toFloat(gate[i])));
    out[i] = fromFloat<T>(activated * toFloat(up[i]));
  }
}

// out = a + b over `count` elements, one rounding in bf16: the residual add's arithmetic
// (Elementwise.cpp), shared by add and addRmsNorm.
void addRow(const uint16_t* a, const uint16_t* b, uint16_t* out, int64_t count);
void addRow(const float* a, const float* b, float* out, int64_t count);

inline std::string typeError(const char* kernel, const char* operand, DType type,
                             const char* expected) {
  return std::string(kernel) + ": " + operand + " has dtype " + std::string(dtypeName(type)) +
         ", expected " + expected;
}

// Runs body(T{}) with T = float for F32 and uint16_t for BF16; other dtypes are an error.
template <class Body>
decltype(auto) withActivationType(DType type, const char* kernel, const char* operand,
                                  Body&& body) {
  switch (type) {
  case DType::F32:
    return body(float{});
  case DType::BF16:
    return body(uint16_t{});
  default:
    throw Error(typeError(kernel, operand, type, "F32 or BF16"));
  }
}

// Element `index` of an F32 or BF16 array, widened to fp32 (exact).
inline float loadFloat(DType type, const void* data, int64_t index) {
  if (type == DType::BF16)
    return bf16ToFloat(static_cast<const uint16_t*>(data)[index]);
  return static_cast<const float*>(data)[index];
}

inline void requireFloatOrBf16(DType type, const char* kernel, const char* operand) {
  if (type != DType::F32 && type != DType::BF16)
    throw Error(typeError(kernel, operand, type, "F32 or BF16"));
}

// Hands out 64-byte aligned pieces of a caller's scratch span.
class ScratchCarver {
public:
  ScratchCarver(Scratch scratch, const char* kernel) : scratch_(scratch), kernel_(kernel) {}

  template <class T> T* take(size_t count) {
    size_t bytes = alignUp(count * sizeof(T));
    if (used_ + bytes > scratch_.size())
      throw Error(std::string(kernel_) + ": scratch of " + std::to_string(scratch_.size()) +
                  " bytes is too small (its *ScratchBytes function says how much it needs)");
    T* piece = reinterpret_cast<T*>(scratch_.data() + used_);
    used_ += bytes;
    return piece;
  }

  static size_t alignUp(size_t bytes) { return (bytes + 63) & ~size_t(63); }

private:
  Scratch scratch_;
  const char* kernel_;
  size_t used_ = 0;
};

} // namespace fathom::cpu::detail
