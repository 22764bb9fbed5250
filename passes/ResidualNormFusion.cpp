#include "passes/Passes.h"

#include "llvm/ADT/SmallVector.h"

namespace mlir::fathom {

#define GEN_PASS_DEF_RESIDUALNORMFUSIONPASS
#include "passes/Passes.h.inc"

namespace {

// The first rms_norm (in program order) that normalizes the add's sum, if any.
RmsNormOp normOfSum(AddOp add) {
  RmsNormOp first;
  for (Operation* user : add->getUsers())
    if (auto norm = dyn_cast<RmsNormOp>(user);
        norm && norm->getBlock() == add->getBlock() && (!first || norm->isBeforeInBlock(first)))
      first = norm;
  return first;
}

void fuse(AddOp add, RmsNormOp norm) {
  // The fused op takes the add's place; the norm's users all come after the norm, which comes
  // after the add, so they still see their operand defined first.
  OpBuilder builder(add);
  auto fused =
      AddRmsNormOp::create(builder, norm.getLoc(), add.getType(), norm.getType(), add.getLhs(),
                           add.getRhs(), norm.getWeightAttr(), norm.getEpsilonAttr());
  norm.replaceAllUsesWith(fused.getResult());
  norm.erase();
  add.replaceAllUsesWith(fused.getSum());
  add.erase();
}

struct ResidualNormFusionPass : impl::ResidualNormFusionPassBase<ResidualNormFusionPass> {
  void runOnOperation() override {
    SmallVector<std::pair<AddOp, RmsNormOp>> pairs;
    getOperation().walk([&](AddOp add) {
      if (RmsNormOp norm = normOfSum(add))
        pairs.emplace_back(add, norm);
    });
    for (auto [add, norm] : pairs) {
      fuse(add, norm);
      ++numFused;
    }
  }
};

} // namespace
} // namespace mlir::fathom
