#pragma once
// deepseek_vl config + checkpoint weights -> a `fathom` module at the model level.
#include "models/DeepseekBuilder.h"

namespace fathom::models {

// The LLaMA text model as `@model` (prefill and decode, the run-time inputs of a causal LM as in
// buildDeepseek). Throws fathom::Error naming what is not supported.
mlir::OwningOpRef<mlir::ModuleOp> buildDeepseekVl(mlir::MLIRContext& context,
                                                  const frontend::ModelConfig& config,
                                                  const frontend::WeightCatalog& weights,
                                                  const BuildOptions& options);

} // namespace fathom::models
