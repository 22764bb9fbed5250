// Checkpoint -> artifact: the builder's module goes through the pipeline, the emitter turns the
// planned entry points into kernel calls, and the weights stream into the file.
#include "compiler/driver/CompileCheckpoint.h"

#include "compiler/artifact/ArtifactWriter.h"
#include "compiler/artifact/EmitEntryPoints.h"
#include "compiler/driver/WeightStream.h"
#include "compiler/initializer/Evaluate.h"
#include "compiler/pipeline/Pipeline.h"
#include "compiler/targets/Target.h"
#include "dialects/fathom/FathomConventions.h"
#include "dialects/fathom/FathomDialect.h"
#include "fathom/artifact/ArtifactFile.h"
#include "fathom/runtime/Error.h"
#include "models/DeepseekBuilder.h"
#include "models/DeepseekVlBuilder.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace fathom::compiler {
namespace {

constexpr int64_t kDefaultMaxSeqLen = 4096;

std::string readFile(const std::filesystem::path& path) {
  if (path.empty())
    return {};
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(path.string() + ": cannot read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// MLIR reports through diagnostics; the driver turns the first error into a fathom::Error.
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(mlir::MLIRContext& context)
      : handler_(&context, [this](mlir::Diagnostic& diagnostic) {
          if (diagnostic.getSeverity() == mlir::DiagnosticSeverity::Error && message_.empty())
            message_ = diagnostic.str();
          return mlir::success();
        }) {}
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(what + (message_.empty() ? "" : ": " + message_));
  }

private:
  std::string message_;
  mlir::ScopedDiagnosticHandler handler_;
};

int64_t resolveMaxSeqLen(const frontend::Checkpoint& checkpoint, const CompileOptions& options) {
  const frontend::ModelConfig& config = checkpoint.config();
  const int64_t maxPositions = config.deepseek() ? config.deepseek()->maxPositionEmbeddings
                                                 : config.deepseekVl()->text.maxPositionEmbeddings;
  if (options.maxBatch < 1 || options.maxBatch > artifact::kMaxBatchLimit)
    throw Error("--max-batch must be in [1, " + std::to_string(artifact::kMaxBatchLimit) +
                "], got " + std::to_string(options.maxBatch));
  if (options.maxSeqLen > artifact::kMaxSeqLenLimit)
    throw Error("--max-seq-len must be at most " + std::to_string(artifact::kMaxSeqLenLimit) +
                ", got " + std::to_string(options.maxSeqLen));
  return options.maxSeqLen > 0 ? options.maxSeqLen : std::min(maxPositions, kDefaultMaxSeqLen);
}

mlir::OwningOpRef<mlir::ModuleOp> buildModule(mlir::MLIRContext& context,
                                              const frontend::Checkpoint& checkpoint,
                                              const CompileOptions& options) {
  if (options.compute != DType::F32 && options.compute != DType::BF16)
    throw Error("--dtype must be fp32 or bf16");
  DiagnosticCollector diagnostics(context);
  models::BuildOptions build{options.compute, resolveMaxSeqLen(checkpoint, options),
                             options.maxBatch};
  const frontend::ModelConfig& config = checkpoint.config();
  auto module = config.deepseekVl()
                    ? models::buildDeepseekVl(context, config, checkpoint.weightCatalog(), build)
                    : models::buildDeepseek(context, config, checkpoint.weightCatalog(), build);
  if (mlir::failed(mlir::verify(*module)))
    diagnostics.fail("internal error: the built module does not verify");
  return module;
}

mlir::fathom::PipelineOptions pipelineOptions(const CompileOptions& options) {
  return {options.target, options.disabledPasses, options.quantize, options.tp, options.ep};
}

// Runs the pipeline; throws with the failing pass's diagnostic.
void runPipeline(mlir::ModuleOp module, const CompileOptions& options) {
  mlir::fathom::PipelineOptions pipeline = pipelineOptions(options);
  if (std::string problem = mlir::fathom::validatePipelineOptions(pipeline); !problem.empty())
    throw Error(problem);
  mlir::MLIRContext& context = *module.getContext();
  DiagnosticCollector diagnostics(context);
  mlir::PassManager pm(&context);
  mlir::fathom::buildPipeline(pm, pipeline);
  if (!options.printIrAfter.empty()) {
    context.disableMultithreading();
    bool all = options.printIrAfter.count("all") > 0;
    pm.enableIRPrinting([](mlir::Pass*, mlir::Operation*) { return false; },
                        [&options, all](mlir::Pass* pass, mlir::Operation*) {
                          return all || options.printIrAfter.count(pass->getArgument().str()) > 0;
                        },
                        /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false);
  }
  if (options.timePasses)
    pm.enableTiming();
  if (mlir::failed(pm.run(module)))
    diagnostics.fail("compilation failed");
}

uint64_t paramBytes(mlir::fathom::ParamOp param) {
  mlir::RankedTensorType type = param.getTensorType();
  return storageBytes(dtypeOfElement(type.getElementType()), uint64_t(type.getNumElements()),
                      type.getRank() ? uint64_t(type.getShape().back()) : 1);
}

// Bytes of the params an entry function reads, scales included.
uint64_t weightBytesOf(mlir::SymbolTable& symbols, mlir::func::FuncOp function) {
  std::set<std::string> used;
  function.walk([&](mlir::Operation* op) {
    for (mlir::NamedAttribute attr : op->getAttrs())
      attr.getValue().walk([&](mlir::FlatSymbolRefAttr symbol) {
        if (auto param = symbols.lookup<mlir::fathom::ParamOp>(symbol.getValue())) {
          used.insert(param.getSymName().str());
          if (auto scale = param.getScaleAttr())
            used.insert(scale.getValue().str());
          if (auto zero = param.getZeroAttr())
            used.insert(zero.getValue().str());
        }
      });
  });
  uint64_t bytes = 0;
  for (const std::string& name : used)
    bytes += paramBytes(symbols.lookup<mlir::fathom::ParamOp>(name));
  return bytes;
}

CompileReport reportOf(mlir::ModuleOp module, const CompileOptions& options,
                       const frontend::Checkpoint& checkpoint) {
  CompileReport report;
  report.pipeline = mlir::fathom::describePipeline(pipelineOptions(options));
  report.target = mlir::fathom::lookupTarget(options.target)->spelling();
  report.compute = options.compute;
  report.maxSeqLen =
      module->getAttrOfType<mlir::IntegerAttr>(mlir::fathom::kMaxSeqLenAttr).getInt();
  report.maxBatch = options.maxBatch;
  report.weightsPlanned = !checkpoint.hasWeights();
  mlir::SymbolTable symbols(module);
  report.worldSize = worldSizeOf(module);
  report.tp = options.tp;
  report.ep = options.ep;
  // Rank dependence reads definitions only: no weight is read.
  InitializerEvaluator definitions(module, [](mlir::fathom::ParamOp param) -> HostTensor {
    throw Error("internal error: the report read weight " + param.getSymName().str());
  });
  for (const std::string& name : storedParams(module)) {
    auto param = symbols.lookup<mlir::fathom::ParamOp>(name);
    report.storedWeightBytes += paramBytes(param);
    if (report.worldSize == 1 || !definitions.rankDependent(param))
      report.sharedWeightBytes += paramBytes(param);
  }
  EmittedProgram program = emitEntryPoints(module, [](llvm::StringRef) { return 0; });
  for (const auto& entry : program.entryPoints) {
    auto function = symbols.lookup<mlir::func::FuncOp>(entry->name);
    report.entryPoints.push_back(
        {entry->name, entry->calls.size(), weightBytesOf(symbols, function), entry->arena_size});
  }
  for (const auto& cache : program.caches)
    report.caches.push_back(
        {cache->name, int64_t(cache->row_elements), static_cast<DType>(cache->dtype)});
  report.kvBytesPerToken = program.cacheBytesPerToken;
  report.kvBytesAtLimits = program.kvCacheBytes;
  return report;
}

} // namespace

