// Verifiers of the initializer's weight ops (FathomWeightOps.td).
#include "dialects/fathom/FathomDialect.h"
#include "dialects/fathom/VerifyUtils.h"

#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace mlir::fathom;
using namespace mlir::fathom::verify;

namespace {

RankedTensorType typeOf(Value value) {
  return cast<RankedTensorType>(value.getType());
}

LogicalResult sameElements(Operation* op, RankedTensorType a, RankedTensorType b) {
  if (a.getElementType() != b.getElementType())
    return op->emitOpError() << "element types differ: " << a.getElementType() << " vs "
                             << b.getElementType();
  return success();
}

bool isFloatStorage(Type type) {
  return type.isF32() || type.isBF16() || type.isF16();
}

// Packed INT4 codes (two per byte, rows byte-aligned): moving whole rows keeps the packing,
// anything that splits or reorders a row's elements does not.
bool isPacked(RankedTensorType type) {
  return type.getElementType().isUnsignedInteger(4);
}

LogicalResult keepsRows(Operation* op, RankedTensorType input, int64_t dim) {
  if (isPacked(input) && dim == input.getRank() - 1)
    return op->emitOpError("cannot split the rows of packed ui4 data (dimension ")
           << dim << " is the last)";
  return success();
}

LogicalResult notPacked(Operation* op, RankedTensorType input) {
  if (isPacked(input))
    return op->emitOpError("does not apply to packed ui4 data");
  return success();
}

} // namespace

LogicalResult InitializerOp::verify() {
  for (Operation& op : getOperation()->getParentOp()->getRegion(0).front())
    if (isa<InitializerOp>(op) && &op != getOperation() && op.isBeforeInBlock(getOperation()))
      return emitOpError("a module holds at most one initializer");
  llvm::StringSet<> defined;
  for (DefineParamOp define : getBlock().getOps<DefineParamOp>())
    if (!defined.insert(define.getParam()).second)
      return define.emitOpError() << "@" << define.getParam() << " is defined twice";
  return success();
}

LogicalResult ParamValueOp::verifySymbolUses(SymbolTableCollection& tables) {
  FailureOr<ParamOp> param = lookupParam(*this, tables, getParamAttr(), "param");
  if (failed(param))
    return failure();
  if (param->getTensorType() != getType())
    return emitOpError() << "result " << getType() << " must be @" << param->getSymName()
                         << "'s type " << param->getTensorType();
  return success();
}

LogicalResult DefineParamOp::verifySymbolUses(SymbolTableCollection& tables) {
  FailureOr<ParamOp> param = lookupParam(*this, tables, getParamAttr(), "param");
  if (failed(param))
    return failure();
  if (param->getSource())
    return emitOpError() << "@" << param->getSymName()
                         << " comes from the checkpoint; only a param without a source is derived";
  if (param->getTensorType() != getValue().getType())
    return emitOpError() << "value " << getValue().getType() << " must be @" << param->getSymName()
                         << "'s type " << param->getTensorType();
  return success();
}

LogicalResult WeightSliceOp::verify() {
  RankedTensorType input = typeOf(getInput()), result = typeOf(getResult());
  int64_t dim = getDimAttr().getInt(), offset = getOffsetAttr().getInt();
  int64_t size = getSizeAttr().getInt();
  if (dim < 0 || dim >= input.getRank())
    return emitOpError() << "dim " << dim << " is not a dimension of " << input;
  if (offset < 0 || size < 1 || offset > input.getDimSize(dim) ||
      size > input.getDimSize(dim) - offset)
    return emitOpError() << "a range of " << size << " at " << offset << " lies outside dimension "
                         << dim << " of " << input;
  SmallVector<int64_t> shape(input.getShape());
  shape[dim] = size;
  if (result.getShape() != ArrayRef<int64_t>(shape))
    return emitOpError() << "result must have shape of the slice, got " << result;
  if (failed(keepsRows(*this, input, dim)))
    return failure();
  return sameElements(*this, input, result);
}

LogicalResult WeightReshapeOp::verify() {
  RankedTensorType input = typeOf(getInput()), result = typeOf(getResult());
  if (input.getNumElements() != result.getNumElements())
    return emitOpError() << input << " and " << result << " hold different element counts";
  if (isPacked(input) &&
      (input.getRank() == 0 || result.getRank() == 0 || lastDim(input) != lastDim(result)))
    return emitOpError("keeps the rows of packed ui4 data: the last dimension must stay");
  return sameElements(*this, input, result);
}

