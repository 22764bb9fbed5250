// Verifiers of the model-level fathom ops (the DeepSeek blocks are in FathomBlockOps.cpp).
#include "dialects/fathom/FathomDialect.h"
#include "dialects/fathom/VerifyUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::fathom;
using namespace mlir::fathom::verify;

Type mlir::fathom::elementTypeOf(MLIRContext* context, DType dtype) {
  switch (dtype) {
  case DType::f32:
    return Float32Type::get(context);
  case DType::f16:
    return Float16Type::get(context);
  case DType::bf16:
    return BFloat16Type::get(context);
  case DType::f8e4m3:
    return Float8E4M3FNType::get(context);
  case DType::f8e5m2:
    return Float8E5M2Type::get(context);
  case DType::i64:
    return IntegerType::get(context, 64);
  case DType::i32:
    return IntegerType::get(context, 32);
  case DType::i8:
    return IntegerType::get(context, 8);
  case DType::u4:
    return IntegerType::get(context, 4, IntegerType::Unsigned);
  }
  return {};
}

LogicalResult ParamOp::verify() {
  if (getSourceDtype() && !getSource())
    return emitOpError("source_dtype needs a source tensor name");
  if (getSourceOffsetAttr() && (!getSource() || getSourceOffsetAttr().getInt() < 0))
    return emitOpError("source_offset needs a source tensor name and must not be negative");
  if (getSourceOffset() && getQuantization())
    return emitOpError("a block-quantized param cannot be a slice of its source");
  if (!getQuantization() && !getScale() && !getZero())
    return success();
  if (!getQuantization() || !getScale())
    return emitOpError("a block-quantized param needs both `quantization` and `scale`");
  BlockQuantAttr quant = *getQuantization();
  if ((quant.getStorage() == DType::u4) != bool(getZero()))
    return emitOpError("a `zero` param goes with u4 storage, and u4 storage needs one");
  RankedTensorType type = getTensorType();
  if (type.getRank() < 2)
    return emitOpError() << "block quantization applies to matrices (rank >= 2), got rank "
                         << type.getRank();
  if (type.getElementType() != elementTypeOf(getContext(), quant.getStorage()))
    return emitOpError() << "element type " << type.getElementType()
                         << " does not match the quantized storage "
                         << stringifyDType(quant.getStorage());
  return success();
}

// The scale lives in the symbol table: checked with the verifier's cached tables.
LogicalResult ParamOp::verifySymbolUses(SymbolTableCollection& tables) {
  if (!getQuantization())
    return success();
  BlockQuantAttr quant = *getQuantization();
  RankedTensorType type = getTensorType();
  auto scale = tables.lookupNearestSymbolFrom<ParamOp>(*this, getScaleAttr());
  if (!scale)
    return emitOpError() << "scale " << getScaleAttr() << " does not name a fathom.param";
  RankedTensorType scaleType = scale.getTensorType();
  verify::BlockGrid grid = verify::blockGridOf(type, quant.getRows(), quant.getCols());
  if (!grid.holds(scaleType))
    return emitOpError() << "scale @" << scale.getSymName() << " must be "
                         << grid.type(getContext()) << " (one per " << quant.getRows() << "x"
                         << quant.getCols() << " block), got " << scaleType;
  if (!getZeroAttr())
    return success();
  auto zero = tables.lookupNearestSymbolFrom<ParamOp>(*this, getZeroAttr());
  auto zeroType = RankedTensorType::get(grid.shape, type.getElementType());
  if (!zero || zero.getTensorType() != zeroType)
    return emitOpError() << "zero " << getZeroAttr() << " must be a fathom.param of type "
                         << zeroType;
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
  if (bool(getVocabStartAttr()) != getVocabSize().has_value())
    return emitOpError("a vocabulary shard names both vocab_start and vocab_size");
  if (auto start = getVocabStartAttr()) {
    if (failed(verifyParamShape(*this, tables, start, {1}, "vocab_start")))
      return failure();
    if (int64_t(*getVocabSize()) < tableType.getDimSize(0))
      return emitOpError() << "vocab_size " << *getVocabSize() << " is smaller than the "
                           << tableType.getDimSize(0) << " rows of the shard";
  }
  return success();
}

LogicalResult AllReduceOp::verify() {
  if (getPartsAttr().getInt() < 2)
    return emitOpError() << "parts " << getPartsAttr().getInt() << " must be at least 2";
  return success();
}

LogicalResult AllGatherOp::verify() {
  RankedTensorType input = rankedType(getInput()), result = rankedType(getResult());
  if (getPartsAttr().getInt() < 2)
    return emitOpError() << "parts " << getPartsAttr().getInt() << " must be at least 2";
  if (input.getRank() < 1 || input.getRank() != result.getRank() ||
      input.getElementType() != result.getElementType())
    return emitOpError() << "result must have the input's rank and element type";
  for (int64_t i = 0; i + 1 < input.getRank(); ++i)
    if (!dimsCompatible(input.getDimSize(i), result.getDimSize(i)))
      return emitOpError() << "dimension " << i << " must stay, got " << input << " -> " << result;
  int64_t last = input.getRank() - 1;
  if (input.isDynamicDim(last) ||
      result.getDimSize(last) != input.getDimSize(last) * getPartsAttr().getInt())
    return emitOpError() << "the last dimension must grow " << getPartsAttr().getInt()
                         << " times, got " << input << " -> " << result;
  return success();
}

LogicalResult RmsNormOp::verify() {
  return verifyRmsNorm(*this, getEpsilon(), getInput());
}

LogicalResult RmsNormOp::verifySymbolUses(SymbolTableCollection& tables) {
  return verifyNormWeight(*this, tables, getWeightAttr(), getInput());
}

LogicalResult LinearOp::verify() {
  RankedTensorType input = rankedType(getInput());
  RankedTensorType result = rankedType(getResult());
  if (input.getRank() < 1)
    return emitOpError("input must have at least one dimension");
  bool widening = input.getElementType().isBF16() && result.getElementType().isF32();
  if (input.getElementType() != result.getElementType() && !widening)
    return emitOpError() << "result element type " << result.getElementType()
                         << " must be the input's " << input.getElementType()
                         << " (or f32 for a bf16 input)";
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
