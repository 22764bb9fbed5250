#ifndef FATHOM_PASSES_TD
#define FATHOM_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

def DropUnusedParamsPass : Pass<"fathom-drop-unused-params", "mlir::ModuleOp"> {
  let summary = "Removes fathom.param declarations that nothing references";
  let description = [{
    Checkpoints carry tensors a compiled entry point never reads: the multi-token-prediction
    layer (model.layers.N at N = num_hidden_layers), a tied lm_head's duplicate, heads of other
    tasks. Dropping their declarations keeps them out of the artifact's weight table. A param
    stays when any symbol use in the module names it, including a quantized param's `scale`.
  }];
  let dependentDialects = ["mlir::fathom::FathomDialect"];
  let statistics = [
    Statistic<"numDropped", "num-dropped", "Number of unused params removed">
  ];
}

#endif // FATHOM_PASSES_TD
