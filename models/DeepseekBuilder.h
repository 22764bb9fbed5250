#pragma once
// deepseek_v3 / deepseek_v2 config + checkpoint tensors -> a `fathom` module.
#include "fathom/frontend/ModelConfig.h"
#include "fathom/frontend/TensorStore.h"
#include "fathom/runtime/DType.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace fathom::models {

struct BuildOptions {
  // Activations and non-quantized weights; FP8 weights stay FP8 with their block scales.
  DType compute = DType::F32;
};

// Emits one `fathom.param` per checkpoint tensor the network reads and a `@forward(ids,
// positions, key_mask)` function returning logits (causal LM) or scores (classification
// heads). Throws fathom::Error naming what is not supported.
mlir::OwningOpRef<mlir::ModuleOp> buildDeepseek(mlir::MLIRContext& context,
                                                const frontend::ModelConfig& config,
                                                const frontend::TensorStore& tensors,
                                                const BuildOptions& options);

// HF's YaRN magnitude correction: 0.1 * mscale * ln(factor) + 1 for factor > 1, else 1.
double yarnMscale(double factor, double mscale = 1.0);

} // namespace fathom::models
