#pragma once
// Serializes a module that went through the pipeline (kernels chosen, memory planned) into the
// artifact's entry points: each op with a kernel becomes a KernelCall of the kernel ABI
// (runtime/artifact/Kernels.fbs) whose operands are Views into the entry point's buffers.
#include "Artifact_generated.h"

#include "mlir/IR/BuiltinOps.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace fathom::compiler {

struct EmittedProgram {
  std::vector<std::unique_ptr<artifact::fb::EntryPointT>> entryPoints;
  std::vector<std::unique_ptr<artifact::fb::CacheT>> caches;
  uint64_t arenaSize = 0; // max over the entry points
  uint64_t cacheBytesPerToken = 0;
  uint64_t kvCacheBytes = 0; // every cache at max_batch x max_seq_len
};

// `weightIndex` maps a param's symbol to its artifact tensor index. Throws fathom::Error naming
// the op it cannot serialize.
EmittedProgram emitEntryPoints(mlir::ModuleOp module,
                               const std::function<int32_t(llvm::StringRef)>& weightIndex);

// The params the entry points read (with the scales of quantized ones), in module order: what
// the artifact stores.
std::vector<std::string> storedParams(mlir::ModuleOp module);

} // namespace fathom::compiler
