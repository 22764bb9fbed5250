#pragma once
// Lowers a `fathom` module's @forward function into the flat program the runtime executes:
// one kernel call per op (the ABI in runtime/executor/.../ProgramAbi.h), the weights in the
// order the artifact stores them, and every intermediate value placed in one activation arena
// sized for the largest batch and sequence the artifact accepts.
#include "compiler/artifact/ArtifactWriter.h"

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fathom::compiler {

struct ProgramLimits {
  int64_t maxBatch = 1;
  int64_t maxSeqLen = 1;
};

struct LoweredWeight {
  std::string symbol; // the fathom.param's name (= the checkpoint tensor it comes from)
  DType dtype;
  std::vector<int64_t> shape;
  std::string scale; // block-quantized: the scale's symbol
  uint32_t blockRows = 0, blockCols = 0;
  std::string source;       // checkpoint tensor name
  int64_t sourceOffset = 0; // elements into the source where this weight starts
};

struct LoweredProgram {
  std::vector<artifact::KernelCallDesc> calls;
  std::vector<LoweredWeight> weights; // artifact tensor i = weights[i]
  std::vector<artifact::BufferDesc> buffers;
  int32_t output = 0;
  uint64_t arenaSize = 0;
  uint64_t kvCacheBytes = 0;
};

// Throws fathom::Error naming the op the CPU runtime cannot run.
LoweredProgram lowerToProgram(mlir::ModuleOp module, const ProgramLimits& limits);

// The module attribute the model builder sets to the checkpoint's model_type; the lowering
// picks DeepSeek-V2's complex-pair RoPE from it.
inline constexpr const char* kModelTypeAttr = "fathom.model_type";

} // namespace fathom::compiler
