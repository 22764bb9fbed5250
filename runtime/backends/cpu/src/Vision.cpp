// LayerNorm, GELU and patchify for the SigLIP vision tower.
#include "fathom/cpu/Vision.h"
#include "Elements.h"
#include "TorchSum.h"

#include <algorithm>
#include <cmath>

namespace fathom::cpu {
namespace {

constexpr int64_t kElementGrain = 16384;

template <class T, class W>
void layerNormRow(const T* x, const W* weight, const W* bias, float eps, int64_t dim, T* out) {
  float mean = detail::torchSum(dim, [&](int64_t i) { return detail::toFloat(x[i]); }) / float(dim);
  float variance = detail::torchSum(dim,
                                    [&](int64_t i) {
                                      float d = detail::toFloat(x[i]) - mean;
                                      return d * d;
                                    }) /
                   float(dim);
  float inverse = 1.0f / std::sqrt(variance + eps);
  for (int64_t i = 0; i < dim; ++i)
    out[i] =
        detail::fromFloat<T>((detail::toFloat(x[i]) - mean) * inverse * detail::toFloat(weight[i]) +
                             detail::toFloat(bias[i]));
}

float geluErf(float v) {
  return v * 0.5f * (1.0f + std::erf(v * float(M_SQRT1_2)));
}

// torch's GeluKernelImpl (tanh branch) in fp32.
float geluTanh(float v) {
  constexpr float kBeta = float(M_SQRT2 * M_2_SQRTPI * 0.5);
  constexpr float kKappa = 0.044715f;
  float inner = kBeta * (v + kKappa * (v * v * v));
  return 0.5f * v * (1.0f + std::tanh(inner));
}

// NewGELUActivation: 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * pow(x, 3)))), every
// torch op computed in fp32 and rounded to T.
template <class T> T geluTanhUnfused(T value) {
  auto round = [](float v) { return detail::toFloat(detail::fromFloat<T>(v)); };
  const float x = detail::toFloat(value);
  const float cube = round(round(x * x) * x);
  const float inner = round(round(x + round(cube * 0.044715f)) * float(0.7978845608028654));
  return detail::fromFloat<T>(round(0.5f * x) * round(1.0f + round(std::tanh(inner))));
}

} // namespace

void layerNorm(ThreadPool& pool, DType type, const void* x, int64_t ldx, DType weightType,
               const void* weight, const void* bias, float eps, int64_t rows, int64_t dim,
               void* out, int64_t ldOut) {
  detail::requireFloatOrBf16(weightType, "layerNorm", "weight");
  if (type == DType::BF16 && weightType != DType::BF16)
    throw Error("layerNorm: bf16 activations need bf16 weight and bias, got " +
                std::string(dtypeName(weightType)));
  detail::withActivationType(type, "layerNorm", "x", [&](auto tag) {
    using T = decltype(tag);
    const int64_t grain = std::max<int64_t>(1, kElementGrain / std::max<int64_t>(dim, 1));
    pool.parallelFor(0, rows, grain, [&](int64_t first, int64_t last) {
      for (int64_t r = first; r < last; ++r) {
        const T* row = static_cast<const T*>(x) + r * ldx;
        T* result = static_cast<T*>(out) + r * ldOut;
        if (weightType == DType::BF16)
          layerNormRow(row, static_cast<const uint16_t*>(weight),
                       static_cast<const uint16_t*>(bias), eps, dim, result);
        else
          layerNormRow(row, static_cast<const float*>(weight), static_cast<const float*>(bias), eps,
                       dim, result);
      }
    });
  });
}

void gelu(ThreadPool& pool, DType type, const void* x, void* out, int64_t count,
          GeluApproximation approximation) {
  detail::withActivationType(type, "gelu", "x", [&](auto tag) {
    using T = decltype(tag);
    pool.parallelFor(0, count, kElementGrain, [&](int64_t first, int64_t last) {
      const T* in = static_cast<const T*>(x);
      T* result = static_cast<T*>(out);
      switch (approximation) {
      case GeluApproximation::Erf:
        for (int64_t i = first; i < last; ++i)
          result[i] = detail::fromFloat<T>(geluErf(detail::toFloat(in[i])));
        break;
      case GeluApproximation::Tanh:
        for (int64_t i = first; i < last; ++i)
          result[i] = detail::fromFloat<T>(geluTanh(detail::toFloat(in[i])));
        break;
      case GeluApproximation::TanhUnfused:
        for (int64_t i = first; i < last; ++i)
          result[i] = geluTanhUnfused(in[i]);
        break;
      }
    });
  });
}

void patchify(ThreadPool& pool, const float* images, int64_t n, int64_t channels, int64_t height,
              int64_t width, int64_t patch, DType outType, void* out) {
  if (patch < 1 || height % patch != 0 || width % patch != 0)
    throw Error("patchify: a " + std::to_string(height) + "x" + std::to_string(width) +
                " image does not split into patches of " + std::to_string(patch));
  const int64_t across = width / patch, patches = across * (height / patch);
  const int64_t values = channels * patch * patch;
  detail::withActivationType(outType, "patchify", "out", [&](auto tag) {
    using T = decltype(tag);
    pool.parallelFor(0, n * patches, 1, [&](int64_t first, int64_t last) {
      for (int64_t row = first; row < last; ++row) {
        const int64_t image = row / patches, top = (row % patches) / across * patch,
                      left = (row % patches) % across * patch;
        T* result = static_cast<T*>(out) + row * values;
        for (int64_t c = 0; c < channels; ++c)
          for (int64_t y = 0; y < patch; ++y) {
            const float* source =
                images + ((image * channels + c) * height + top + y) * width + left;
            for (int64_t x = 0; x < patch; ++x)
              *result++ = detail::fromFloat<T>(source[x]);
          }
      }
    });
  });
}

} // namespace fathom::cpu