LogicalResult WeightTransposeOp::verify() {
  RankedTensorType input = typeOf(getInput()), result = typeOf(getResult());
  if (input.getRank() < 2 || result.getRank() != input.getRank())
    return emitOpError("transposes the last two dimensions of a tensor of rank >= 2");
  SmallVector<int64_t> shape(input.getShape());
  std::swap(shape[shape.size() - 1], shape[shape.size() - 2]);
  if (result.getShape() != ArrayRef<int64_t>(shape))
    return emitOpError() << "result must be " << input << " with the last two dimensions swapped";
  if (failed(notPacked(*this, input)))
    return failure();
  return sameElements(*this, input, result);
}

LogicalResult WeightDeinterleaveRowsOp::verify() {
  RankedTensorType input = typeOf(getInput());
  if (input.getRank() < 1)
    return emitOpError("permutes rows of a tensor of rank >= 1");
  if (failed(notPacked(*this, input)))
    return failure();
  int64_t offset = getOffsetAttr().getInt(), size = getSizeAttr().getInt();
  int64_t period = getPeriodAttr().getInt();
  if (offset < 0 || size < 2 || size % 2 != 0 || period < size || offset > input.getDimSize(0) ||
      size > input.getDimSize(0) - offset)
    return emitOpError() << "window (offset " << offset << ", size " << size << ", period "
                         << period << ") must be even-sized, repeat no closer than its size "
                         << "and start inside the " << input.getDimSize(0) << " rows";
  return success();
}

LogicalResult WeightConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  RankedTensorType first = typeOf(getInputs()[0]), result = typeOf(getResult());
  int64_t dim = getDimAttr().getInt();
  if (dim < 0 || dim >= first.getRank())
    return emitOpError() << "dim " << dim << " is not a dimension of " << first;
  SmallVector<int64_t> shape(first.getShape());
  shape[dim] = 0;
  for (Value input : getInputs()) {
    RankedTensorType type = typeOf(input);
    if (type.getRank() != first.getRank() || type.getElementType() != first.getElementType())
      return emitOpError("inputs must share rank and element type");
    for (int64_t i = 0; i < type.getRank(); ++i)
      if (i != dim && type.getDimSize(i) != first.getDimSize(i))
        return emitOpError() << "inputs differ in dimension " << i;
    shape[dim] += type.getDimSize(dim);
  }
  if (result.getShape() != ArrayRef<int64_t>(shape))
    return emitOpError() << "result must have the joined shape";
  if (failed(keepsRows(*this, first, dim)))
    return failure();
  return sameElements(*this, first, result);
}

LogicalResult WeightConvertOp::verify() {
  RankedTensorType input = typeOf(getInput()), result = typeOf(getResult());
  if (input.getShape() != result.getShape())
    return emitOpError("keeps the shape");
  if (!isFloatStorage(input.getElementType()) || !isFloatStorage(result.getElementType()))
    return emitOpError("converts between f32, bf16 and f16");
  return success();
}

LogicalResult WeightDequantizeOp::verify() {
  RankedTensorType input = typeOf(getInput()), scale = typeOf(getScale());
  RankedTensorType result = typeOf(getResult());
  if (!isa<Float8E4M3FNType, Float8E5M2Type>(input.getElementType()) && !isPacked(input))
    return emitOpError() << "dequantizes f8E4M3FN, f8E5M2 or ui4 data, got "
                         << input.getElementType();
  if (isPacked(input) != bool(getZero()))
    return emitOpError("ui4 data comes with a zero point operand, and only ui4 data does");
  if (input.getRank() != 2 || input.getShape() != result.getShape() ||
      !(result.getElementType().isF32() || result.getElementType().isBF16()))
    return emitOpError("maps 2-D data to the same shape in f32 or bf16");
  const int64_t blockRows = getBlockRowsAttr().getInt(), blockCols = getBlockColsAttr().getInt();
  if (blockRows < 1 || blockCols < 1)
    return emitOpError("block sizes must be positive");
  BlockGrid grid = blockGridOf(input, blockRows, blockCols);
  if (!grid.holds(scale))
    return emitOpError() << "scale must be " << grid.type(getContext());
  if (getZero() && typeOf(getZero()) != RankedTensorType::get(grid.shape, input.getElementType()))
    return emitOpError() << "zero must be "
                         << RankedTensorType::get(grid.shape, input.getElementType());
  return success();
}

LogicalResult WeightQuantizeOp::verify() {
  RankedTensorType input = typeOf(getInput()), data = typeOf(getData());
  RankedTensorType scale = typeOf(getScale());
  if (input.getRank() != 2 || data.getShape() != input.getShape() ||
      !isa<Float8E4M3FNType>(data.getElementType()))
    return emitOpError("quantizes a 2-D tensor into f8E4M3FN data of the same shape");
  const int64_t blockRows = getBlockRowsAttr().getInt(), blockCols = getBlockColsAttr().getInt();
  if (blockRows < 1 || blockCols < 1)
    return emitOpError("block sizes must be positive");
  BlockGrid grid = blockGridOf(input, blockRows, blockCols);
  if (!grid.holds(scale))
    return emitOpError() << "scale must be " << grid.type(getContext());
  return success();
}

