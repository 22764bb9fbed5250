#include "dialects/fathom/VerifyUtils.h"

#include "mlir/IR/Builders.h"

namespace mlir::fathom::verify {

FailureOr<ParamOp> lookupParam(Operation* op, SymbolTableCollection& tables,
                               FlatSymbolRefAttr symbol, StringRef role) {
  auto param = tables.lookupNearestSymbolFrom<ParamOp>(op, symbol);
  if (!param)
    return op->emitOpError() << role << " " << symbol << " does not name a fathom.param";
  return param;
}

LogicalResult verifyLeadingDims(Operation* op, RankedTensorType input, RankedTensorType result) {
  if (input.getRank() != result.getRank())
    return op->emitOpError() << "result rank " << result.getRank() << " differs from input rank "
                             << input.getRank();
  for (int64_t i = 0; i + 1 < input.getRank(); ++i)
    if (!dimsCompatible(input.getDimSize(i), result.getDimSize(i)))
      return op->emitOpError() << "result dimension " << i << " is " << result.getDimSize(i)
                               << " but the input's is " << input.getDimSize(i);
  return success();
}

LogicalResult verifyProjection(Operation* op, ParamOp weight, RankedTensorType input,
                               RankedTensorType result) {
  RankedTensorType weightType = weight.getTensorType();
  if (weightType.getRank() != 2)
    return op->emitOpError() << "weight @" << weight.getSymName()
                             << " must have rank 2 [out, in], got rank " << weightType.getRank();
  if (!dimsCompatible(input.getDimSize(input.getRank() - 1), weightType.getDimSize(1)))
    return op->emitOpError() << "input hidden size " << input.getDimSize(input.getRank() - 1)
                             << " does not match weight @" << weight.getSymName() << " input size "
                             << weightType.getDimSize(1);
  if (!dimsCompatible(result.getDimSize(result.getRank() - 1), weightType.getDimSize(0)))
    return op->emitOpError() << "result size " << result.getDimSize(result.getRank() - 1)
                             << " does not match weight @" << weight.getSymName() << " output size "
                             << weightType.getDimSize(0);
  return success();
}

LogicalResult verifyParamShape(Operation* op, SymbolTableCollection& tables,
                               FlatSymbolRefAttr symbol, ArrayRef<int64_t> shape, StringRef role) {
  FailureOr<ParamOp> param = lookupParam(op, tables, symbol, role);
  if (failed(param))
    return failure();
  ArrayRef<int64_t> actual = param->getTensorType().getShape();
  if (actual == shape)
    return success();
  auto diag = op->emitOpError() << role << " @" << param->getSymName() << " must be [";
  llvm::interleave(shape, diag, ", ");
  diag << "], got [";
  llvm::interleave(actual, diag, ", ");
  return diag << "]";
}

LogicalResult verifyRmsNorm(Operation* op, APFloat epsilon, Value input) {
  if (!(epsilon.convertToFloat() > 0.0f))
    return op->emitOpError("epsilon must be positive");
  if (rankedType(input).getRank() < 1)
    return op->emitOpError("input must have at least one dimension");
  return success();
}

LogicalResult verifyNormWeight(Operation* op, SymbolTableCollection& tables,
                               FlatSymbolRefAttr symbol, Value input) {
  FailureOr<ParamOp> weight = lookupParam(op, tables, symbol, "weight");
  if (failed(weight))
    return failure();
  RankedTensorType weightType = weight->getTensorType();
  RankedTensorType inputType = rankedType(input);
  if (weightType.getRank() != 1)
    return op->emitOpError() << "weight @" << weight->getSymName()
                             << " must have rank 1 [hidden], got rank " << weightType.getRank();
  if (!dimsCompatible(lastDim(inputType), weightType.getDimSize(0)))
    return op->emitOpError() << "input hidden size " << lastDim(inputType)
                             << " does not match weight @" << weight->getSymName() << " size "
                             << weightType.getDimSize(0);
  return success();
}

} // namespace mlir::fathom::verify
