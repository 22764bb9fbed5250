#include "compiler/targets/Target.h"
#include "dialects/fathom/FathomConventions.h"
#include "passes/Layout.h"
#include "passes/MemoryPlanner.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::fathom {

#define GEN_PASS_DEF_PLANMEMORYPASS
#include "passes/Passes.h.inc"

namespace {

struct Limits {
  int64_t maxBatch, maxSeqLen, maxTokens;
  uint64_t alignment;
};

LogicalResult planFunction(func::FuncOp function, const Limits& limits) {
  FailureOr<LayoutAnalysis> layouts = LayoutAnalysis::compute(function);
  if (failed(layouts))
    return failure();
  Block& body = function.getBody().front();
  auto returned = cast<func::ReturnOp>(body.getTerminator());
  llvm::DenseSet<Value> outputs(returned.getOperands().begin(), returned.getOperands().end());

  // Buffers: entry inputs and kernel results, in definition order.
  SmallVector<Value> owners;
  llvm::DenseMap<Value, size_t> index;
  std::vector<BufferLifetime> lifetimes;
  auto own = [&](Value value, int64_t call) {
    const ValueLayout& layout = layouts->of(value);
    if (!layout.ownsBuffer() || outputs.contains(value))
      return;
    uint64_t rows =
        uint64_t(maxRows(layout.rows, limits.maxBatch, limits.maxSeqLen, limits.maxTokens));
    uint64_t bytes = rows * uint64_t(layout.rowStride) * ::fathom::dtypeSize(layout.storage);
    index[value] = owners.size();
    owners.push_back(value);
    lifetimes.push_back({bytes, call, call});
  };
  for (BlockArgument argument : function.getArguments())
    own(argument, 0);
  int64_t call = 0;
  for (Operation& op : body) {
    for (Value operand : op.getOperands()) {
      Value base = layouts->of(operand).base;
      if (auto found = index.find(base); found != index.end())
        lifetimes[found->second].lastCall = call;
    }
    for (Value result : op.getResults())
      own(result, call);
    ++call;
  }
  for (Value output : outputs)
    if (!layouts->of(output).ownsBuffer())
      return function.emitOpError("must return a value that owns its buffer, not a view");

  Placement placement = placeBuffers(lifetimes, limits.alignment);
  Builder builder(function.getContext());
  auto offsetOf = [&](Value value) -> int64_t {
    auto found = index.find(value);
    return found == index.end() ? -1 : int64_t(placement.offsets[found->second]);
  };
  for (BlockArgument argument : function.getArguments())
    function.setArgAttr(argument.getArgNumber(), kArenaOffsetsAttr,
                        builder.getI64IntegerAttr(offsetOf(argument)));
  for (Operation& op : body) {
    if (op.getNumResults() == 0)
      continue;
    SmallVector<int64_t> offsets;
    for (Value result : op.getResults())
      offsets.push_back(offsetOf(result));
    op.setAttr(kArenaOffsetsAttr, builder.getDenseI64ArrayAttr(offsets));
  }
  function->setAttr(kArenaSizeAttr, builder.getI64IntegerAttr(int64_t(placement.arenaSize)));
  return success();
}

struct PlanMemoryPass : impl::PlanMemoryPassBase<PlanMemoryPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto batch = module->getAttrOfType<IntegerAttr>(kMaxBatchAttr);
    auto seqLen = module->getAttrOfType<IntegerAttr>(kMaxSeqLenAttr);
    if (!batch || !seqLen || batch.getInt() < 1 || seqLen.getInt() < 1) {
      module.emitError() << "needs positive " << kMaxBatchAttr << " and " << kMaxSeqLenAttr;
      return signalPassFailure();
    }
    uint64_t alignment = 64;
    if (auto spelling = module->getAttrOfType<StringAttr>(kTargetAttr)) {
      const Target* target = lookupTarget(spelling.getValue());
      if (!target) {
        module.emitError() << kTargetAttr << " names unknown target '" << spelling.getValue()
                           << "'";
        return signalPassFailure();
      }
      alignment = target->bufferAlignment();
    }
    for (func::FuncOp function : module.getOps<func::FuncOp>()) {
      if (!function->hasAttr(kEntryPointAttr))
        continue;
      for (Operation& op : function.getBody().front())
        if (!isa<func::ReturnOp>(op) && !op.hasAttr(kKernelAttr)) {
          op.emitOpError("has no kernel: run fathom-lower-to-kernels first");
          return signalPassFailure();
        }
      auto maxTokens = function->getAttrOfType<IntegerAttr>(kMaxTokensAttr);
      Limits limits{batch.getInt(), seqLen.getInt(),
                    maxTokens ? maxTokens.getInt() : seqLen.getInt(), alignment};
      if (failed(planFunction(function, limits)))
        return signalPassFailure();
    }
  }
};

} // namespace
} // namespace mlir::fathom
