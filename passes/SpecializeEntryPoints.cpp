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
    SmallVector<func::FuncOp> models;
    for (auto function : module.getOps<func::FuncOp>())
      if (function->hasAttr(kEntryPointsAttr) || function.getSymName() == kModelFunction)
        models.push_back(function);
    for (func::FuncOp model : models)
      if (failed(specialize(module, model)))
        return signalPassFailure();
  }

  // Clones a model-level function into each of its entry points. A model function that states
  // its own max_tokens (the vision tower: the patches of one image) keeps it; otherwise decode
  // appends one token per sequence and the others take whole prompts.
  LogicalResult specialize(ModuleOp module, func::FuncOp model) {
    auto entries = model->getAttrOfType<ArrayAttr>(kEntryPointsAttr);
    auto maxSeqLen = module->getAttrOfType<IntegerAttr>(kMaxSeqLenAttr);
    if (!entries || entries.empty() || !maxSeqLen)
      return model.emitOpError() << "needs a non-empty " << kEntryPointsAttr << " and the module's "
                                 << kMaxSeqLenAttr;
    auto stated = model->getAttrOfType<IntegerAttr>(kMaxTokensAttr);
    OpBuilder builder(model);
    for (Attribute entry : entries) {
      auto name = dyn_cast<StringAttr>(entry);
      if (!name || module.lookupSymbol(name))
        return model.emitOpError() << "entry point " << entry << " is not a fresh name";
      auto clone = cast<func::FuncOp>(builder.clone(*model));
      clone.setSymName(name);
      clone->removeAttr(kEntryPointsAttr);
      clone->setAttr(kEntryPointAttr, name);
      int64_t maxTokens = stated                       ? stated.getInt()
                          : name.getValue() == kDecode ? 1
                                                       : maxSeqLen.getInt();
      clone->setAttr(kMaxTokensAttr, builder.getI64IntegerAttr(maxTokens));
    }
    model.erase();
    return success();
  }
};

} // namespace
} // namespace mlir::fathom
