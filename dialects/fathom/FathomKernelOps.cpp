// Verifiers of the kernel-level fathom ops (FathomKernelOps.td).
#include "dialects/fathom/FathomDialect.h"
#include "dialects/fathom/VerifyUtils.h"

using namespace mlir;
using namespace mlir::fathom;
using namespace mlir::fathom::verify;

namespace {

LogicalResult verifyVector(Operation* op, Value value, StringRef what) {
  auto type = cast<ShapedType>(value.getType());
  if (!type.hasRank() || type.getRank() != 1)
    return op->emitOpError() << what << " must be one-dimensional, got " << value.getType();
  return success();
}

// A [positions, dim / 2] table of the activation dtype (or f32 for the complex modes).
LogicalResult verifyRopeTable(Operation* op, SymbolTableCollection& tables, FlatSymbolRefAttr table,
                              int64_t dim, Type activation, RopeMode mode, StringRef role) {
  FailureOr<ParamOp> param = lookupParam(op, tables, table, role);
  if (failed(param))
    return failure();
  RankedTensorType type = param->getTensorType();
  bool complex = mode == RopeMode::complex || mode == RopeMode::complex_halves;
  Type element = complex ? Float32Type::get(op->getContext()) : activation;
  if (type.getRank() != 2 || !dimsCompatible(type.getDimSize(1), dim / 2) ||
      type.getElementType() != element)
    return op->emitOpError() << role << " @" << param->getSymName() << " must be [positions, "
                             << dim / 2 << "] of " << element << ", got " << type;
  return success();
}

LogicalResult verifyFusedRope(Operation* op, SymbolTableCollection& tables, Value positions,
                              FlatSymbolRefAttr cos, FlatSymbolRefAttr sin,
                              std::optional<RopeMode> mode, Value rotated) {
  bool any = positions || cos || sin || mode;
  if (!any)
    return success();
  if (!positions || !cos || !sin || !mode)
    return op->emitOpError("a fused rope needs rope positions, rope_cos, rope_sin and rope_mode");
  RankedTensorType type = rankedType(rotated);
  if (failed(verifyRopeTable(op, tables, cos, lastDim(type), type.getElementType(), *mode,
                             "rope_cos")) ||
      failed(verifyRopeTable(op, tables, sin, lastDim(type), type.getElementType(), *mode,
                             "rope_sin")))
    return failure();
  return success();
}

} // namespace

LogicalResult SliceOp::verify() {
  RankedTensorType input = rankedType(getInput()), result = rankedType(getResult());
  if (input.getRank() < 1 || result.getRank() != input.getRank())
    return emitOpError() << "slices the last dimension of a tensor of rank >= 1 into one of the "
                            "same rank, got "
                         << input << " -> " << result;
  int64_t width = lastDim(input), offset = getOffsetAttr().getInt(), size = getSizeAttr().getInt();
  if (ShapedType::isDynamic(width))
    return emitOpError("the sliced (last) dimension must be static");
  if (offset < 0 || size < 1 || offset > width || size > width - offset)
    return emitOpError() << "window of " << size << " at " << offset
                         << " lies outside the last dimension of size " << width;
  if (lastDim(result) != size || result.getElementType() != input.getElementType())
    return emitOpError() << "result must be the input with last dimension " << size << ", got "
                         << result;
  return verifyLeadingDims(*this, input, result);
}

OpFoldResult SliceOp::fold(FoldAdaptor) {
  if (getOffsetAttr().getInt() == 0 && getSizeAttr().getInt() == lastDim(rankedType(getInput())))
    return getInput();
  return {};
}

LogicalResult SplitHeadsOp::verify() {
  RankedTensorType input = rankedType(getInput()), result = rankedType(getResult());
  if (input.getRank() != 3 || result.getRank() != 4)
    return emitOpError("splits [batch, seq, heads * dim] into [batch, seq, heads, dim]");
  if (result.isDynamicDim(2) || result.isDynamicDim(3) ||
      lastDim(input) != result.getDimSize(2) * result.getDimSize(3))
    return emitOpError() << "heads x dim of " << result << " must equal the width of " << input;
  if (!dimsCompatible(input.getDimSize(0), result.getDimSize(0)) ||
      !dimsCompatible(input.getDimSize(1), result.getDimSize(1)) ||
      input.getElementType() != result.getElementType())
    return emitOpError("batch, seq and element type must be kept");
  return success();
}

