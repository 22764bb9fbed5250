#pragma once
// The whole compile: a validated checkpoint -> fathom module -> program -> artifact file.
#include "fathom/frontend/Checkpoint.h"
#include "fathom/runtime/DType.h"

#include <functional>
#include <string>

namespace fathom::compiler {

struct CompileOptions {
  std::string target = "cpu";
  DType compute = DType::F32;
  int64_t maxSeqLen = 0; // 0: min(max_position_embeddings, 4096)
  int64_t maxBatch = 1;
};

// Called as weight bytes are written: (bytes done, bytes total).
using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;

struct CompileSummary {
  uint64_t weightBytes = 0;
  size_t tensors = 0;
  size_t kernelCalls = 0;
  uint64_t arenaBytes = 0;
  uint64_t kvCacheBytes = 0;
  int64_t maxSeqLen = 0;
};

// The module as text (fathom-compile --emit=mlir).
std::string emitMlir(const frontend::Checkpoint& checkpoint, const CompileOptions& options);

// Writes the artifact to `outputPath` (via `<outputPath>.partial`, renamed when complete).
// Throws fathom::Error naming the tensor, file or option at fault.
CompileSummary compileCheckpoint(const frontend::Checkpoint& checkpoint,
                                 const std::string& outputPath, const CompileOptions& options,
                                 const ProgressFn& progress = {});

} // namespace fathom::compiler
