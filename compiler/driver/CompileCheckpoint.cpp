// Checkpoint -> artifact. Weights are converted to the dtype the module stores them in and
// streamed to the writer in fixed-size chunks, so memory stays flat however big the checkpoint.
#include "compiler/driver/CompileCheckpoint.h"

#include "compiler/artifact/ArtifactWriter.h"
#include "compiler/lowering/LowerToProgram.h"
#include "fathom/runtime/Error.h"
#include "fathom/runtime/Numeric.h"
#include "models/DeepseekBuilder.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

namespace fathom::compiler {
namespace {

constexpr int64_t kDefaultMaxSeqLen = 4096;
constexpr size_t kChunkElements = 1 << 20;

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

float loadAsFloat(DType type, const std::byte* element) {
  switch (type) {
  case DType::F32: {
    float value;
    std::memcpy(&value, element, 4);
    return value;
  }
  case DType::BF16: {
    uint16_t bits;
    std::memcpy(&bits, element, 2);
    return bf16ToFloat(bits);
  }
  case DType::F16: {
    uint16_t bits;
    std::memcpy(&bits, element, 2);
    return f16ToFloat(bits);
  }
  default:
    throw Error("cannot convert weights of dtype " + std::string(dtypeName(type)));
  }
}

// Hands the tensor to `sink` in the stored dtype: a verbatim copy when the dtypes agree, else
// widened to fp32 and rounded (RNE) to the stored type, as torch's .to() does.
void streamConverted(const frontend::TensorView& view, DType stored, const artifact::ByteSink& sink,
                     uint64_t& done, uint64_t total, const ProgressFn& progress) {
  size_t inSize = dtypeSize(view.dtype), outSize = dtypeSize(stored);
  int64_t count = view.numel();
  std::vector<std::byte> chunk;
  for (int64_t begin = 0; begin < count; begin += int64_t(kChunkElements)) {
    int64_t n = std::min<int64_t>(int64_t(kChunkElements), count - begin);
    const std::byte* in = view.data + begin * int64_t(inSize);
    if (stored == view.dtype) {
      sink(in, size_t(n) * inSize);
    } else {
      chunk.resize(size_t(n) * outSize);
      for (int64_t i = 0; i < n; ++i) {
        float value = loadAsFloat(view.dtype, in + i * int64_t(inSize));
        if (stored == DType::F32) {
          std::memcpy(chunk.data() + i * 4, &value, 4);
        } else if (stored == DType::BF16) {
          uint16_t bits = floatToBf16(value);
          std::memcpy(chunk.data() + i * 2, &bits, 2);
        } else {
          throw Error("tensor " + std::string(view.name) + ": cannot store " +
                      std::string(dtypeName(view.dtype)) + " weights as " +
                      std::string(dtypeName(stored)));
        }
      }
      sink(chunk.data(), chunk.size());
    }
    done += uint64_t(n) * inSize;
    if (progress)
      progress(done, total);
  }
}

mlir::OwningOpRef<mlir::ModuleOp> buildModule(mlir::MLIRContext& context,
                                              const frontend::Checkpoint& checkpoint,
                                              const CompileOptions& options) {
  if (options.compute != DType::F32 && options.compute != DType::BF16)
    throw Error("--dtype must be fp32 or bf16");
  auto module =
      models::buildDeepseek(context, checkpoint.config(), checkpoint.tensors(), {options.compute});
  if (mlir::failed(mlir::verify(*module)))
    throw Error("internal error: the built module does not verify");
  return module;
}

std::vector<std::string> labelsOf(const frontend::Checkpoint& checkpoint) {
  std::vector<std::string> labels;
  int64_t count = checkpoint.config().numLabels;
  if (checkpoint.config().head == frontend::HeadKind::CausalLM)
    return labels;
  nlohmann::json config = nlohmann::json::parse(readFile(checkpoint.files().config));
  for (int64_t i = 0; i < count; ++i) {
    std::string key = std::to_string(i);
    if (config.contains("id2label") && config["id2label"].contains(key) &&
        config["id2label"][key].is_string())
      labels.push_back(config["id2label"][key].get<std::string>());
    else
      labels.push_back("LABEL_" + key);
  }
  return labels;
}

std::string chatTemplateOf(const frontend::Checkpoint& checkpoint) {
  if (!checkpoint.files().chatTemplate.empty())
    return readFile(checkpoint.files().chatTemplate);
  if (const nlohmann::json* config = checkpoint.tokenizerConfig())
    if (config->contains("chat_template") && (*config)["chat_template"].is_string())
      return (*config)["chat_template"].get<std::string>();
  return {};
}

} // namespace

std::string emitMlir(const frontend::Checkpoint& checkpoint, const CompileOptions& options) {
  mlir::MLIRContext context;
  auto module = buildModule(context, checkpoint, options);
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  return text;
}

CompileSummary compileCheckpoint(const frontend::Checkpoint& checkpoint,
                                 const std::string& outputPath, const CompileOptions& options,
                                 const ProgressFn& progress) {
  if (options.target != "cpu")
    throw Error("--target " + options.target + " is not supported yet (cpu)");
  const frontend::ModelConfig& config = checkpoint.config();
  const frontend::DeepseekConfig* deepseek = config.deepseek();
  if (!deepseek)
    throw Error(checkpoint.files().config.string() + ": model_type " +
                std::string(frontend::modelTypeName(config.modelType)) +
                " cannot be compiled to an artifact yet (deepseek_v3, deepseek_v2)");
  int64_t maxSeqLen = options.maxSeqLen > 0
                          ? options.maxSeqLen
                          : std::min(deepseek->maxPositionEmbeddings, kDefaultMaxSeqLen);
  if (options.maxBatch < 1)
    throw Error("--max-batch must be at least 1");

  mlir::MLIRContext context;
  auto module = buildModule(context, checkpoint, options);
  LoweredProgram program = lowerToProgram(*module, {options.maxBatch, maxSeqLen});

  // Each weight is its source tensor, or a contiguous slice of it (fused experts).
  auto sourceView = [&](const LoweredWeight& weight) {
    frontend::TensorView view = checkpoint.tensor(weight.source);
    int64_t count = 1;
    for (int64_t dim : weight.shape)
      count *= dim;
    if (weight.sourceOffset < 0 || weight.sourceOffset + count > view.numel())
      throw Error("weight " + weight.symbol + " lies outside its source tensor " + weight.source);
    view.data += weight.sourceOffset * int64_t(dtypeSize(view.dtype));
    view.byteSize = uint64_t(count) * dtypeSize(view.dtype);
    view.shape = weight.shape;
    return view;
  };
  uint64_t total = 0;
  for (const LoweredWeight& weight : program.weights)
    total += sourceView(weight).byteSize;

  artifact::ArtifactWriter writer(outputPath);
  writer.beginSection("weights");
  uint64_t done = 0;
  for (const LoweredWeight& weight : program.weights) {
    frontend::TensorView view = sourceView(weight);
    artifact::TensorInfo info{weight.symbol, weight.dtype,     weight.shape,
                              weight.scale,  weight.blockRows, weight.blockCols};
    writer.addTensor(info, [&](const artifact::ByteSink& sink) {
      streamConverted(view, weight.dtype, sink, done, total, progress);
    });
  }
  writer.endSection();

  artifact::ArtifactContents contents;
  contents.producer = "fathom-compile 0.1";
  contents.target = options.target;
  contents.modelConfigJson = readFile(checkpoint.files().config);
  contents.computeDtype = options.compute;
  contents.maxSeqLen = uint32_t(maxSeqLen);
  contents.maxBatch = uint32_t(options.maxBatch);
  bool causal = config.head == frontend::HeadKind::CausalLM;
  for (const char* name : causal ? std::vector<const char*>{"prefill", "decode"}
                                 : std::vector<const char*>{"classify"})
    contents.entryPoints.push_back({name, program.calls, program.output});
  contents.arenaSize = program.arenaSize;
  contents.buffers = program.buffers;
  contents.kvCacheBytes = program.kvCacheBytes;
  contents.tokenizerJson = readFile(checkpoint.files().tokenizer);
  contents.tokenizerConfigJson = readFile(checkpoint.files().tokenizerConfig);
  contents.chatTemplate = chatTemplateOf(checkpoint);
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
  contents.head = causal ? "causal_lm"
                         : (config.head == frontend::HeadKind::SequenceClassification
                                ? "sequence_classification"
                                : "token_classification");
  contents.labels = labelsOf(checkpoint);
  writer.finish(contents);

  CompileSummary summary;
  summary.weightBytes = done;
  summary.tensors = program.weights.size();
  summary.kernelCalls = program.calls.size();
  summary.arenaBytes = program.arenaSize;
  summary.kvCacheBytes = program.kvCacheBytes;
  summary.maxSeqLen = maxSeqLen;
  return summary;
}

} // namespace fathom::compiler
