#pragma once
// The kernels a SigLIP vision tower adds to the decoder's: LayerNorm, GELU and cutting
// images into patches. Activations are F32 or BF16 (bf16 as uint16_t bits); each result is
// computed in fp32 and rounded once, as torch's CPU kernels do for bf16.
#include "fathom/cpu/ThreadPool.h"
#include "fathom/runtime/DType.h"

#include <cstdint>

namespace fathom::cpu {

// nn.LayerNorm over each row of [rows, dim]: mean and biased variance in fp32,
// out = (x - mean) / sqrt(var + eps) * weight + bias. weight and bias are F32 or BF16 vectors
// of dim (BF16 activations need BF16 parameters).
void layerNorm(ThreadPool& pool, DType type, const void* x, int64_t ldx, DType weightType,
               const void* weight, const void* bias, float eps, int64_t rows, int64_t dim,
               void* out, int64_t ldOut);

// How GELU is computed, after HF's activation names:
// - Erf ("gelu", nn.GELU()): x * 0.5 * (1 + erf(x / sqrt(2))) in fp32, one rounding;
// - Tanh ("gelu_pytorch_tanh", gelu(approximate="tanh")): 0.5 * x * (1 + tanh(k * (x + 0.044715
//   * x^3))), k = sqrt(2 / pi), in fp32, one rounding;
// - TanhUnfused ("gelu_new"): that formula as separate torch ops, each rounded to the dtype
//   (torch.pow(x, 3.0) too, which rounds x * x before the last multiply).
enum class GeluApproximation { Erf, Tanh, TanhUnfused };

// GELU over `count` contiguous elements.
void gelu(ThreadPool& pool, DType type, const void* x, void* out, int64_t count,
          GeluApproximation approximation = GeluApproximation::Erf);

// images [n, channels, height, width] fp32 -> out [n, patches, channels * patch * patch] in
// `outType`: patch (i, j) is row i * (width / patch) + j, its values ordered (channel, row,
// column) like a Conv2d weight. height and width must be multiples of patch.
void patchify(ThreadPool& pool, const float* images, int64_t n, int64_t channels, int64_t height,
              int64_t width, int64_t patch, DType outType, void* out);

} // namespace fathom::cpu
