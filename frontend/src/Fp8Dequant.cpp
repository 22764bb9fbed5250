#include "fathom/frontend/Fp8Dequant.h"

#include "fathom/runtime/BlockQuant.h"
#include "fathom/runtime/Error.h"
#include "fathom/runtime/Numeric.h"

#include <algorithm>
#include <cstring>

namespace fathom::frontend {
namespace {
int64_t ceilDiv(int64_t value, int64_t divisor) {
  return (value + divisor - 1) / divisor;
}

// The rows of one weight matrix mapped to rows of its scale grid: one grid over all M rows,
// or (fused gate_up) one grid per half.
struct RowBlocks {
  int64_t rows = 0;
  int64_t blockRows = 0;
  bool perHalf = false;

  int64_t blockOf(int64_t row) const {
    if (!perHalf)
      return row / blockRows;
    const int64_t half = rows / 2;
    return row < half ? row / blockRows : ceilDiv(half, blockRows) + (row - half) / blockRows;
  }
};

bool leadingDimsMatch(std::span<const int64_t> a, std::span<const int64_t> b) {
  if (a.size() != b.size() || a.size() < 2)
    return false;
  for (size_t i = 0; i + 2 < a.size(); ++i)
    if (a[i] != b[i])
      return false;
  return true;
}

std::string describe(const TensorView& view) {
  return "\"" + std::string(view.name) + "\" (" + std::string(dtypeName(view.dtype)) + " " +
         formatShape(view.shape) + ")";
}

RowBlocks checkOperands(const TensorView& weight, const TensorView& scaleInv, BlockSize block,
                        size_t outputSize) {
  if (weight.dtype != DType::F8E4M3 && weight.dtype != DType::F8E5M2)
    throw Error("FP8 dequantization: weight " + describe(weight) + " is not F8_E4M3 or F8_E5M2");
  if (scaleInv.dtype != DType::F32)
    throw Error("FP8 dequantization: scale " + describe(scaleInv) + " must be F32");
  if (block[0] < 1 || block[1] < 1)
    throw Error("FP8 dequantization: block size must be positive");
  if (!leadingDimsMatch(weight.shape, scaleInv.shape) ||
      !isFp8ScaleShapeValid(weight.name, weight.shape, scaleInv.shape, block))
    throw Error("FP8 dequantization: scale " + describe(scaleInv) + " does not fit weight " +
                describe(weight) + " with blocks of " + std::to_string(block[0]) + "x" +
                std::to_string(block[1]) + " (expected " +
                formatShape(fp8ScaleShape(weight.shape, block)) + ")");
  if (outputSize != size_t(weight.numel()))
    throw Error("FP8 dequantization: output for " + describe(weight) + " holds " +
                std::to_string(outputSize) + " values, expected " + std::to_string(weight.numel()));
  const int64_t rows = weight.shape[weight.rank() - 2];
  const int64_t scaleRows = scaleInv.shape[scaleInv.rank() - 2];
  return RowBlocks{rows, block[0], scaleRows != ceilDiv(rows, block[0])};
}

// Every matrix of the weight (and, for a fused gate_up with one grid per half, each half) through
// the runtime's block rule.
void dequantizeAll(const TensorView& weight, const TensorView& scaleInv, BlockSize block,
                   size_t outputSize, DType outType, void* out) {
  const RowBlocks rowBlocks = checkOperands(weight, scaleInv, block, outputSize);
  const int64_t rows = rowBlocks.rows;
  const int64_t columns = weight.shape.back();
  const int64_t scaleRows = scaleInv.shape[scaleInv.rank() - 2];
  const int64_t scaleColumns = scaleInv.shape.back();
  const int64_t matrices = rows * columns == 0 ? 0 : weight.numel() / (rows * columns);
  const auto* codes = reinterpret_cast<const uint8_t*>(weight.data);
  auto* dst = static_cast<std::byte*>(out);
  const size_t outSize = dtypeSize(outType);
  const int64_t parts = rowBlocks.perHalf ? 2 : 1, partRows = rows / parts;
  for (int64_t matrix = 0; matrix < matrices; ++matrix)
    for (int64_t part = 0; part < parts; ++part) {
      int64_t firstRow = part * partRows;
      const std::byte* scales =
          scaleInv.data +
          size_t((matrix * scaleRows + rowBlocks.blockOf(firstRow)) * scaleColumns) * 4;
      size_t first = size_t((matrix * rows + firstRow) * columns);
      dequantizeBlockMatrix(weight.dtype, codes + first, partRows, columns, scales, scaleColumns,
                            block[0], block[1], outType, dst + first * outSize);
    }
}
} // namespace

std::string fp8ScaleName(std::string_view weightName) {
  return std::string(weightName) + "_scale_inv";
}

bool isFusedGateUp(std::string_view weightName) {
  return weightName.ends_with("gate_up_proj");
}

std::vector<int64_t> fp8ScaleShape(std::span<const int64_t> weightShape, BlockSize block) {
  std::vector<int64_t> shape(weightShape.begin(), weightShape.end());
  if (shape.size() >= 2) {
    shape[shape.size() - 2] = ceilDiv(shape[shape.size() - 2], block[0]);
    shape.back() = ceilDiv(shape.back(), block[1]);
  }
  return shape;
}

bool isFp8ScaleShapeValid(std::string_view weightName, std::span<const int64_t> weightShape,
                          std::span<const int64_t> scaleShape, BlockSize block) {
  std::vector<int64_t> expected = fp8ScaleShape(weightShape, block);
  if (std::equal(expected.begin(), expected.end(), scaleShape.begin(), scaleShape.end()))
    return true;
  if (!isFusedGateUp(weightName) || weightShape.size() < 2 ||
      weightShape[weightShape.size() - 2] % 2 != 0)
    return false;
  expected[expected.size() - 2] = 2 * ceilDiv(weightShape[weightShape.size() - 2] / 2, block[0]);
  return std::equal(expected.begin(), expected.end(), scaleShape.begin(), scaleShape.end());
}

void dequantizeFp8(const TensorView& weight, const TensorView& scaleInv, BlockSize block,
                   std::span<float> out) {
  dequantizeAll(weight, scaleInv, block, out.size(), DType::F32, out.data());
}

void dequantizeFp8ToBf16(const TensorView& weight, const TensorView& scaleInv, BlockSize block,
                         std::span<uint16_t> out) {
  dequantizeAll(weight, scaleInv, block, out.size(), DType::BF16, out.data());
}

} // namespace fathom::frontend