LogicalResult WeightGroupQuantizeOp::verify() {
  RankedTensorType input = typeOf(getInput()), data = typeOf(getData());
  if (input.getRank() != 2 || data.getShape() != input.getShape() || !isPacked(data) ||
      !isFloatStorage(input.getElementType()))
    return emitOpError("quantizes a 2-D float tensor into ui4 data of the same shape");
  const int64_t group = getGroupAttr().getInt();
  if (group < 1)
    return emitOpError("group size must be positive");
  BlockGrid grid = blockGridOf(input, 1, group);
  if (!grid.holds(typeOf(getScale())))
    return emitOpError() << "scale must be " << grid.type(getContext());
  if (typeOf(getZero()) != RankedTensorType::get(grid.shape, data.getElementType()))
    return emitOpError() << "zero must be "
                         << RankedTensorType::get(grid.shape, data.getElementType());
  return success();
}

LogicalResult WeightMatmulOp::verify() {
  RankedTensorType lhs = typeOf(getLhs()), rhs = typeOf(getRhs()), result = typeOf(getResult());
  int64_t rank = lhs.getRank();
  if (rank < 2 || rhs.getRank() != rank || result.getRank() != rank)
    return emitOpError("multiplies tensors of the same rank >= 2");
  for (int64_t i = 0; i + 2 < rank; ++i)
    if (lhs.getDimSize(i) != rhs.getDimSize(i) || result.getDimSize(i) != lhs.getDimSize(i))
      return emitOpError() << "batch dimension " << i << " differs";
  if (lhs.getDimSize(rank - 1) != rhs.getDimSize(rank - 2) ||
      result.getDimSize(rank - 2) != lhs.getDimSize(rank - 2) ||
      result.getDimSize(rank - 1) != rhs.getDimSize(rank - 1))
    return emitOpError() << "shapes " << lhs << " @ " << rhs << " -> " << result << " do not chain";
  return success();
}

LogicalResult RopeTableOp::verify() {
  RankedTensorType result = typeOf(getResult());
  if (result.getRank() != 2 || result.getDimSize(1) != getRope().getDim() / 2 ||
      !(result.getElementType().isF32() || result.getElementType().isBF16()))
    return emitOpError() << "result must be [positions, " << getRope().getDim() / 2
                         << "] of f32 or bf16, got " << result;
  return success();
}

namespace {

LogicalResult verifyParts(Operation* op, int64_t parts) {
  if (parts < 1)
    return op->emitOpError() << "parts " << parts << " must be at least 1";
  return success();
}

} // namespace

// A shard of packed ui4 data may split its rows: the evaluator moves codes one by one there.
LogicalResult WeightShardOp::verify() {
  RankedTensorType input = typeOf(getInput()), result = typeOf(getResult());
  int64_t dim = getDimAttr().getInt(), parts = getPartsAttr().getInt();
  if (failed(verifyParts(*this, parts)))
    return failure();
  if (dim < 0 || dim >= input.getRank())
    return emitOpError() << "dim " << dim << " is not a dimension of " << input;
  if (input.getDimSize(dim) % parts != 0)
    return emitOpError() << "dimension " << dim << " of " << input << " does not split into "
                         << parts << " parts";
  SmallVector<int64_t> shape(input.getShape());
  shape[dim] /= parts;
  if (result.getShape() != ArrayRef<int64_t>(shape))
    return emitOpError() << "result must have the shape of one part, got " << result;
  return sameElements(*this, input, result);
}

LogicalResult WeightSelectShardOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs one input per part");
  for (Value input : getInputs())
    if (input.getType() != getResult().getType())
      return emitOpError() << "every input must have the result's type " << getResult().getType()
                           << ", got " << input.getType();
  return success();
}

LogicalResult WeightShardFirstOp::verify() {
  return verifyParts(*this, getPartsAttr().getInt());
}

LogicalResult ShardStartOp::verify() {
  if (failed(verifyParts(*this, getPartsAttr().getInt())))
    return failure();
  if (getStrideAttr().getInt() < 0)
    return emitOpError() << "stride " << getStrideAttr().getInt() << " must not be negative";
  if (typeOf(getResult()).getShape() != ArrayRef<int64_t>{1})
    return emitOpError() << "result must be tensor<1xi64>, got " << getResult().getType();
  return success();
}
