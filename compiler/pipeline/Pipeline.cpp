#include "compiler/pipeline/Pipeline.h"

#include "compiler/targets/Target.h"
#include "passes/Passes.h"

#include "mlir/Pass/PassRegistry.h"

namespace mlir::fathom {
namespace {
bool sharded(const PipelineOptions& options) {
  return options.tp > 1 || options.ep > 1;
}
} // namespace

const std::vector<PipelineStage>& pipelineStages() {
  // One stage per line, in pipeline order.
  // clang-format off
  static const std::vector<PipelineStage> stages = {
      {"fathom-specialize-entry-points", false},
      {"fathom-quantize", false, /*requested=*/true},
      {"fathom-shard", false, /*requested=*/true},
      {"fathom-mla-absorption", true},
      {"fathom-decompose", false},
      {"fathom-expert-grouping", true},
      {"fathom-rope-fusion", true},
      {"fathom-residual-norm-fusion", true},
      {"fathom-drop-unused-params", false},
      {"fathom-lower-to-kernels", false},
      {"fathom-plan-memory", false},
  };
  // clang-format on
  return stages;
}

std::string validatePipelineOptions(const PipelineOptions& options) {
  if (!lookupTarget(options.target)) {
    std::string known;
    for (const std::string& name : targetNames())
      known += (known.empty() ? "" : ", ") + name;
    return "unknown target '" + options.target + "' (known: " + known + ")";
  }
  if (options.quantize != "none" && options.quantize != "fp8" && options.quantize != "int4")
    return "unknown quantization '" + options.quantize + "' (known: none, fp8, int4)";
  if (options.tp < 1 || options.ep < 1 || options.tp > 4096 || options.ep > 4096)
    return "--tp " + std::to_string(options.tp) + " and --ep " + std::to_string(options.ep) +
           " must lie in [1, 4096]";
  if (int64_t world = std::max(options.tp, options.ep);
      world % options.tp != 0 || world % options.ep != 0)
    return "--tp " + std::to_string(options.tp) + " and --ep " + std::to_string(options.ep) +
           " do not nest: the smaller must divide the larger";
  for (const std::string& name : options.disabled) {
    auto stage =
        llvm::find_if(pipelineStages(), [&](const PipelineStage& s) { return s.name == name; });
    if (stage == pipelineStages().end()) {
      std::string optional;
      for (const PipelineStage& s : pipelineStages())
        if (s.optimization)
          optional += (optional.empty() ? "" : ", ") + s.name;
      return "unknown pass '" + name + "' (passes that can be disabled: " + optional + ")";
    }
    if (stage->requested)
      return "pass '" + name + "' runs only when asked for (--quantize, --tp, --ep)";
    if (!stage->optimization)
      return "pass '" + name + "' is needed to compile and cannot be disabled";
  }
  return {};
}

void buildPipeline(OpPassManager& pm, const PipelineOptions& options) {
  auto enabled = [&](const char* name) { return !options.disabled.count(name); };
  pm.addPass(createSpecializeEntryPointsPass());
  if (options.quantize != "none")
    pm.addPass(createQuantizePass(QuantizePassOptions{options.quantize}));
  if (sharded(options))
    pm.addPass(createShardPass(ShardPassOptions{options.tp, options.ep}));
  if (enabled("fathom-mla-absorption"))
    pm.addPass(createMlaAbsorptionPass());
  pm.addPass(createDecomposePass());
  if (enabled("fathom-expert-grouping"))
    pm.addPass(createExpertGroupingPass());
  if (enabled("fathom-rope-fusion"))
    pm.addPass(createRopeFusionPass());
  if (enabled("fathom-residual-norm-fusion"))
    pm.addPass(createResidualNormFusionPass());
  pm.addPass(createDropUnusedParamsPass());
  lookupTarget(options.target)->addPasses(pm);
  pm.addPass(createLowerToKernelsPass(LowerToKernelsPassOptions{options.target}));
  pm.addPass(createPlanMemoryPass());
}

std::string describePipeline(const PipelineOptions& options) {
  std::string text;
  for (const PipelineStage& stage : pipelineStages()) {
    if (options.disabled.count(stage.name) ||
        (stage.name == "fathom-quantize" && options.quantize == "none") ||
        (stage.name == "fathom-shard" && !sharded(options)))
      continue;
    text += (text.empty() ? "" : ",") + stage.name;
    if (stage.name == "fathom-quantize")
      text += "{mode=" + options.quantize + "}";
    if (stage.name == "fathom-shard")
      text += "{tp=" + std::to_string(options.tp) + " ep=" + std::to_string(options.ep) + "}";
  }
  return text;
}

namespace {
struct PipelineCommandLine : public PassPipelineOptions<PipelineCommandLine> {
  Option<std::string> target{*this, "target", llvm::cl::desc("the target to compile for"),
                             llvm::cl::init("cpu")};
  ListOption<std::string> disable{*this, "disable",
                                  llvm::cl::desc("optimization passes to leave out")};
  Option<std::string> quantize{*this, "quantize",
                               llvm::cl::desc("weight storage: none, fp8 or int4"),
                               llvm::cl::init("none")};
  Option<int64_t> tp{*this, "tp", llvm::cl::desc("tensor-parallel ranks"), llvm::cl::init(1)};
  Option<int64_t> ep{*this, "ep", llvm::cl::desc("expert-parallel ranks"), llvm::cl::init(1)};
};
} // namespace

void registerFathomPipeline() {
  PassPipelineRegistration<PipelineCommandLine>(
      "fathom-pipeline", "Fathom's default pipeline: entry points to planned kernel calls",
      [](OpPassManager& pm, const PipelineCommandLine& commandLine) {
        PipelineOptions options;
        options.target = commandLine.target;
        options.disabled.insert(commandLine.disable.begin(), commandLine.disable.end());
        options.quantize = commandLine.quantize;
        options.tp = commandLine.tp;
        options.ep = commandLine.ep;
        if (std::string problem = validatePipelineOptions(options); !problem.empty()) {
          llvm::errs() << "fathom-pipeline: " << problem << "\n";
          options = {};
          options.target = "cpu";
        }
        buildPipeline(pm, options);
      });
}

} // namespace mlir::fathom
