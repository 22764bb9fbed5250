// Applies rotary embeddings with HF's arithmetic:
//  - HalfSplit / Interleaved (apply_rotary_pos_emb, apply_rotary_pos_emb_interleave): in the
//    activation dtype, out_j = x_a*c - x_b*s and out_{h+j} = x_b*c + x_a*s with every product
//    and sum rounded (bf16: three roundings per output); the two layouts differ only in where
//    x_a, x_b come from.
//  - ComplexPairs (DeepSeek V2 apply_rotary_emb): (x_2j + i x_2j+1) * (c + i s) in fp32, each
//    product rounded to fp32, rounded once to the dtype; output interleaved.
#include "Elements.h"
#include "fathom/cpu/Rope.h"

#include <algorithm>
#include <string>
#include <type_traits>

namespace fathom::cpu {
namespace {

template <class T>
void rotateHalves(const T* x, bool interleaved, const T* cos, const T* sin, int64_t half, T* out) {
  // Read everything first: out may alias x.
  constexpr int64_t kMaxHalf = 256;
  float a[kMaxHalf], b[kMaxHalf];
  for (int64_t j = 0; j < half; ++j) {
    a[j] = detail::toFloat(interleaved ? x[2 * j] : x[j]);
    b[j] = detail::toFloat(interleaved ? x[2 * j + 1] : x[half + j]);
  }
  for (int64_t j = 0; j < half; ++j) {
    float c = detail::toFloat(cos[j]), s = detail::toFloat(sin[j]);
    float first = detail::roundTo<T>(a[j] * c) - detail::roundTo<T>(b[j] * s);
    float second = detail::roundTo<T>(b[j] * c) + detail::roundTo<T>(a[j] * s);
    out[j] = detail::fromFloat<T>(first);
    out[half + j] = detail::fromFloat<T>(second);
  }
}

template <class T>
void rotateComplexPairs(const T* x, const float* cos, const float* sin, int64_t half, T* out) {
  for (int64_t j = 0; j < half; ++j) {
    float re = detail::toFloat(x[2 * j]), im = detail::toFloat(x[2 * j + 1]);
    float c = cos[j], s = sin[j];
    float outRe = re * c - im * s;
    float outIm = re * s + im * c;
    out[2 * j] = detail::fromFloat<T>(outRe);
    out[2 * j + 1] = detail::fromFloat<T>(outIm);
  }
}

} // namespace

void applyRope(ThreadPool& pool, const RopeApplyArgs& a) {
  const int64_t half = a.dim / 2;
  if (a.dim <= 0 || a.dim % 2 != 0 || half > 256)
    throw Error("applyRope: dim " + std::to_string(a.dim) + " must be even and at most 512");
  const bool complexPairs = a.layout == RopeLayout::ComplexPairs;
  const DType expectedTable = complexPairs ? DType::F32 : a.type;
  if (a.tableType != expectedTable)
    throw Error(detail::typeError("applyRope", "cos/sin tables", a.tableType,
                                  complexPairs ? "F32 for ComplexPairs"
                                               : "the activation dtype (HF casts cos/sin)"));
  const int64_t tableStride = a.tableStride ? a.tableStride : half;

  detail::withActivationType(a.type, "applyRope", "x", [&](auto tag) {
    using T = decltype(tag);
    using Table = std::conditional_t<std::is_same_v<T, float>, float, uint16_t>;
    const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(a.heads * a.dim, 1));
    pool.parallelFor(0, a.tokens, grain, [&](int64_t first, int64_t last) {
      for (int64_t t = first; t < last; ++t) {
        int64_t row = a.positionRows ? a.positionRows[t] : t;
        for (int64_t h = 0; h < a.heads; ++h) {
          const T* x = static_cast<const T*>(a.x) + t * a.xTokenStride + h * a.xHeadStride;
          T* out = static_cast<T*>(a.out) + t * a.outTokenStride + h * a.outHeadStride;
          if (complexPairs) {
            rotateComplexPairs(x, static_cast<const float*>(a.cos) + row * tableStride,
                               static_cast<const float*>(a.sin) + row * tableStride, half, out);
          } else {
            const Table* cos = static_cast<const Table*>(a.cos) + row * tableStride;
            const Table* sin = static_cast<const Table*>(a.sin) + row * tableStride;
            rotateHalves(x, a.layout == RopeLayout::Interleaved, cos, sin, half, out);
          }
        }
      }
    });
  });
}

} // namespace fathom::cpu
