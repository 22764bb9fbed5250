#pragma once
// The default pass pipeline: what fathom-compile runs and fathom-opt --fathom-pipeline runs on a
// .mlir file.
#include "mlir/Pass/PassManager.h"

#include <set>
#include <string>
#include <vector>

namespace mlir::fathom {

struct PipelineOptions {
  std::string target = "cpu";
  // Optimization passes to leave out, by their command-line names ("fathom-mla-absorption").
  std::set<std::string> disabled;
  // Weight storage: "none" (the checkpoint's, in the compute dtype), "fp8" or "int4".
  std::string quantize = "none";
  // Ranks: tensor-parallel and expert-parallel group sizes (fathom-shard when either is > 1).
  int64_t tp = 1, ep = 1;
};

struct PipelineStage {
  std::string name;       // the pass's argument, e.g. "fathom-rope-fusion"
  bool optimization;      // may be switched off
  bool requested = false; // runs only when an option asks for it (fathom-quantize)
};

// Every pass of the default pipeline, in order.
const std::vector<PipelineStage>& pipelineStages();

// Checks the options (unknown target, unknown or mandatory disabled pass); the message names
// the problem. Empty when fine.
std::string validatePipelineOptions(const PipelineOptions& options);

// Adds the pipeline to `pm` (which must be on builtin.module). Options must be valid.
void buildPipeline(OpPassManager& pm, const PipelineOptions& options);

// "fathom-specialize-entry-points,fathom-mla-absorption,...": the passes that run.
std::string describePipeline(const PipelineOptions& options);

// Registers --fathom-pipeline="target=cpu disable=a,b quantize=fp8" for fathom-opt.
void registerFathomPipeline();

} // namespace mlir::fathom
