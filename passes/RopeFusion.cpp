#include "passes/DerivedParams.h"
#include "passes/Passes.h"

namespace mlir::fathom {

#define GEN_PASS_DEF_ROPEFUSIONPASS
#include "passes/Passes.h.inc"

namespace {

// Where a rope's input sits in a projection's output: `count` windows of `size` columns, the
// first at column `offset`, one every `period` columns.
struct ColumnWindows {
  LinearOp projection;
  int64_t offset = 0, size = 0, period = 0, count = 1;
  bool overlaps(int64_t begin, int64_t end) const {
    for (int64_t k = 0; k < count; ++k)
      if (begin < offset + k * period + size && offset + k * period < end)
        return true;
    return false;
  }
};

int64_t lastDim(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape().back();
}

// Follows slices and split_heads back to the linear they view.
FailureOr<ColumnWindows> windowsOf(Value value) {
  ColumnWindows windows;
  windows.size = lastDim(value);
  int64_t headStride = 0;
  while (true) {
    Operation* def = value.getDefiningOp();
    if (auto slice = dyn_cast_or_null<SliceOp>(def)) {
      windows.offset += slice.getOffset();
      value = slice.getInput();
    } else if (auto split = dyn_cast_or_null<SplitHeadsOp>(def)) {
      auto type = cast<RankedTensorType>(split.getType());
      windows.count = type.getDimSize(2);
      headStride = type.getDimSize(3);
      value = split.getInput();
    } else if (auto linear = dyn_cast_or_null<LinearOp>(def)) {
      windows.projection = linear;
      windows.period = headStride ? headStride : lastDim(linear.getResult());
      return windows;
    } else {
      return failure();
    }
  }
}

// Every non-view use of `value` with the columns [begin, end) of the projection it reads.
void collectReaders(Value value, int64_t begin, int64_t headStride, int64_t heads, int64_t width,
                    SmallVectorImpl<std::tuple<Operation*, int64_t, int64_t>>& readers) {
  for (Operation* user : value.getUsers()) {
    if (auto slice = dyn_cast<SliceOp>(user)) {
      collectReaders(slice.getResult(), begin + slice.getOffset(), headStride, heads,
                     slice.getSize(), readers);
    } else if (auto split = dyn_cast<SplitHeadsOp>(user)) {
      auto type = cast<RankedTensorType>(split.getType());
      collectReaders(split.getResult(), begin, type.getDimSize(3), type.getDimSize(2),
                     type.getDimSize(3), readers);
    } else {
      // A reader of heads: the union of its per-head column ranges.
      for (int64_t h = 0; h < heads; ++h)
        readers.push_back({user, begin + h * headStride, begin + h * headStride + width});
    }
  }
}

// Whether the permutation can go into the projection's weight: the rope is the only reader of
// those columns, and FP8 rows stay inside their scale blocks.
bool canFold(RopeOp rope, ColumnWindows windows, ModuleOp module) {
  SmallVector<std::tuple<Operation*, int64_t, int64_t>> readers;
  collectReaders(windows.projection.getResult(), 0, 0, 1, lastDim(windows.projection.getResult()),
                 readers);
  for (auto [reader, begin, end] : readers)
    if (reader != rope.getOperation() && windows.overlaps(begin, end))
      return false;
  auto weight = module.lookupSymbol<ParamOp>(windows.projection.getWeightAttr());
  if (auto quant = weight.getQuantization()) {
    int64_t block = quant->getRows();
    for (int64_t k = 0; k < windows.count; ++k) {
      int64_t first = windows.offset + k * windows.period;
      if (first / block != (first + windows.size - 1) / block)
        return false;
    }
  }
  return true;
}

FlatSymbolRefAttr permutedParam(ModuleOp module, FlatSymbolRefAttr symbol,
                                const ColumnWindows& windows) {
  auto param = module.lookupSymbol<ParamOp>(symbol);
  std::string name = symbol.getValue().str() + ".rope_halves";
  return getOrCreateDerivedParam(
      module, name, param.getTensorType(),
      [&](OpBuilder& builder) -> Value {
        Value value = paramValue(builder, module, symbol);
        return WeightDeinterleaveRowsOp::create(
            builder, module.getLoc(), value, builder.getI64IntegerAttr(windows.offset),
            builder.getI64IntegerAttr(windows.size), builder.getI64IntegerAttr(windows.period));
      },
      param.getQuantization() ? param : ParamOp());
}

struct FoldCandidate {
  RopeOp rope;
  ColumnWindows windows;
};

// Interleaved ropes fold one by one (their output is in the rotate-half layout either way);
// complex ones all together or not at all (theirs changes from pairs to halves).
void foldLayouts(ModuleOp module, llvm::Statistic& folded) {
  SmallVector<FoldCandidate> interleaved, complex;
  bool everyComplexFolds = true;
  module.walk([&](RopeOp rope) {
    RopeMode mode = rope.getMode();
    if (mode != RopeMode::interleaved && mode != RopeMode::complex)
      return;
    FailureOr<ColumnWindows> windows = windowsOf(rope.getInput());
    bool ok = succeeded(windows) && canFold(rope, *windows, module);
    if (mode == RopeMode::complex)
      everyComplexFolds &= ok;
    if (ok)
      (mode == RopeMode::complex ? complex : interleaved).push_back({rope, *windows});
  });
  // A complex rope an earlier run fused into a kernel keeps its pairs layout, so the others
  // must keep theirs too.
  module.walk([&](Operation* op) {
    auto mode = op->getAttrOfType<RopeModeAttr>("rope_mode");
    if (isa<AttentionOp, CacheAppendOp>(op) && mode && mode.getValue() == RopeMode::complex)
      everyComplexFolds = false;
  });
  if (!everyComplexFolds)
    complex.clear();
  for (FoldCandidate& candidate : llvm::concat<FoldCandidate>(interleaved, complex)) {
    LinearOp projection = candidate.windows.projection;
    projection.setWeightAttr(permutedParam(module, projection.getWeightAttr(), candidate.windows));
    if (auto bias = projection.getBiasAttr())
      projection.setBiasAttr(permutedParam(module, bias, candidate.windows));
    RopeMode halves = candidate.rope.getMode() == RopeMode::complex ? RopeMode::complex_halves
                                                                    : RopeMode::rotate_half;
    candidate.rope.setModeAttr(RopeModeAttr::get(module.getContext(), halves));
    ++folded;
  }
}

// Attention rotates its query_rope on load.
bool fuseIntoAttention(RopeOp rope, AttentionOp attention) {
  if (attention.getQueryRope() != rope.getResult() || attention.getRopePositions())
    return false;
  OpBuilder builder(attention);
  auto fused = AttentionOp::create(
      builder, attention.getLoc(), attention.getType(), attention.getQuery(), rope.getInput(),
      attention.getKey(), attention.getKeyRope(), attention.getValue(), attention.getKeyMask(),
      attention.getQueryStart(), rope.getPositions(), attention.getScaleAttr(),
      attention.getCausalAttr(), rope.getCosAttr(), rope.getSinAttr(), rope.getModeAttr());
  attention.replaceAllUsesWith(fused.getResult());
  attention.erase();
  return true;
}

// cache_append rotates the piece on its way into the cache.
bool fuseIntoCacheAppend(RopeOp rope, CacheAppendOp append) {
  if (append.getRopePositions())
    return false;
  auto pieces = llvm::to_vector(append.getPieces());
  auto found = llvm::find(pieces, rope.getResult());
  if (found == pieces.end() || llvm::count(pieces, rope.getResult()) != 1)
    return false;
  int64_t index = found - pieces.begin();
  *found = rope.getInput();
  OpBuilder builder(append);
  auto fused = CacheAppendOp::create(builder, append.getLoc(), append.getType(),
                                     append.getCacheAttr(), pieces, append.getCacheStart(),
                                     rope.getPositions(), builder.getI64IntegerAttr(index),
                                     rope.getCosAttr(), rope.getSinAttr(), rope.getModeAttr());
  append.replaceAllUsesWith(fused.getResult());
  append.erase();
  return true;
}

struct RopeFusionPass : impl::RopeFusionPassBase<RopeFusionPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    foldLayouts(module, numFolded);
    SmallVector<RopeOp> ropes;
    module.walk([&](RopeOp rope) { ropes.push_back(rope); });
    for (RopeOp rope : ropes) {
      if (!rope->hasOneUse())
        continue;
      Operation* user = *rope->getUsers().begin();
      bool fused = false;
      if (auto attention = dyn_cast<AttentionOp>(user))
        fused = fuseIntoAttention(rope, attention);
      else if (auto append = dyn_cast<CacheAppendOp>(user))
        fused = fuseIntoCacheAppend(rope, append);
      if (fused) {
        rope.erase();
        ++numFused;
      }
    }
  }
};

} // namespace
} // namespace mlir::fathom
