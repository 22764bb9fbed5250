#pragma once
// Shape checks shared by the fathom op verifiers. Dimensions are compared only where both are
// static: batch and sequence lengths stay dynamic until the runtime sees a prompt.
#include "dialects/fathom/FathomDialect.h"

namespace mlir::fathom::verify {

inline bool dimsCompatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

inline RankedTensorType rankedType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

inline int64_t lastDim(RankedTensorType type) {
  return type.getDimSize(type.getRank() - 1);
}

// The f32 scale grid of block-quantized data [..., rows, cols]: the leading dimensions (one
// grid per stacked matrix, e.g. per expert), then [ceil(rows / blockRows), ceil(cols /
// blockCols)], edge blocks partial.
struct BlockGrid {
  SmallVector<int64_t> shape;
  bool holds(RankedTensorType scale) const {
    return scale.getElementType().isF32() && scale.getShape() == ArrayRef<int64_t>(shape);
  }
  RankedTensorType type(MLIRContext* context) const {
    return RankedTensorType::get(shape, Float32Type::get(context));
  }
};
inline BlockGrid blockGridOf(RankedTensorType data, int64_t blockRows, int64_t blockCols) {
  int64_t rank = data.getRank();
  BlockGrid grid;
  grid.shape.assign(data.getShape().begin(), data.getShape().end() - 2);
  grid.shape.push_back((data.getDimSize(rank - 2) + blockRows - 1) / blockRows);
  grid.shape.push_back((data.getDimSize(rank - 1) + blockCols - 1) / blockCols);
  return grid;
}

// Resolves `symbol` to a fathom.param, reporting on `op` when it names something else.
FailureOr<ParamOp> lookupParam(Operation* op, SymbolTableCollection& tables,
                               FlatSymbolRefAttr symbol, StringRef role);

// All dimensions but the last must agree between two tensors of the same rank.
LogicalResult verifyLeadingDims(Operation* op, RankedTensorType input, RankedTensorType result);

// A [out, in] weight projecting input [..., in] to result [..., out].
LogicalResult verifyProjection(Operation* op, ParamOp weight, RankedTensorType input,
                               RankedTensorType result);

// The param behind `symbol` must have exactly `shape` (`role` names it in the message).
LogicalResult verifyParamShape(Operation* op, SymbolTableCollection& tables,
                               FlatSymbolRefAttr symbol, ArrayRef<int64_t> shape, StringRef role);

// An RMSNorm's positive epsilon and an input of rank >= 1 (fathom.rms_norm, add_rms_norm).
LogicalResult verifyRmsNorm(Operation* op, APFloat epsilon, Value input);

// A normalization's weight: a [hidden] param matching the input's last dimension.
LogicalResult verifyNormWeight(Operation* op, SymbolTableCollection& tables,
                               FlatSymbolRefAttr weight, Value input);

} // namespace mlir::fathom::verify
