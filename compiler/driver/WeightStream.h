#pragma once
// Writes the artifact's weights: each stored param straight from its checkpoint tensor,
// converted to the stored dtype in fixed-size chunks, or, for a derived param, evaluated by the
// initializer on its own. Memory stays bounded by the largest few tensors.
#include "compiler/artifact/ArtifactWriter.h"
#include "compiler/driver/CompileCheckpoint.h"

#include "mlir/IR/BuiltinOps.h"

namespace fathom::compiler {

// Returns the weight bytes written. `stored` names the params in weight-index order. A sharded
// module's params whose value differs between ranks are evaluated once per rank, each rank's
// into a section of its own; the others go once into the shared section.

uint64_t writeWeights(mlir::ModuleOp module, const frontend::Checkpoint& checkpoint,
                      const std::vector<std::string>& stored, artifact::ArtifactWriter& writer,
                      const ProgressFn& progress, bool synthetic = false);

// The ranks a module is compiled for (fathom-shard's fathom.world_size; 1 when unsharded).
int64_t worldSizeOf(mlir::ModuleOp module);

} // namespace fathom::compiler
