#pragma once
// deepseek_v3 / deepseek_v2 config + checkpoint weights -> a `fathom` module at the model level.
#include "fathom/frontend/ModelConfig.h"
#include "fathom/frontend/WeightCatalog.h"
#include "fathom/runtime/DType.h"
#include "models/BuilderSupport.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace fathom::models {

// Emits one `fathom.param` per checkpoint tensor the network reads and one model-level function
// `@model` whose `fathom.entry_points` attribute names the entry points it stands for (prefill
// and decode, or classify); fathom-specialize-entry-points clones it into each. Its arguments
// are the run-time inputs, each named by a `fathom.input` argument attribute:
//   causal LM:  ids [batch, seq] i64, positions [batch, seq] i64, key_mask [batch, keys] i1,
//               cache_start [batch] i64, head_rows [rows] i64  ->  logits [rows, vocab]
//   classifier: ids, positions, key_mask  ->  scores [batch, labels] (sequence) or
//               [batch, seq, labels] (token)
// Throws fathom::Error naming what is not supported.
mlir::OwningOpRef<mlir::ModuleOp> buildDeepseek(mlir::MLIRContext& context,
                                                const frontend::ModelConfig& config,
                                                const frontend::WeightCatalog& weights,
                                                const BuildOptions& options);

} // namespace fathom::models
