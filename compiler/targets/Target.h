#pragma once
// A compilation target: what it can run and how. The generic pipeline asks it which kernel each
// kernel-level op lowers to (fathom-lower-to-kernels), how to align the buffers it plans
// (fathom-plan-memory) and lets it add passes of its own. A new target is a folder here (its
// description) and one under runtime/backends (its kernels), plus one line in Targets.cpp.
#include "mlir/IR/Operation.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::fathom {

class Target {
public:
  virtual ~Target() = default;
  // The backend that runs the artifact ("cpu", "cuda"): the artifact's `target`.
  virtual llvm::StringRef name() const = 0;
  // The device generation the kernels were chosen for ("sm_90a"); empty where there is one
  // (the CPU picks its instructions at run time). The artifact's `target_arch`.
  virtual llvm::StringRef arch() const { return ""; }
  // How --target spells it: the name, or name:arch.
  std::string spelling() const {
    return arch().empty() ? name().str() : (name() + ":" + arch()).str();
  }
  // Alignment of every planned buffer's offset in the activation arena, in bytes.
  virtual uint64_t bufferAlignment() const { return 64; }
  // The kernel that runs `op` (a name the artifact emitter and the backend know), or failure
  // after reporting on `op` why this target cannot run it.
  virtual FailureOr<llvm::StringRef> kernelFor(Operation* op,
                                               SymbolTableCollection& symbols) const = 0;
  // Passes to run after the generic optimizations, before lowering.
  virtual void addPasses(OpPassManager& pm) const {}
};

// By spelling ("cpu", "cuda:sm_80"); a bare name is that target's default arch ("cuda" is
// "cuda:sm_90a"). Null when no target has that spelling.
const Target* lookupTarget(llvm::StringRef spelling);
// Every accepted spelling, defaults first.
std::vector<std::string> targetNames();

} // namespace mlir::fathom