LogicalResult MergeHeadsOp::verify() {
  RankedTensorType input = rankedType(getInput()), result = rankedType(getResult());
  if (input.getRank() != 4 || result.getRank() != 3)
    return emitOpError("merges [batch, seq, heads, dim] into [batch, seq, heads * dim]");
  if (input.isDynamicDim(2) || input.isDynamicDim(3) ||
      lastDim(result) != input.getDimSize(2) * input.getDimSize(3))
    return emitOpError() << "the width of " << result << " must be heads x dim of " << input;
  if (!dimsCompatible(input.getDimSize(0), result.getDimSize(0)) ||
      !dimsCompatible(input.getDimSize(1), result.getDimSize(1)) ||
      input.getElementType() != result.getElementType())
    return emitOpError("batch, seq and element type must be kept");
  return success();
}

OpFoldResult MergeHeadsOp::fold(FoldAdaptor) {
  if (auto split = getInput().getDefiningOp<SplitHeadsOp>())
    if (split.getInput().getType() == getType())
      return split.getInput();
  return {};
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
  int64_t dim = lastDim(input);
  if (ShapedType::isDynamic(dim))
    return emitOpError("the rotated (last) dimension must be static");
  if (dim % 2 != 0)
    return emitOpError() << "the rotated dimension must be even, got " << dim;
  return success();
}

LogicalResult RopeOp::verifySymbolUses(SymbolTableCollection& tables) {
  RankedTensorType input = rankedType(getInput());
  if (failed(verifyRopeTable(*this, tables, getCosAttr(), lastDim(input), input.getElementType(),
                             getMode(), "cos")) ||
      failed(verifyRopeTable(*this, tables, getSinAttr(), lastDim(input), input.getElementType(),
                             getMode(), "sin")))
    return failure();
  return success();
}

