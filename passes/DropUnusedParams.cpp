#include "passes/Passes.h"

#include "llvm/ADT/SmallVector.h"

namespace mlir::fathom {

#define GEN_PASS_DEF_DROPUNUSEDPARAMSPASS
#include "passes/Passes.h.inc"

namespace {

// Pure initializer ops whose results nothing reads any more.
void eraseDeadInitializerOps(ModuleOp module) {
  for (InitializerOp initializer : module.getOps<InitializerOp>()) {
    bool changed = true;
    while (changed) {
      changed = false;
      for (Operation& op : llvm::make_early_inc_range(llvm::reverse(initializer.getBlock())))
        if (!isa<DefineParamOp>(op) && op.use_empty()) {
          op.erase();
          changed = true;
        }
    }
  }
  for (InitializerOp initializer : llvm::make_early_inc_range(module.getOps<InitializerOp>()))
    if (initializer.getBlock().empty())
      initializer.erase();
}

struct DropUnusedParamsPass : impl::DropUnusedParamsPassBase<DropUnusedParamsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Removing a param can orphan its scale or what its definition read: sweep until stable.
    bool changed = true;
    while (changed) {
      SymbolTableCollection tables;
      SymbolUserMap users(tables, module);
      llvm::SmallVector<ParamOp> unused;
      for (ParamOp param : module.getOps<ParamOp>()) {
        bool used = llvm::any_of(users.getUsers(param), [&](Operation* user) {
          auto define = dyn_cast<DefineParamOp>(user);
          return !define || define.getParam() != param.getSymName();
        });
        if (!used)
          unused.push_back(param);
      }
      for (ParamOp param : unused) {
        for (Operation* user : llvm::to_vector(users.getUsers(param)))
          user->erase();
        param.erase();
      }
      eraseDeadInitializerOps(module);
      numDropped += unused.size();
      changed = !unused.empty();
    }
  }
};

} // namespace
} // namespace mlir::fathom
