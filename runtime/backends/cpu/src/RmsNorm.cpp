// HF RMSNorm (DeepseekV3RMSNorm): statistics in fp32, and in bf16 the normalized row is rounded
// to bf16 before the bf16 weight multiplies it (model-spec C1). Bit-identical to torch on CPU.
#include "Elements.h"
#include "TorchSum.h"
#include "fathom/cpu/Elementwise.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace fathom::cpu {
namespace {

template <class T, class W>
void normalizeRow(const T* x, const W* weight, float eps, int64_t dim, T* out) {
  // torch: variance = x.pow(2).mean(-1), i.e. its cascade sum of the fp32 squares divided by
  // dim; rsqrt(v) = 1 / sqrt(v), two roundings. All of it matches torch bit for bit.
  float variance = detail::torchSum(dim,
                                    [&](int64_t i) {
                                      float v = detail::toFloat(x[i]);
                                      return v * v;
                                    }) /
                   float(dim);
  float inverseRms = 1.0f / std::sqrt(variance + eps);
  for (int64_t i = 0; i < dim; ++i) {
    float normalized = detail::toFloat(x[i]) * inverseRms;
    if constexpr (std::is_same_v<T, uint16_t>)
      out[i] = floatToBf16(detail::toFloat(weight[i]) * detail::roundTo<T>(normalized));
    else
      out[i] = detail::toFloat(weight[i]) * normalized;
  }
}

} // namespace

void rmsNorm(ThreadPool& pool, DType type, const void* x, int64_t ldx, DType weightType,
             const void* weight, float eps, int64_t rows, int64_t dim, void* out, int64_t ldOut) {
  addRmsNorm(pool, type, x, ldx, nullptr, 0, weightType, weight, eps, rows, dim, nullptr, 0, out,
             ldOut);
}

void addRmsNorm(ThreadPool& pool, DType type, const void* a, int64_t lda, const void* b,
                int64_t ldb, DType weightType, const void* weight, float eps, int64_t rows,
                int64_t dim, void* sum, int64_t ldSum, void* out, int64_t ldOut) {
  const char* name = b ? "addRmsNorm" : "rmsNorm";
  if (type == DType::BF16 && weightType != DType::BF16)
    throw Error(detail::typeError(name, "weight", weightType, "BF16 with BF16 activations"));
  detail::withActivationType(type, name, "x", [&](auto tag) {
    using T = decltype(tag);
    detail::withActivationType(weightType, name, "weight", [&](auto weightTag) {
      using W = decltype(weightTag);
      const int64_t grain = std::max<int64_t>(1, 8192 / std::max<int64_t>(dim, 1));
      pool.parallelFor(0, rows, grain, [&](int64_t first, int64_t last) {
        for (int64_t r = first; r < last; ++r) {
          const T* x = static_cast<const T*>(a) + r * lda;
          if (b) { // the row's sum is normalized while it is still in L1
            T* s = static_cast<T*>(sum) + r * ldSum;
            detail::addRow(x, static_cast<const T*>(b) + r * ldb, s, dim);
            x = s;
          }
          normalizeRow(x, static_cast<const W*>(weight), eps, dim,
                       static_cast<T*>(out) + r * ldOut);
        }
      });
    });
  });
}

} // namespace fathom::cpu