LogicalResult AttentionOp::verify() {
  RankedTensorType query = rankedType(getQuery()), key = rankedType(getKey());
  RankedTensorType value = rankedType(getValue()), result = rankedType(getResult());
  if (query.getRank() != 4 || key.getRank() != 4 || value.getRank() != 4 || result.getRank() != 4)
    return emitOpError("query, key, value and result must be [batch, len, heads, dim]");
  if (!(getScale().convertToFloat() > 0.0f))
    return emitOpError("scale must be positive");
  for (Value operand : {getQuery(), getKey(), getValue(), getResult()})
    if (!isa<FloatType>(rankedType(operand).getElementType()))
      return emitOpError("query, key, value and result must hold floats");
  if (bool(getQueryRope()) != bool(getKeyRope()))
    return emitOpError("query_rope and key_rope come together");
  auto mismatch = [&](StringRef what, int64_t a, int64_t b) {
    return emitOpError() << what << ": " << a << " vs " << b;
  };
  for (RankedTensorType other : {key, value, result})
    if (!dimsCompatible(query.getDimSize(0), other.getDimSize(0)))
      return mismatch("batch sizes differ", query.getDimSize(0), other.getDimSize(0));
  if (!dimsCompatible(key.getDimSize(1), value.getDimSize(1)))
    return mismatch("key and value lengths differ", key.getDimSize(1), value.getDimSize(1));
  if (!dimsCompatible(query.getDimSize(3), key.getDimSize(3)))
    return mismatch("query and key head dims differ", query.getDimSize(3), key.getDimSize(3));
  int64_t heads = query.getDimSize(2);
  if (ShapedType::isDynamic(heads) || heads < 1)
    return emitOpError("the head count must be static and positive");
  auto divides = [&](RankedTensorType type, StringRef what) -> LogicalResult {
    int64_t count = type.getDimSize(2);
    if (ShapedType::isDynamic(count) || count < 1 || heads % count != 0)
      return mismatch(("query heads must be a multiple of the " + what + " heads").str(), heads,
                      count);
    return success();
  };
  if (failed(divides(key, "key")) || failed(divides(value, "value")))
    return failure();
  if (Value queryRope = getQueryRope()) {
    RankedTensorType qr = rankedType(queryRope), kr = rankedType(getKeyRope());
    if (!isa<FloatType>(qr.getElementType()) || !isa<FloatType>(kr.getElementType()))
      return emitOpError("query_rope and key_rope must hold floats");
    if (qr.getRank() != 4 || kr.getRank() != 4 || !dimsCompatible(qr.getDimSize(2), heads) ||
        !dimsCompatible(qr.getDimSize(0), query.getDimSize(0)) ||
        !dimsCompatible(kr.getDimSize(0), key.getDimSize(0)) ||
        !dimsCompatible(qr.getDimSize(3), kr.getDimSize(3)) ||
        !dimsCompatible(qr.getDimSize(1), query.getDimSize(1)) ||
        !dimsCompatible(kr.getDimSize(1), key.getDimSize(1)))
      return emitOpError() << "query_rope " << qr << " and key_rope " << kr
                           << " must match the query's and key's lengths and heads";
    if (failed(divides(kr, "key_rope")))
      return failure();
  } else if (getRopePositions()) {
    return emitOpError("a fused rope rotates query_rope, which is absent");
  }
  if (!dimsCompatible(result.getDimSize(1), query.getDimSize(1)) ||
      !dimsCompatible(result.getDimSize(2), heads) ||
      !dimsCompatible(result.getDimSize(3), value.getDimSize(3)))
    return emitOpError() << "result must be [batch, query len, heads, value dim], got " << result;
  auto maskType = cast<ShapedType>(getKeyMask().getType());
  if (!maskType.hasRank() || maskType.getRank() != 2 ||
      !dimsCompatible(maskType.getDimSize(0), key.getDimSize(0)) ||
      !dimsCompatible(maskType.getDimSize(1), key.getDimSize(1)))
    return emitOpError() << "key_mask must be [batch, key len], got " << maskType;
  if (Value start = getQueryStart()) {
    if (failed(verifyVector(*this, start, "query_start")))
      return failure();
    if (!dimsCompatible(rankedType(start).getDimSize(0), query.getDimSize(0)))
      return emitOpError("query_start must hold one start per sequence");
  }
  if (Value positions = getRopePositions()) {
    RankedTensorType type = rankedType(positions);
    if (type.getRank() != 2 || !dimsCompatible(type.getDimSize(0), query.getDimSize(0)) ||
        !dimsCompatible(type.getDimSize(1), query.getDimSize(1)))
      return emitOpError() << "rope positions must be [batch, query len], got " << type;
  }
  return success();
}

LogicalResult AttentionOp::verifySymbolUses(SymbolTableCollection& tables) {
  return verifyFusedRope(*this, tables, getRopePositions(), getRopeCosAttr(), getRopeSinAttr(),
                         getRopeMode(), getQueryRope() ? getQueryRope() : getQuery());
}

LogicalResult CacheOp::verify() {
  RankedTensorType row = getRowType();
  if (row.getRank() != 1 || row.getDimSize(0) < 1)
    return emitOpError() << "a cache row is a non-empty vector, got " << row;
  return success();
}

