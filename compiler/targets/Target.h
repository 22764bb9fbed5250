#pragma once
// A compilation target: what it can run and how. The generic pipeline asks it which kernel each
// kernel-level op lowers to (fathom-lower-to-kernels) and lets it add passes of its own. A new
// target is a folder here (its description) and one under runtime/backends (its kernels), plus
// one line in Targets.cpp.
#include "mlir/IR/Operation.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringRef.h"

#include <string>
#include <vector>

namespace mlir::fathom {

class Target {
public:
  virtual ~Target() = default;
  virtual llvm::StringRef name() const = 0;
  // The kernel that runs `op` (a name the artifact emitter and the backend know), or failure
  // after reporting on `op` why this target cannot run it.
  virtual FailureOr<llvm::StringRef> kernelFor(Operation* op,
                                               SymbolTableCollection& symbols) const = 0;
  // Passes to run after the generic optimizations, before lowering.
  virtual void addPasses(OpPassManager& pm) const {}
};

// Null when no target has that name.
const Target* lookupTarget(llvm::StringRef name);
std::vector<std::string> targetNames();

} // namespace mlir::fathom