uint64_t CompileReport::bytesPerRank() const {
  uint64_t arena = 0;
  for (const EntryPointReport& entry : entryPoints)
    arena = std::max(arena, entry.arenaBytes);
  return storedWeightBytes + kvBytesAtLimits + arena;
}

DType defaultComputeDtype(const frontend::ModelConfig& config) {
  return frontend::configWeightDType(config) == DType::BF16 && !config.dtype.empty() ? DType::BF16
                                                                                     : DType::F32;
}

std::string emitMlir(const frontend::Checkpoint& checkpoint, const CompileOptions& options) {
  mlir::MLIRContext context;
  auto module = buildModule(context, checkpoint, options);
  if (!options.printIrAfter.empty())
    runPipeline(*module, options);
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  return text;
}

CompileReport reportCheckpoint(const frontend::Checkpoint& checkpoint,
                               const CompileOptions& options) {
  CompileReport report;
  {
    mlir::MLIRContext context;
    auto module = buildModule(context, checkpoint, options);
    runPipeline(*module, options);
    report = reportOf(*module, options, checkpoint);
  }
  // The cache absorption saves exists only for MLA models (DeepSeek V2/V3).
  const char* absorption = "fathom-mla-absorption";
  if (checkpoint.config().deepseek() && !options.disabledPasses.count(absorption) &&
      report.kvBytesPerToken > 0) {
    CompileOptions perHead = options;
    perHead.disabledPasses.insert(absorption);
    perHead.printIrAfter.clear();
    perHead.timePasses = false;
    mlir::MLIRContext context;
    auto module = buildModule(context, checkpoint, perHead);
    runPipeline(*module, perHead);
    report.perHeadKvBytesPerToken = reportOf(*module, perHead, checkpoint).kvBytesPerToken;
  }
  return report;
}

