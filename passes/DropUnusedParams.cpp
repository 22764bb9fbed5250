#include "passes/Passes.h"

#include "llvm/ADT/SmallVector.h"

namespace mlir::fathom {

#define GEN_PASS_DEF_DROPUNUSEDPARAMSPASS
#include "passes/Passes.h.inc"

namespace {

struct DropUnusedParamsPass : impl::DropUnusedParamsPassBase<DropUnusedParamsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Removing a param can orphan its scale, so sweep until nothing changes.
    bool changed = true;
    while (changed) {
      SymbolTableCollection tables;
      SymbolUserMap users(tables, module);
      llvm::SmallVector<ParamOp> unused;
      for (ParamOp param : module.getOps<ParamOp>())
        if (users.useEmpty(param))
          unused.push_back(param);
      for (ParamOp param : unused)
        param.erase();
      numDropped += unused.size();
      changed = !unused.empty();
    }
  }
};

} // namespace
} // namespace mlir::fathom
