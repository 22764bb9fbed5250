#pragma once
// deepseek_vl config + checkpoint weights -> a `fathom` module at the model level.
#include "models/DeepseekBuilder.h"

namespace fathom::models {

// The LLaMA text model as `@model` (prefill and decode, the run-time inputs of a causal LM as in
// buildDeepseek) and the SigLIP vision tower with the aligner as `@vision` (encode_image).
// Throws fathom::Error naming what is not supported.
mlir::OwningOpRef<mlir::ModuleOp> buildDeepseekVl(mlir::MLIRContext& context,
                                                  const frontend::ModelConfig& config,
                                                  const frontend::WeightCatalog& weights,
                                                  const BuildOptions& options);

} // namespace fathom::models