LogicalResult CacheAppendOp::verify() {
  if (getPieces().empty())
    return emitOpError("needs at least one piece");
  RankedTensorType result = rankedType(getResult());
  if (result.getRank() != 3)
    return emitOpError("yields the cache as [batch, keys, row]");
  RankedTensorType first = rankedType(getPieces().front());
  for (Value piece : getPieces()) {
    RankedTensorType type = rankedType(piece);
    if (type.getRank() != 3 || type.getElementType() != result.getElementType() ||
        !dimsCompatible(type.getDimSize(0), result.getDimSize(0)) ||
        !dimsCompatible(type.getDimSize(1), first.getDimSize(1)))
      return emitOpError() << "piece " << type << " must be [batch, seq, width] of "
                           << result.getElementType() << " like the others";
  }
  if (failed(verifyVector(*this, getCacheStart(), "cache_start")))
    return failure();
  if (!dimsCompatible(rankedType(getCacheStart()).getDimSize(0), result.getDimSize(0)))
    return emitOpError("cache_start must hold one start per sequence");
  if (Value positions = getRopePositions()) {
    RankedTensorType type = rankedType(positions);
    if (type.getRank() != 2 || !dimsCompatible(type.getDimSize(0), first.getDimSize(0)) ||
        !dimsCompatible(type.getDimSize(1), first.getDimSize(1)))
      return emitOpError() << "rope positions must be [batch, seq], got " << type;
  }
  bool any = getRopePositions() || getRopePieceAttr() || getRopeCosAttr() || getRopeSinAttr() ||
             getRopeModeAttr();
  bool all = getRopePositions() && getRopePieceAttr() && getRopeCosAttr() && getRopeSinAttr() &&
             getRopeModeAttr();
  if (any && !all)
    return emitOpError("a fused rope needs rope positions, rope_piece, rope_cos, rope_sin and "
                       "rope_mode");
  if (auto piece = getRopePieceAttr()) {
    if (piece.getInt() < 0 || piece.getInt() >= int64_t(getPieces().size()))
      return emitOpError() << "rope_piece " << piece.getInt() << " is not one of the "
                           << getPieces().size() << " pieces";
  }
  return success();
}

LogicalResult CacheAppendOp::verifySymbolUses(SymbolTableCollection& tables) {
  auto cache = tables.lookupNearestSymbolFrom<CacheOp>(*this, getCacheAttr());
  if (!cache)
    return emitOpError() << getCacheAttr() << " does not name a fathom.cache";
  RankedTensorType row = cache.getRowType();
  int64_t width = 0;
  for (Value piece : getPieces())
    width += lastDim(rankedType(piece));
  RankedTensorType result = rankedType(getResult());
  if (width != row.getDimSize(0) || lastDim(result) != row.getDimSize(0) ||
      result.getElementType() != row.getElementType())
    return emitOpError() << "pieces of total width " << width << " and result " << result
                         << " must fill cache @" << cache.getSymName() << " rows of " << row;
  if (!getRopePieceAttr())
    return success();
  return verifyFusedRope(*this, tables, getRopePositions(), getRopeCosAttr(), getRopeSinAttr(),
                         getRopeMode(), getPieces()[getRopePieceAttr().getInt()]);
}

LogicalResult HeadMatmulOp::verify() {
  RankedTensorType input = rankedType(getInput()), result = rankedType(getResult());
  if (input.getRank() != 4 || result.getRank() != 4)
    return emitOpError("maps [batch, seq, heads, in] to [batch, seq, heads, out]");
  for (int64_t i = 0; i < 3; ++i)
    if (!dimsCompatible(input.getDimSize(i), result.getDimSize(i)))
      return emitOpError() << "result dimension " << i << " must be the input's";
  return success();
}

LogicalResult HeadMatmulOp::verifySymbolUses(SymbolTableCollection& tables) {
  RankedTensorType input = rankedType(getInput()), result = rankedType(getResult());
  if (input.isDynamicDim(2) || input.isDynamicDim(3) || result.isDynamicDim(3))
    return emitOpError("heads and head dims must be static");
  return verifyParamShape(*this, tables, getWeightAttr(),
                          {input.getDimSize(2), lastDim(result), lastDim(input)}, "weight");
}

LogicalResult SelectRowsOp::verify() {
  RankedTensorType input = rankedType(getInput()), result = rankedType(getResult());
  if (input.getRank() != 3 || result.getRank() != 2 || lastDim(input) != lastDim(result) ||
      input.getElementType() != result.getElementType())
    return emitOpError() << "gathers [batch, seq, width] into [rows, width], got " << input
                         << " -> " << result;
  return verifyVector(*this, getRows(), "rows");
}

