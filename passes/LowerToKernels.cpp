#include "compiler/targets/Target.h"
#include "dialects/fathom/FathomConventions.h"
#include "passes/Layout.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::fathom {

#define GEN_PASS_DEF_LOWERTOKERNELSPASS
#include "passes/Passes.h.inc"

namespace {

struct LowerToKernelsPass : impl::LowerToKernelsPassBase<LowerToKernelsPass> {
  using LowerToKernelsPassBase::LowerToKernelsPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    const Target* chosen = lookupTarget(target);
    if (!chosen) {
      std::string known;
      for (const std::string& name : targetNames())
        known += (known.empty() ? "" : ", ") + name;
      module.emitError() << "unknown target '" << target << "' (known: " << known << ")";
      return signalPassFailure();
    }
    if (module.lookupSymbol<func::FuncOp>(kModelFunction)) {
      module.emitError() << "@" << kModelFunction
                         << " is still there: specialize the entry points first";
      return signalPassFailure();
    }
    Builder builder(module.getContext());
    module->setAttr(kTargetAttr, builder.getStringAttr(chosen->spelling()));
    SymbolTableCollection symbols;
    for (func::FuncOp function : module.getOps<func::FuncOp>()) {
      if (!function->hasAttr(kEntryPointAttr))
        continue;
      FailureOr<LayoutAnalysis> layouts = LayoutAnalysis::compute(function);
      if (failed(layouts))
        return signalPassFailure();
      for (Operation& op : function.getBody().front()) {
        if (isa<func::ReturnOp>(op))
          continue;
        StringRef kernel;
        if (auto merge = dyn_cast<MergeHeadsOp>(op); merge && layouts->mergeIsView(merge)) {
          kernel = kViewKernel;
        } else {
          FailureOr<StringRef> chosenKernel = chosen->kernelFor(&op, symbols);
          if (failed(chosenKernel))
            return signalPassFailure();
          kernel = *chosenKernel;
        }
        op.setAttr(kKernelAttr, builder.getStringAttr(kernel));
      }
    }
  }
};

} // namespace
} // namespace mlir::fathom