CompileSummary compileCheckpoint(const frontend::Checkpoint& checkpoint,
                                 const std::string& outputPath, const CompileOptions& options,
                                 const ProgressFn& progress) {
  if (!checkpoint.hasWeights() && !options.syntheticWeights)
    throw Error(checkpoint.files().folder.string() +
                ": no weights to compile (a folder with only config.json works with --report "
                "and --synthetic-weights)");
  const frontend::ModelConfig& config = checkpoint.config();
  mlir::MLIRContext context;
  auto module = buildModule(context, checkpoint, options);
  runPipeline(*module, options);

  std::vector<std::string> stored = storedParams(*module);
  llvm::StringMap<int32_t> index;
  for (size_t i = 0; i < stored.size(); ++i)
    index[stored[i]] = int32_t(i);
  EmittedProgram program = emitEntryPoints(*module, [&](llvm::StringRef symbol) {
    auto found = index.find(symbol);
    if (found == index.end())
      throw Error("internal error: weight @" + symbol.str() + " is not stored");
    return found->second;
  });

  artifact::ArtifactWriter writer(outputPath);
  uint64_t weightBytes =
      writeWeights(*module, checkpoint, stored, writer, progress, options.syntheticWeights);

  artifact::ArtifactContents contents;
  contents.producer = "fathom-compile " FATHOM_PROJECT_VERSION;
  const mlir::fathom::Target* target = mlir::fathom::lookupTarget(options.target);
  contents.target = target->name().str();
  contents.targetArch = target->arch().str();
  contents.modelConfigJson = readFile(checkpoint.files().config);
  contents.computeDtype = options.compute;
  contents.maxSeqLen =
      uint32_t((*module)->getAttrOfType<mlir::IntegerAttr>(mlir::fathom::kMaxSeqLenAttr).getInt());
  contents.maxBatch = uint32_t(options.maxBatch);
  contents.arenaSize = program.arenaSize;
  contents.kvCacheBytes = program.kvCacheBytes;
  contents.pipeline = mlir::fathom::describePipeline(pipelineOptions(options));
  size_t calls = 0;
  for (const auto& entry : program.entryPoints)
    calls += entry->calls.size();
  contents.entryPoints = std::move(program.entryPoints);
  contents.caches = std::move(program.caches);
  contents.tokenizerJson = readFile(checkpoint.files().tokenizer);
  contents.tokenizerConfigJson = readFile(checkpoint.files().tokenizerConfig);
  if (!checkpoint.files().chatTemplate.empty())
    contents.chatTemplate = readFile(checkpoint.files().chatTemplate);
  else if (const nlohmann::json* tokenizerConfig = checkpoint.tokenizerConfig())
    if (tokenizerConfig->contains("chat_template") &&
        (*tokenizerConfig)["chat_template"].is_string())
      contents.chatTemplate = (*tokenizerConfig)["chat_template"].get<std::string>();
  if (config.deepseekVl()) {
    const nlohmann::json* processor = checkpoint.imageProcessorConfig();
    if (!processor)
      throw Error(checkpoint.files().config.parent_path().string() +
                  ": a DeepSeek-VL checkpoint needs preprocessor_config.json or "
                  "processor_config.json (the image processor's settings)");
    contents.imageProcessorJson = processor->dump();
  }
  const frontend::GenerationConfig& generation = checkpoint.generationConfig();
  contents.generation.bosTokenId = generation.bosTokenId.value_or(config.tokens.bos.value_or(-1));
  contents.generation.eosTokenIds =
      generation.eosTokenIds.empty() ? config.tokens.eos : generation.eosTokenIds;
  contents.generation.padTokenId = generation.padTokenId.value_or(config.tokens.pad.value_or(-1));
  contents.generation.doSample = generation.doSample;
  contents.generation.temperature = float(generation.temperature);
  contents.generation.topK = int32_t(generation.topK);
  contents.generation.topP = float(generation.topP);
  contents.generation.maxNewTokens = int32_t(generation.maxNewTokens.value_or(0));
  // A vision-language model generates text like a causal LM; its images go in through their
  // own entry point.
  bool causal = config.head == frontend::HeadKind::CausalLM ||
                config.head == frontend::HeadKind::VisionLanguage;
  contents.head = causal ? "causal_lm"
                         : (config.head == frontend::HeadKind::SequenceClassification
                                ? "sequence_classification"
                                : "token_classification");
  contents.labels = config.labels;
  contents.worldSize = uint32_t(worldSizeOf(*module));
  contents.tensorParallel = uint32_t(options.tp);
  contents.expertParallel = uint32_t(options.ep);
  writer.finish(contents);

  CompileSummary summary;
  summary.weightBytes = weightBytes;
  summary.tensors = stored.size();
  summary.kernelCalls = calls;
  summary.arenaBytes = contents.arenaSize;
  summary.kvCacheBytes = contents.kvCacheBytes;
  summary.maxSeqLen = int64_t(contents.maxSeqLen);
  return summary;
}

} // namespace fathom::compiler