LogicalResult MoeRouteOp::verify() {
  RankedTensorType logits = rankedType(getLogits());
  if (logits.getRank() < 1)
    return emitOpError("logits must be [tokens..., experts]");
  int64_t topK = getTopKAttr().getInt(), groups = getNGroupAttr().getInt();
  int64_t keptGroups = getTopkGroupAttr().getInt();
  int64_t experts = lastDim(logits);
  if (ShapedType::isDynamic(experts))
    return emitOpError("the expert count (last logits dimension) must be static");
  if (topK < 1 || groups < 1 || keptGroups < 1 || keptGroups > groups || experts % groups != 0 ||
      topK > experts / groups * keptGroups)
    return emitOpError() << "top_k " << topK << ", n_group " << groups << " and topk_group "
                         << keptGroups << " do not fit " << experts << " experts";
  if (!(getRoutedScalingFactor().convertToFloat() > 0))
    return emitOpError("routed_scaling_factor must be positive");
  for (Value routing : {getWeights(), getIndices()}) {
    RankedTensorType type = rankedType(routing);
    if (type.getRank() != logits.getRank() || lastDim(type) != topK)
      return emitOpError() << "weights and indices must be [tokens..., " << topK << "]";
    for (int64_t i = 0; i + 1 < type.getRank(); ++i)
      if (!dimsCompatible(type.getDimSize(i), logits.getDimSize(i)))
        return emitOpError() << "weights and indices must have the logits' token dims";
  }
  return success();
}

LogicalResult MoeRouteOp::verifySymbolUses(SymbolTableCollection& tables) {
  if (!getScoreBiasAttr())
    return success();
  return verifyParamShape(*this, tables, getScoreBiasAttr(), {lastDim(rankedType(getLogits()))},
                          "score_bias");
}

LogicalResult MoeDispatchOp::verify() {
  int64_t experts = getNumExpertsAttr().getInt();
  if (experts < 1 || experts >= (int64_t(1) << 31))
    return emitOpError("needs between 1 and 2^31 - 1 experts (offsets are i32)");
  auto offsets = rankedType(getOffsets());
  if (offsets.getRank() != 1 || offsets.getDimSize(0) != experts + 1)
    return emitOpError() << "offsets must be [" << experts + 1 << "]";
  if (failed(verifyVector(*this, getRowToken(), "row_token")) ||
      failed(verifyVector(*this, getSlotRow(), "slot_row")))
    return failure();
  return success();
}

LogicalResult GatherRowsOp::verify() {
  RankedTensorType input = rankedType(getInput()), result = rankedType(getResult());
  if (input.getRank() < 2 || result.getRank() != 2 || lastDim(input) != lastDim(result) ||
      input.getElementType() != result.getElementType())
    return emitOpError() << "gathers rows of " << input << " into [rows, width], got " << result;
  return verifyVector(*this, getRows(), "rows");
}

LogicalResult ExpertLinearOp::verify() {
  RankedTensorType input = rankedType(getInput()), result = rankedType(getResult());
  if (getWeights().empty())
    return emitOpError("needs one weight per expert");
  if (input.getRank() != 2 || result.getRank() != 2 ||
      input.getElementType() != result.getElementType())
    return emitOpError("maps grouped rows [rows, in] to [rows, out] of the same element type");
  auto offsets = rankedType(getOffsets());
  if (offsets.getRank() != 1 || offsets.getDimSize(0) != int64_t(getWeights().size()) + 1)
    return emitOpError() << "offsets must be [" << getWeights().size() + 1
                         << "], one past each expert's weight";
  return success();
}

LogicalResult ExpertLinearOp::verifySymbolUses(SymbolTableCollection& tables) {
  RankedTensorType input = rankedType(getInput()), result = rankedType(getResult());
  for (Attribute weight : getWeights())
    if (failed(verifyParamShape(*this, tables, cast<FlatSymbolRefAttr>(weight),
                                {lastDim(result), lastDim(input)}, "expert weight")))
      return failure();
  return success();
}

