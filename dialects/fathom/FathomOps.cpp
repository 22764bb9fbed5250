// Verifiers of the model-level fathom ops (the DeepSeek blocks are in FathomBlockOps.cpp).
#include "dialects/fathom/FathomDialect.h"
#include "dialects/fathom/VerifyUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::fathom;
using namespace mlir::fathom::verify;

namespace {

Type storageElementType(MLIRContext* context, DType dtype) {
  switch (dtype) {
  case DType::f8e4m3:
    return Float8E4M3FNType::get(context);
  case DType::f8e5m2:
    return Float8E5M2Type::get(context);
  case DType::i8:
    return IntegerType::get(context, 8);
  default:
    return {};
  }
}

} // namespace

LogicalResult ParamOp::verify() {
  if (getSourceDtype() && !getSource())
    return emitOpError("source_dtype needs a source tensor name");
  if (getSourceOffsetAttr() && (!getSource() || getSourceOffsetAttr().getInt() < 0))
    return emitOpError("source_offset needs a source tensor name and must not be negative");
  if (getSourceOffset() && getQuantization())
    return emitOpError("a block-quantized param cannot be a slice of its source");
  if (!getQuantization() && !getScale())
    return success();
  if (!getQuantization() || !getScale())
    return emitOpError("a block-quantized param needs both `quantization` and `scale`");
  BlockQuantAttr quant = *getQuantization();
  RankedTensorType type = getTensorType();
  if (type.getRank() != 2)
    return emitOpError() << "block quantization applies to 2-D weights, got rank "
                         << type.getRank();
  if (type.getElementType() != storageElementType(getContext(), quant.getStorage()))
    return emitOpError() << "element type " << type.getElementType()
                         << " does not match the quantized storage "
                         << stringifyDType(quant.getStorage());
  auto scale = SymbolTable::lookupNearestSymbolFrom<ParamOp>(*this, getScaleAttr());
  if (!scale)
    return emitOpError() << "scale " << getScaleAttr() << " does not name a fathom.param";
  RankedTensorType scaleType = scale.getTensorType();
  int64_t blockRows = (type.getDimSize(0) + quant.getRows() - 1) / quant.getRows();
  int64_t blockCols = (type.getDimSize(1) + quant.getCols() - 1) / quant.getCols();
  if (!scaleType.getElementType().isF32() || scaleType.getRank() != 2 ||
      scaleType.getDimSize(0) != blockRows || scaleType.getDimSize(1) != blockCols)
    return emitOpError() << "scale @" << scale.getSymName() << " must be tensor<" << blockRows
                         << "x" << blockCols << "xf32> (one per " << quant.getRows() << "x"
                         << quant.getCols() << " block), got " << scaleType;
  return success();
}

LogicalResult EmbeddingOp::verifySymbolUses(SymbolTableCollection& tables) {
  FailureOr<ParamOp> table = lookupParam(*this, tables, getTableAttr(), "table");
  if (failed(table))
    return failure();
  RankedTensorType tableType = table->getTensorType();
  auto ids = cast<ShapedType>(getIds().getType());
  RankedTensorType result = rankedType(getResult());
  if (tableType.getRank() != 2)
    return emitOpError() << "table @" << table->getSymName()
                         << " must have rank 2 [vocab, hidden], got rank " << tableType.getRank();
  if (!ids.hasRank() || result.getRank() != ids.getRank() + 1)
    return emitOpError() << "result must have the ids' rank plus one (the hidden dimension)";
  for (int64_t i = 0; i < ids.getRank(); ++i)
    if (!dimsCompatible(ids.getDimSize(i), result.getDimSize(i)))
      return emitOpError() << "result dimension " << i << " is " << result.getDimSize(i)
                           << " but the ids' is " << ids.getDimSize(i);
  if (!dimsCompatible(result.getDimSize(result.getRank() - 1), tableType.getDimSize(1)))
    return emitOpError() << "result hidden size " << result.getDimSize(result.getRank() - 1)
                         << " does not match table @" << table->getSymName() << " hidden size "
                         << tableType.getDimSize(1);
  if (result.getElementType() != tableType.getElementType())
    return emitOpError() << "result element type " << result.getElementType()
                         << " differs from the table's " << tableType.getElementType();
  return success();
}

LogicalResult RmsNormOp::verify() {
  if (!(getEpsilon().convertToFloat() > 0.0f))
    return emitOpError("epsilon must be positive");
  if (rankedType(getInput()).getRank() < 1)
    return emitOpError("input must have at least one dimension");
  return success();
}

LogicalResult RmsNormOp::verifySymbolUses(SymbolTableCollection& tables) {
  FailureOr<ParamOp> weight = lookupParam(*this, tables, getWeightAttr(), "weight");
  if (failed(weight))
    return failure();
  RankedTensorType weightType = weight->getTensorType();
  RankedTensorType input = rankedType(getInput());
  if (weightType.getRank() != 1)
    return emitOpError() << "weight @" << weight->getSymName()
                         << " must have rank 1 [hidden], got rank " << weightType.getRank();
  if (!dimsCompatible(input.getDimSize(input.getRank() - 1), weightType.getDimSize(0)))
    return emitOpError() << "input hidden size " << input.getDimSize(input.getRank() - 1)
                         << " does not match weight @" << weight->getSymName() << " size "
                         << weightType.getDimSize(0);
  return success();
}

