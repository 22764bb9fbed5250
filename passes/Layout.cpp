#include "passes/Layout.h"

#include "dialects/fathom/FathomConventions.h"

namespace mlir::fathom {
namespace {

RankedTensorType rankedType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

// How many leading dims count rows: [batch, seq, ...] -> 2, [rows, ...] -> 1, static 1-D -> 0.
int64_t rowDims(RankedTensorType type) {
  if (type.getRank() >= 3)
    return 2;
  if (type.getRank() == 1 && type.hasStaticShape())
    return 0;
  if (type.getRank() == 2 && !type.isDynamicDim(1) && type.isDynamicDim(0))
    return 1;
  if (type.getRank() == 2)
    return 2;
  return 1;
}

} // namespace

int64_t rowElements(RankedTensorType type) {
  int64_t elements = 1;
  for (int64_t i = rowDims(type); i < type.getRank(); ++i)
    elements *= type.getDimSize(i);
  return elements;
}

FailureOr<::fathom::DType> storageDType(Type type) {
  using ::fathom::DType;
  if (type.isF32())
    return DType::F32;
  if (type.isBF16())
    return DType::BF16;
  if (type.isF16())
    return DType::F16;
  if (isa<Float8E4M3FNType>(type))
    return DType::F8E4M3;
  if (isa<Float8E5M2Type>(type))
    return DType::F8E5M2;
  if (type.isInteger(64))
    return DType::I64;
  if (type.isInteger(32))
    return DType::I32;
  if (type.isInteger(8))
    return DType::I8;
  if (type.isInteger(1))
    return DType::Bool;
  if (type.isUnsignedInteger(4))
    return DType::U4;
  return failure();
}

int64_t maxRows(const Rows& rows, int64_t maxBatch, int64_t maxSeqLen, int64_t maxTokens) {
  switch (rows.extent) {
  case RowExtent::Tokens:
  case RowExtent::HeadRows: // at most every position
  case RowExtent::ImageRows:
    return maxBatch * maxTokens * rows.multiplier;
  case RowExtent::Keys:
    return maxBatch * maxSeqLen * rows.multiplier;
  case RowExtent::Batch:
    return maxBatch * rows.multiplier;
  case RowExtent::Fixed:
    return rows.multiplier;
  }
  return 0;
}

const ValueLayout& LayoutAnalysis::of(Value value) const {
  auto found = layouts_.find(value);
  assert(found != layouts_.end() && "value outside the analysed function");
  return found->second;
}

bool LayoutAnalysis::mergeIsView(MergeHeadsOp op) const {
  const ValueLayout& input = of(op.getInput());
  return input.headStride == input.headDim;
}

LogicalResult LayoutAnalysis::add(Value value, ValueLayout layout) {
  layout.ownValue = value;
  layouts_[value] = layout;
  return success();
}

FailureOr<Rows> LayoutAnalysis::rowsOfResult(Operation* op, unsigned result) const {
  auto rowsOf = [&](Value value) { return of(value).rows; };
  if (isa<SelectRowsOp, GatherRowsOp>(op))
    return rowsOf(op->getOperand(1));
  if (isa<LastTokenRowsOp>(op))
    return Rows{RowExtent::Batch, 1};
  if (isa<PatchifyOp>(op)) // one image per sequence, its patches the tokens
    return Rows{RowExtent::Tokens, 1};
  if (isa<CacheAppendOp>(op))
    return Rows{RowExtent::Keys, 1};
  if (auto combine = dyn_cast<MoeCombineOp>(op))
    return rowsOf(combine.getIndices());
  if (auto dispatch = dyn_cast<MoeDispatchOp>(op)) {
    if (result == 0)
      return Rows{RowExtent::Fixed, 1};
    Rows tokens = rowsOf(dispatch.getIndices());
    int64_t topK = rankedType(dispatch.getIndices()).getShape().back();
    return Rows{tokens.extent, tokens.multiplier * topK};
  }
  if (op->getNumOperands() == 0)
    return op->emitOpError("has no operand to take its rows from");
  return rowsOf(op->getOperand(0));
}

LogicalResult LayoutAnalysis::visit(Operation* op) {
  if (isa<func::ReturnOp>(op))
    return success();
  if (auto slice = dyn_cast<SliceOp>(op)) {
    ValueLayout layout = of(slice.getInput());
    layout.offset += slice.getOffset();
    layout.headDim = slice.getSize();
    if (layout.heads == 1)
      layout.headStride = layout.headDim;
    return add(slice.getResult(), layout);
  }
  if (auto split = dyn_cast<SplitHeadsOp>(op)) {
    ValueLayout layout = of(split.getInput());
    RankedTensorType result = rankedType(split.getResult());
    layout.heads = result.getDimSize(2);
    layout.headDim = layout.headStride = result.getDimSize(3);
    return add(split.getResult(), layout);
  }
  if (auto merge = dyn_cast<MergeHeadsOp>(op); merge && mergeIsView(merge)) {
    ValueLayout layout = of(merge.getInput());
    layout.headDim = layout.headStride = layout.heads * layout.headDim;
    layout.heads = 1;
    return add(merge.getResult(), layout);
  }
  for (unsigned i = 0; i < op->getNumResults(); ++i) {
    Value result = op->getResult(i);
    auto type = dyn_cast<RankedTensorType>(result.getType());
    if (!type)
      return op->emitOpError("results must be ranked tensors");
    FailureOr<Rows> rows = rowsOfResult(op, i);
    FailureOr<::fathom::DType> storage = storageDType(type.getElementType());
    if (failed(rows) || failed(storage))
      return op->emitOpError() << "result " << i << " has no runtime layout (" << type << ")";
    ValueLayout layout;
    layout.rows = *rows;
    layout.storage = *storage;
    if (auto append = dyn_cast<CacheAppendOp>(op)) {
      layout.cache = append.getCacheAttr();
    } else {
      layout.base = result;
    }
    layout.rowStride = rowElements(type);
    if (type.getRank() == 4) {
      layout.heads = type.getDimSize(2);
      layout.headDim = layout.headStride = type.getDimSize(3);
    } else {
      layout.headDim = layout.headStride = layout.rowStride;
    }
    if (failed(add(result, layout)))
      return failure();
  }
  return success();
}

FailureOr<LayoutAnalysis> LayoutAnalysis::compute(func::FuncOp function) {
  LayoutAnalysis analysis;
  for (BlockArgument argument : function.getArguments()) {
    auto name = function.getArgAttrOfType<StringAttr>(argument.getArgNumber(), kInputAttr);
    auto type = dyn_cast<RankedTensorType>(argument.getType());
    if (!name || !type)
      return function.emitOpError() << "argument " << argument.getArgNumber()
                                    << " is not a named entry input (" << kInputAttr << ")";
    ValueLayout layout;
    StringRef input = name.getValue();
    if (input == kIdsInput || input == kPositionsInput)
      layout.rows = {RowExtent::Tokens, 1};
    else if (input == kKeyMaskInput)
      layout.rows = {RowExtent::Keys, 1};
    else if (input == kCacheStartInput || input == kPixelValuesInput)
      layout.rows = {RowExtent::Batch, 1};
    else if (input == kHeadRowsInput)
      layout.rows = {RowExtent::HeadRows, 1};
    else if (input == kImageEmbeddingsInput)
      layout.rows = {RowExtent::ImageRows, 1};
    else
      return function.emitOpError() << "unknown entry input '" << input << "'";
    FailureOr<::fathom::DType> storage = storageDType(type.getElementType());
    if (failed(storage))
      return function.emitOpError()
             << "entry input '" << input << "' has element type " << type.getElementType();
    layout.base = argument;
    layout.storage = *storage;
    layout.rowStride = layout.headDim = layout.headStride = rowElements(type);
    (void)analysis.add(argument, layout);
  }
  for (Operation& op : function.getBody().front())
    if (failed(analysis.visit(&op)))
      return failure();
  return analysis;
}

} // namespace mlir::fathom