namespace {

// Grouped rows [rows, in] -> [rows, out] of one element type, offsets [experts + 1].
LogicalResult verifyGroupedRows(Operation* op, Value input, Value offsets, Value result) {
  RankedTensorType in = rankedType(input), out = rankedType(result);
  if (in.getRank() != 2 || out.getRank() != 2 || in.getElementType() != out.getElementType() ||
      !dimsCompatible(in.getDimSize(0), out.getDimSize(0)))
    return op->emitOpError("maps grouped rows [rows, in] to [rows, out] of the same element type");
  if (rankedType(offsets).getRank() != 1)
    return op->emitOpError("offsets must be a vector [experts + 1]");
  return success();
}

// A stacked expert weight: [experts] + matrixShape, with offsets [experts + 1].
LogicalResult verifyStackedWeight(Operation* op, SymbolTableCollection& tables,
                                  FlatSymbolRefAttr symbol, Value offsets,
                                  ArrayRef<int64_t> matrixShape) {
  FailureOr<ParamOp> weight = lookupParam(op, tables, symbol, "weight");
  if (failed(weight))
    return failure();
  int64_t experts =
      weight->getTensorType().getRank() > 0 ? weight->getTensorType().getDimSize(0) : 0;
  SmallVector<int64_t> shape{experts};
  shape.append(matrixShape.begin(), matrixShape.end());
  if (failed(verifyParamShape(op, tables, symbol, shape, "stacked expert weight")))
    return failure();
  if (!dimsCompatible(rankedType(offsets).getDimSize(0), experts + 1))
    return op->emitOpError() << "offsets must be [" << experts + 1 << "], one past each expert";
  return success();
}

} // namespace

LogicalResult GroupedGateUpOp::verify() {
  return verifyGroupedRows(*this, getInput(), getOffsets(), getResult());
}

LogicalResult GroupedGateUpOp::verifySymbolUses(SymbolTableCollection& tables) {
  return verifyStackedWeight(
      *this, tables, getWeightAttr(), getOffsets(),
      {2, lastDim(rankedType(getResult())), lastDim(rankedType(getInput()))});
}

LogicalResult GroupedLinearOp::verify() {
  return verifyGroupedRows(*this, getInput(), getOffsets(), getResult());
}

LogicalResult GroupedLinearOp::verifySymbolUses(SymbolTableCollection& tables) {
  return verifyStackedWeight(*this, tables, getWeightAttr(), getOffsets(),
                             {lastDim(rankedType(getResult())), lastDim(rankedType(getInput()))});
}

LogicalResult MoeCombineOp::verify() {
  RankedTensorType expertOut = rankedType(getExpertOut()), result = rankedType(getResult());
  if (expertOut.getRank() != 2 || result.getRank() != 3 || lastDim(expertOut) != lastDim(result) ||
      expertOut.getElementType() != result.getElementType())
    return emitOpError("combines grouped rows [rows, width] into [batch, seq, width]");
  RankedTensorType indices = rankedType(getIndices());
  if (indices.getShape() != rankedType(getWeights()).getShape())
    return emitOpError("indices and weights must have the same shape");
  if (indices.getRank() != 3 || !dimsCompatible(indices.getDimSize(0), result.getDimSize(0)) ||
      !dimsCompatible(indices.getDimSize(1), result.getDimSize(1)))
    return emitOpError("indices and weights must be [batch, seq, top_k] like the result's tokens");
  return verifyVector(*this, getSlotRow(), "slot_row");
}

LogicalResult LastTokenRowsOp::verify() {
  auto ids = rankedType(getIds()), rows = rankedType(getRows());
  if (ids.getRank() != 2 || rows.getRank() != 1 || !rows.getElementType().isInteger(64) ||
      !dimsCompatible(ids.getDimSize(0), rows.getDimSize(0)))
    return emitOpError() << "maps ids [batch, seq] to one i64 row per sequence, got " << ids
                         << " -> " << rows;
  return success();
}

LogicalResult AddRmsNormOp::verify() {
  return verifyRmsNorm(*this, getEpsilon(), getLhs());
}

LogicalResult AddRmsNormOp::verifySymbolUses(SymbolTableCollection& tables) {
  return verifyNormWeight(*this, tables, getWeightAttr(), getLhs());
}