LogicalResult LinearOp::verify() {
  RankedTensorType input = rankedType(getInput());
  RankedTensorType result = rankedType(getResult());
  if (input.getRank() < 1)
    return emitOpError("input must have at least one dimension");
  if (input.getElementType() != result.getElementType())
    return emitOpError() << "result element type " << result.getElementType()
                         << " differs from the input's " << input.getElementType();
  return verifyLeadingDims(*this, input, result);
}

LogicalResult LinearOp::verifySymbolUses(SymbolTableCollection& tables) {
  FailureOr<ParamOp> weight = lookupParam(*this, tables, getWeightAttr(), "weight");
  if (failed(weight))
    return failure();
  RankedTensorType result = rankedType(getResult());
  if (failed(verifyProjection(*this, *weight, rankedType(getInput()), result)))
    return failure();
  if (!getBiasAttr())
    return success();
  FailureOr<ParamOp> bias = lookupParam(*this, tables, getBiasAttr(), "bias");
  if (failed(bias))
    return failure();
  RankedTensorType biasType = bias->getTensorType();
  if (biasType.getRank() != 1 ||
      !dimsCompatible(biasType.getDimSize(0), result.getDimSize(result.getRank() - 1)))
    return emitOpError() << "bias @" << bias->getSymName() << " must be ["
                         << result.getDimSize(result.getRank() - 1) << "], got " << biasType;
  return success();
}

LogicalResult RopeOp::verify() {
  RankedTensorType input = rankedType(getInput());
  auto positions = cast<ShapedType>(getPositions().getType());
  if (input.getRank() != 3 && input.getRank() != 4)
    return emitOpError() << "input must be [batch, seq, dim] or [batch, seq, heads, dim], got rank "
                         << input.getRank();
  if (!positions.hasRank() || positions.getRank() != 2)
    return emitOpError("positions must be [batch, seq]");
  for (int64_t i = 0; i < 2; ++i)
    if (!dimsCompatible(input.getDimSize(i), positions.getDimSize(i)))
      return emitOpError() << "positions dimension " << i << " is " << positions.getDimSize(i)
                           << " but the input's is " << input.getDimSize(i);
  int64_t dim = input.getDimSize(input.getRank() - 1);
  if (!dimsCompatible(dim, getRope().getDim()))
    return emitOpError() << "input last dimension " << dim << " does not match the rope dim "
                         << getRope().getDim();
  return success();
}

LogicalResult AttentionOp::verify() {
  RankedTensorType query = rankedType(getQuery());
  RankedTensorType key = rankedType(getKey());
  RankedTensorType value = rankedType(getValue());
  RankedTensorType result = rankedType(getResult());
  if (query.getRank() != 4 || key.getRank() != 4 || value.getRank() != 4 || result.getRank() != 4)
    return emitOpError("query, key, value and result must be [batch, len, heads, dim]");
  if (!(getScale().convertToFloat() > 0.0f))
    return emitOpError("scale must be positive");
  auto mismatch = [&](StringRef what, int64_t a, int64_t b) {
    return emitOpError() << what << ": " << a << " vs " << b;
  };
  for (RankedTensorType other : {key, value, result})
    if (!dimsCompatible(query.getDimSize(0), other.getDimSize(0)))
      return mismatch("batch sizes differ", query.getDimSize(0), other.getDimSize(0));
  if (!dimsCompatible(key.getDimSize(1), value.getDimSize(1)))
    return mismatch("key and value lengths differ", key.getDimSize(1), value.getDimSize(1));
  if (!dimsCompatible(key.getDimSize(2), value.getDimSize(2)))
    return mismatch("key and value head counts differ", key.getDimSize(2), value.getDimSize(2));
  if (!dimsCompatible(query.getDimSize(3), key.getDimSize(3)))
    return mismatch("query and key head dims differ", query.getDimSize(3), key.getDimSize(3));
  int64_t heads = query.getDimSize(2), kvHeads = key.getDimSize(2);
  if (!ShapedType::isDynamic(heads) && !ShapedType::isDynamic(kvHeads) && heads % kvHeads != 0)
    return mismatch("query heads must be a multiple of key/value heads", heads, kvHeads);
  if (!dimsCompatible(result.getDimSize(1), query.getDimSize(1)) ||
      !dimsCompatible(result.getDimSize(2), heads) ||
      !dimsCompatible(result.getDimSize(3), value.getDimSize(3)))
    return emitOpError() << "result must be [batch, query len, heads, value dim], got " << result;
  if (Value mask = getKeyMask()) {
    auto maskType = cast<ShapedType>(mask.getType());
    if (!maskType.hasRank() || maskType.getRank() != 2 ||
        !dimsCompatible(maskType.getDimSize(0), key.getDimSize(0)) ||
        !dimsCompatible(maskType.getDimSize(1), key.getDimSize(1)))
      return emitOpError() << "key_mask must be [batch, key len], got " << mask.getType();
  }
  return success();
}

LogicalResult LmHeadOp::verify() {
  RankedTensorType input = rankedType(getInput());
  if (input.getRank() < 1)
    return emitOpError("input must have at least one dimension");
  return verifyLeadingDims(*this, input, rankedType(getLogits()));
}

LogicalResult LmHeadOp::verifySymbolUses(SymbolTableCollection& tables) {
  FailureOr<ParamOp> weight = lookupParam(*this, tables, getWeightAttr(), "weight");
  if (failed(weight))
    return failure();
  return verifyProjection(*this, *weight, rankedType(getInput()), rankedType(getLogits()));
}

#define GET_OP_CLASSES
#include "dialects/fathom/FathomOps.cpp.inc"
