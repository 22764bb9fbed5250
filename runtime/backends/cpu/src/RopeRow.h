#pragma once
// Internal: one row of a rotary embedding, shared by the standalone kernel (RopeApply.cpp) and
// the kernels that rotate on the fly (attention's query, the cache append).
#include "Elements.h"
#include "fathom/cpu/Rope.h"

#include <string>
#include <type_traits>

namespace fathom::cpu::detail {

inline constexpr int64_t kMaxRopeHalf = 256;

// HalfSplit / Interleaved: in the activation dtype, out_j = x_a*c - x_b*s and
// out_{h+j} = x_b*c + x_a*s with every product and sum rounded (bf16: three roundings per
// output); the layouts differ only in where x_a, x_b come from.
template <class T, class Table>
void rotateHalves(const T* x, bool interleaved, const Table* cos, const Table* sin, int64_t half,
                  T* out) {
  // Read everything first: out may alias x.
  float a[kMaxRopeHalf], b[kMaxRopeHalf];
  for (int64_t j = 0; j < half; ++j) {
    a[j] = toFloat(interleaved ? x[2 * j] : x[j]);
    b[j] = toFloat(interleaved ? x[2 * j + 1] : x[half + j]);
  }
  for (int64_t j = 0; j < half; ++j) {
    float c = toFloat(cos[j]), s = toFloat(sin[j]);
    float first = roundTo<T>(a[j] * c) - roundTo<T>(b[j] * s);
    float second = roundTo<T>(b[j] * c) + roundTo<T>(a[j] * s);
    out[j] = fromFloat<T>(first);
    out[half + j] = fromFloat<T>(second);
  }
}

// DeepSeek V2: x_re + i x_im times cos + i sin in fp32, each product rounded to fp32, rounded
// once to the dtype. ComplexPairs reads and writes pairs (x_2j, x_2j+1); ComplexHalves pairs
// (x_j, x_{j+half}).
template <class T>
void rotateComplex(const T* x, bool halves, const float* cos, const float* sin, int64_t half,
                   T* out) {
  float re[kMaxRopeHalf], im[kMaxRopeHalf];
  for (int64_t j = 0; j < half; ++j) {
    re[j] = toFloat(halves ? x[j] : x[2 * j]);
    im[j] = toFloat(halves ? x[half + j] : x[2 * j + 1]);
  }
  for (int64_t j = 0; j < half; ++j) {
    float c = cos[j], s = sin[j];
    float outRe = re[j] * c - im[j] * s;
    float outIm = re[j] * s + im[j] * c;
    out[halves ? j : 2 * j] = fromFloat<T>(outRe);
    out[halves ? half + j : 2 * j + 1] = fromFloat<T>(outIm);
  }
}

inline bool isComplex(RopeLayout layout) {
  return layout == RopeLayout::ComplexPairs || layout == RopeLayout::ComplexHalves;
}

// Rotates one row of `dim` elements with table row `position`; throws when the tables have no
// such row.
template <class T> void rotateRow(const RopeRotation& r, int64_t position, const T* x, T* out) {
  if (position < 0 || position >= r.tableRows)
    throw Error("rope: position " + std::to_string(position) + " is outside the tables' " +
                std::to_string(r.tableRows) + " positions (the artifact's max sequence length)");
  const int64_t half = r.dim / 2;
  const int64_t stride = r.tableStride ? r.tableStride : half;
  if (isComplex(r.layout)) {
    rotateComplex(x, r.layout == RopeLayout::ComplexHalves,
                  static_cast<const float*>(r.cos) + position * stride,
                  static_cast<const float*>(r.sin) + position * stride, half, out);
    return;
  }
  using Table = std::conditional_t<std::is_same_v<T, float>, float, uint16_t>;
  rotateHalves(x, r.layout == RopeLayout::Interleaved,
               static_cast<const Table*>(r.cos) + position * stride,
               static_cast<const Table*>(r.sin) + position * stride, half, out);
}

// Checks a rotation's dims and table dtype against the activation dtype.
inline void checkRotation(const RopeRotation& r, DType activation, const char* kernel) {
  if (r.dim <= 0 || r.dim % 2 != 0 || r.dim / 2 > kMaxRopeHalf)
    throw Error(std::string(kernel) + ": rope dim " + std::to_string(r.dim) +
                " must be even and at most " + std::to_string(2 * kMaxRopeHalf));
  DType expected = isComplex(r.layout) ? DType::F32 : activation;
  if (r.tableType != expected)
    throw Error(typeError(kernel, "cos/sin tables", r.tableType,
                          isComplex(r.layout) ? "F32 for the complex layouts"
                                              : "the activation dtype (HF casts cos/sin)"));
  if (!r.cos || !r.sin)
    throw Error(std::string(kernel) + ": rope tables must not be null");
}

} // namespace fathom::cpu::detail
