#pragma once
// DeepSeek's block-quantized FP8 weights: W [.., M, N] in F8_E4M3 with a float32
// `weight_scale_inv` S [.., ceil(M/bm), ceil(N/bn)], one scale per bm x bn block (128 x 128),
// the partial blocks at the edges using the last row/column of S:
//   W[i, j] = float(W8[i, j]) * S[i / bm, j / bn]
// A leading dimension (transformers v5's fused experts [E, M, N]) is a batch of such weights.
#include "fathom/frontend/TensorView.h"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fathom::frontend {

using BlockSize = std::array<int64_t, 2>;

// "x.weight" -> "x.weight_scale_inv"; a fused expert tensor "x.gate_up_proj" ->
// "x.gate_up_proj_scale_inv" (the naming transformers' FP8 loader uses).
std::string fp8ScaleName(std::string_view weightName);
// transformers v5's fused experts "mlp.experts.gate_up_proj" [E, 2I, H].
bool isFusedGateUp(std::string_view weightName);

// The scale shape a weight of `weightShape` needs: [.., ceil(M/bm), ceil(N/bn)].
std::vector<int64_t> fp8ScaleShape(std::span<const int64_t> weightShape, BlockSize block);

// Whether `scaleShape` fits `weightShape`. A fused gate_up_proj [E, 2I, H] may also carry one
// block grid per half, [E, 2 * ceil(I/bm), ..], which is what converting per-expert scales
// gives when I is not a multiple of bm (and what transformers allocates).
bool isFp8ScaleShapeValid(std::string_view weightName, std::span<const int64_t> weightShape,
                          std::span<const int64_t> scaleShape, BlockSize block);

// Dequantizes `weight` (F8_E4M3 or F8_E5M2) with `scaleInv` (F32) into `out` (weight.numel()
// values, row-major): fp32 products, exactly. Throws fathom::Error naming the tensors when a
// dtype, shape or output size is wrong.
void dequantizeFp8(const TensorView& weight, const TensorView& scaleInv, BlockSize block,
                   std::span<float> out);
// The same, rounded to bf16 with round-to-nearest-even (DeepSeek's fp8_cast_bf16.py and
// transformers' dequantize path: fp32 multiply, then one rounding).
void dequantizeFp8ToBf16(const TensorView& weight, const TensorView& scaleInv, BlockSize block,
                         std::span<uint16_t> out);

} // namespace fathom::frontend
