#include "dialects/fathom/FathomConventions.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::fathom {

#define GEN_PASS_DEF_SPECIALIZEENTRYPOINTSPASS
#include "passes/Passes.h.inc"

namespace {

struct SpecializeEntryPointsPass : impl::SpecializeEntryPointsPassBase<SpecializeEntryPointsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto model = module.lookupSymbol<func::FuncOp>(kModelFunction);
    if (!model)
      return;
    auto entries = model->getAttrOfType<ArrayAttr>(kEntryPointsAttr);
    auto maxSeqLen = module->getAttrOfType<IntegerAttr>(kMaxSeqLenAttr);
    if (!entries || entries.empty() || !maxSeqLen) {
      model.emitOpError() << "needs a non-empty " << kEntryPointsAttr << " and the module's "
                          << kMaxSeqLenAttr;
      return signalPassFailure();
    }
    OpBuilder builder(model);
    for (Attribute entry : entries) {
      auto name = dyn_cast<StringAttr>(entry);
      if (!name || module.lookupSymbol(name)) {
        model.emitOpError() << "entry point " << entry << " is not a fresh name";
        return signalPassFailure();
      }
      auto clone = cast<func::FuncOp>(builder.clone(*model));
      clone.setSymName(name);
      clone->removeAttr(kEntryPointsAttr);
      clone->setAttr(kEntryPointAttr, name);
      // Decode appends one token per sequence; the others take whole prompts.
      int64_t maxTokens = name.getValue() == kDecode ? 1 : maxSeqLen.getInt();
      clone->setAttr(kMaxTokensAttr, builder.getI64IntegerAttr(maxTokens));
    }
    model.erase();
  }
};

} // namespace
} // namespace mlir::fathom
