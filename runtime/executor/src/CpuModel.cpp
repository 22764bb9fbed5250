// Loading an artifact for the CPU and running its program: each KernelCall is bound once to
// weights and arena buffers, then interpreted per step.
#include "fathom/executor/CpuModel.h"

#include "ExecutionContext.h"

#include "Artifact_generated.h"
#include "fathom/cpu/Attention.h"
#include "fathom/cpu/Elementwise.h"
#include "fathom/cpu/Sampling.h"
#include "fathom/executor/ProgramAbi.h"
#include "fathom/runtime/Numeric.h"

#include <algorithm>
#include <cstring>

namespace fathom::executor {
namespace abi = executor::abi;
namespace fb = artifact::fb;

struct CpuModel::Impl {
  std::unique_ptr<artifact::Artifact> file;
  std::unique_ptr<cpu::ThreadPool> pool;
  ExecutionContext context;
  std::vector<ProgramCall> calls;
  int32_t output = 0;
  std::string head;
  int64_t outputWidth = 0;
  std::vector<std::byte> arena;
  int64_t cacheLength = 0;
  int64_t batch = 0; // sequences in the current batch

  void bind(const std::string& path);
  void sizeWorkspace();
  void run(const Step& step, const std::vector<int64_t>& headRows, float* headOut);
  void runCall(const ProgramCall& call);
  void checkIds(const int64_t* ids, int64_t count) const;
};

void runLinear(ExecutionContext& context, const BoundWeight& weight, const BoundWeight* bias,
               int64_t rows, DType xType, const void* x, int64_t ldx, DType yType, void* y,
               int64_t ldy) {
  cpu::LinearArgs args;
  args.rows = rows;
  args.inFeatures = weight.shape.at(1);
  args.outFeatures = weight.shape.at(0);
  args.xType = xType;
  args.x = x;
  args.ldx = ldx;
  args.wType = weight.type;
  args.w = weight.data;
  args.wScales = weight.scales;
  if (bias) {
    args.biasType = bias->type;
    args.bias = bias->data;
  }
  args.yType = yType;
  args.y = y;
  args.ldy = ldy;
  cpu::linear(args, *context.pool, context.kernelScratch.span());
}

namespace {

DType dtypeOf(fb::ElementType type) {
  return static_cast<DType>(type);
}

template <class T> std::vector<T> copyVector(const flatbuffers::Vector<T>* vector) {
  return vector ? std::vector<T>(vector->begin(), vector->end()) : std::vector<T>{};
}

float toFloat(DType type, const std::byte* value) {
  if (type == DType::F32) {
    float f;
    std::memcpy(&f, value, 4);
    return f;
  }
  uint16_t bits;
  std::memcpy(&bits, value, 2);
  return bf16ToFloat(bits);
}

} // namespace

void CpuModel::Impl::bind(const std::string& path) {
  const fb::Artifact& meta = file->metadata();
  if (!meta.target() || meta.target()->str() != "cpu")
    throw Error(path + ": artifact was compiled for target '" +
                (meta.target() ? meta.target()->str() : std::string("?")) +
                "', this runtime runs 'cpu'");
  ExecutionContext& c = context;
  c.act = dtypeOf(meta.compute_dtype());
  if (c.act != DType::F32 && c.act != DType::BF16)
    throw Error(path + ": compute dtype " + std::string(dtypeName(c.act)) + " is not supported");
  c.maxBatch = meta.max_batch();
  c.maxSeq = meta.max_seq_len();
  if (c.maxBatch < 1 || c.maxSeq < 1)
    throw Error(path + ": max_batch and max_seq_len must be positive");
  head = meta.head() ? meta.head()->str() : "causal_lm";

  for (size_t i = 0; i < file->tensorCount(); ++i) {
    artifact::WeightView view = file->tensor(i);
    BoundWeight weight{std::string(view.name), view.dtype, view.shape, view.data, {}};
    const fb::Tensor* tensor = meta.tensors()->Get(flatbuffers::uoffset_t(i));
    if (view.dtype == DType::F8E4M3) {
      if (!tensor->scale())
        throw Error(path + ": FP8 tensor " + weight.name + " has no scale tensor");
      artifact::WeightView scale = file->tensor(tensor->scale()->string_view());
      if (scale.dtype != DType::F32)
        throw Error(path + ": scale tensor " + std::string(scale.name) + " must be F32");
      weight.scales = {reinterpret_cast<const float*>(scale.data), int64_t(tensor->block_rows()),
                       int64_t(tensor->block_cols())};
    }
    c.weights.push_back(std::move(weight));
  }

  const fb::MemoryPlan* plan = meta.memory_plan();
  if (!plan || !plan->buffers())
    throw Error(path + ": artifact has no memory plan");
  arena.resize(plan->arena_size());
  for (const fb::Buffer* buffer : *plan->buffers()) {
    if (buffer->offset() + buffer->size() > plan->arena_size() ||
        buffer->size() <
            buffer->row_elements() * buffer->max_rows() * dtypeSize(dtypeOf(buffer->dtype())))
      throw Error(path + ": memory plan buffer " +
                  (buffer->name() ? buffer->name()->str() : std::string("?")) +
                  " does not fit the arena");
    c.buffers.push_back({dtypeOf(buffer->dtype()), int64_t(buffer->row_elements()),
                         int64_t(buffer->max_rows()), arena.data() + buffer->offset()});
  }

  const char* entryName = head == "causal_lm" ? "prefill" : "classify";
  const fb::EntryPoint* entry = file->entryPoint(entryName);
  if (!entry || !entry->calls())
    throw Error(path + ": artifact has no '" + std::string(entryName) + "' entry point");
  output = entry->output();
  if (output < 0 || size_t(output) >= c.buffers.size())
    throw Error(path + ": entry point output " + std::to_string(output) + " is not a buffer");
  outputWidth = c.buffers[size_t(output)].rowElements;
  for (const fb::KernelCall* call : *entry->calls()) {
    ProgramCall bound{call->kernel()->str(),         copyVector(call->inputs()),
                      copyVector(call->outputs()),   copyVector(call->weights()),
                      copyVector(call->int_attrs()), copyVector(call->float_attrs())};
    for (int32_t index : bound.inputs)
      if (index != abi::kTokenIds && (index < 0 || size_t(index) >= c.buffers.size()))
        throw Error(path + ": kernel call '" + bound.kernel + "' reads buffer " +
                    std::to_string(index) + ", which the plan lacks");
    for (int32_t index : bound.outputs)
      if (index < 0 || size_t(index) >= c.buffers.size())
        throw Error(path + ": kernel call '" + bound.kernel + "' writes buffer " +
                    std::to_string(index) + ", which the plan lacks");
    for (int32_t index : bound.weights)
      if (index < -1 || index >= int32_t(c.weights.size()))
        throw Error(path + ": kernel call '" + bound.kernel + "' uses weight " +
                    std::to_string(index) + ", which the artifact lacks");
    if (bound.kernel == abi::kernel::kMlaAttention) {
      if (bound.ints.size() < abi::kMlaIntCount || bound.floats.size() < abi::kMlaFloatCount ||
          bound.weights.size() < abi::kMlaWeightCount)
        throw Error(path + ": mla_attention call has too few attributes");
      size_t slot = size_t(bound.ints[abi::kCacheSlot]);
      if (c.caches.size() <= slot)
        c.caches.resize(slot + 1);
      LayerCache& cache = c.caches[slot];
      cache.kvWidth = bound.ints[abi::kNumHeads] *
                      (bound.ints[abi::kQkNopeHeadDim] + bound.ints[abi::kVHeadDim]);
      cache.ropeDim = bound.ints[abi::kQkRopeHeadDim];
      size_t tokens = size_t(c.maxBatch * c.maxSeq);
      cache.kv.assign(tokens * size_t(cache.kvWidth) * dtypeSize(c.act), std::byte{0});
      cache.rope.assign(tokens * size_t(cache.ropeDim) * dtypeSize(c.act), std::byte{0});
    } else if (bound.kernel == abi::kernel::kMoeRouter) {
      if (bound.ints.size() < abi::kRouterIntCount || bound.floats.empty() ||
          bound.weights.size() < 2)
        throw Error(path + ": moe_router call has too few attributes");
    } else if (bound.kernel != abi::kernel::kEmbedding && bound.kernel != abi::kernel::kRmsNorm &&
               bound.kernel != abi::kernel::kLinear && bound.kernel != abi::kernel::kSiluMul &&
               bound.kernel != abi::kernel::kAdd && bound.kernel != abi::kernel::kLmHead &&
               bound.kernel != abi::kernel::kExpertFfn) {
      throw Error(path + ": unknown kernel '" + bound.kernel +
                  "' (artifact from a newer compiler?)");
    }
    calls.push_back(std::move(bound));
  }
  c.keyValid.assign(size_t(c.maxBatch * c.maxSeq), 0);
}

void CpuModel::Impl::sizeWorkspace() {
  const int64_t rows = context.maxBatch * context.maxSeq;
  size_t workspace = size_t(context.maxBatch) * 64 * 1024; // the head's gathered rows
  for (const ProgramCall& call : calls) {
    if (call.kernel == abi::kernel::kMlaAttention)
      workspace = std::max(workspace, mlaWorkspaceBytes(context, call, rows));
    else if (call.kernel == abi::kernel::kMoeRouter)
      workspace = std::max(workspace, moeRouterWorkspaceBytes(context, call, rows));
    else if (call.kernel == abi::kernel::kExpertFfn)
      workspace = std::max(workspace, expertFfnWorkspaceBytes(context, call, rows));
    else if (call.kernel == abi::kernel::kLmHead)
      workspace = std::max(workspace, size_t(context.maxBatch) *
                                              size_t(context.weight(call.weights[0]).shape.at(1)) *
                                              dtypeSize(context.act) +
                                          64);
  }
  context.workspace.allocate(workspace);
  cpu::LinearArgs large;
  large.rows = cpu::kRowwiseMaxRows + 1;
  size_t scratch = std::max({cpu::linearScratchBytes(large, *pool),
                             cpu::attentionScratchBytes(context.maxSeq, *pool),
                             cpu::samplingScratchBytes(outputWidth)});
  context.kernelScratch.reserve(scratch);
}

void CpuModel::Impl::checkIds(const int64_t* ids, int64_t count) const {
  const BoundWeight* table = nullptr;
  for (const ProgramCall& call : calls)
    if (call.kernel == abi::kernel::kEmbedding)
      table = &context.weight(call.weights[0]);
  if (!table)
    return;
  for (int64_t i = 0; i < count; ++i)
    if (ids[i] < 0 || ids[i] >= table->shape[0])
      throw Error("token id " + std::to_string(ids[i]) + " at position " + std::to_string(i) +
                  " is outside the vocabulary [0, " + std::to_string(table->shape[0]) + ")");
}

void CpuModel::Impl::runCall(const ProgramCall& call) {
  ExecutionContext& c = context;
  const Step& step = c.step;
  const int64_t rows = step.rows();
  cpu::ThreadPool& p = *pool;
  c.workspace.reset();
  const std::string& k = call.kernel;
  if (k == abi::kernel::kEmbedding) {
    const BoundWeight& table = c.weight(call.weights[0]);
    BoundBuffer& out = c.buffer(call.outputs[0]);
    cpu::embedding(p, table.type, table.data, table.shape[0], table.shape[1], step.ids, rows,
                   out.type, out.data);
  } else if (k == abi::kernel::kRmsNorm) {
    BoundBuffer& in = c.buffer(call.inputs[0]);
    BoundBuffer& out = c.buffer(call.outputs[0]);
    const BoundWeight& weight = c.weight(call.weights[0]);
    cpu::rmsNorm(p, in.type, in.data, in.rowElements, weight.type, weight.data,
                 float(call.floats.at(0)), rows, in.rowElements, out.data, out.rowElements);
  } else if (k == abi::kernel::kLinear) {
    BoundBuffer& in = c.buffer(call.inputs[0]);
    BoundBuffer& out = c.buffer(call.outputs[0]);
    runLinear(c, c.weight(call.weights[0]), c.optionalWeight(call.weights.at(1)), rows, in.type,
              in.data, in.rowElements, out.type, out.data, out.rowElements);
  } else if (k == abi::kernel::kSiluMul) {
    BoundBuffer& gate = c.buffer(call.inputs[0]);
    BoundBuffer& up = c.buffer(call.inputs[1]);
    BoundBuffer& out = c.buffer(call.outputs[0]);
    cpu::siluMul(p, gate.type, gate.data, gate.rowElements, up.data, up.rowElements, rows,
                 gate.rowElements, out.data, out.rowElements);
  } else if (k == abi::kernel::kAdd) {
    BoundBuffer& a = c.buffer(call.inputs[0]);
    BoundBuffer& b = c.buffer(call.inputs[1]);
    BoundBuffer& out = c.buffer(call.outputs[0]);
    cpu::add(p, a.type, a.data, b.data, out.data, rows * a.rowElements);
  } else if (k == abi::kernel::kMlaAttention) {
    runMlaAttention(c, call);
  } else if (k == abi::kernel::kMoeRouter) {
    runMoeRouter(c, call);
  } else if (k == abi::kernel::kExpertFfn) {
    runExpertFfn(c, call);
  }
}

// Runs every call but the LM head over the step, then the head over the selected rows
// (headRows, into headOut as fp32), or, for classification programs, the whole output.
void CpuModel::Impl::run(const Step& step, const std::vector<int64_t>& headRows, float* headOut) {
  context.step = step;
  checkIds(step.ids, step.rows());
  for (const ProgramCall& call : calls) {
    if (call.kernel != abi::kernel::kLmHead) {
      runCall(call);
      continue;
    }
    // The head sees at most max_batch rows at a time (its planned buffer).
    BoundBuffer& in = context.buffer(call.inputs[0]);
    BoundBuffer& out = context.buffer(call.outputs[0]);
    const BoundWeight& weight = context.weight(call.weights[0]);
    size_t actSize = dtypeSize(in.type);
    for (size_t begin = 0; begin < headRows.size(); begin += size_t(context.maxBatch)) {
      size_t count = std::min(headRows.size() - begin, size_t(context.maxBatch));
      context.workspace.reset();
      std::byte* gathered =
          context.workspace.take<std::byte>(int64_t(count) * in.rowElements * int64_t(actSize));
      for (size_t i = 0; i < count; ++i)
        std::memcpy(gathered + i * size_t(in.rowElements) * actSize,
                    in.data + size_t(headRows[begin + i]) * size_t(in.rowElements) * actSize,
                    size_t(in.rowElements) * actSize);
      runLinear(context, weight, nullptr, int64_t(count), in.type, gathered, in.rowElements,
                out.type, out.data, out.rowElements);
      for (size_t i = 0; i < count; ++i)
        for (int64_t j = 0; j < out.rowElements; ++j)
          headOut[(begin + i) * size_t(out.rowElements) + size_t(j)] = toFloat(
              out.type, out.data + (i * size_t(out.rowElements) + size_t(j)) * dtypeSize(out.type));
    }
  }
}

CpuModel::CpuModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CpuModel::~CpuModel() = default;

std::unique_ptr<CpuModel> CpuModel::load(const std::string& path, const LoadOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->file =
      artifact::Artifact::open(path, artifact::Artifact::Verify::Everything, options.progress);
  impl->pool = std::make_unique<cpu::ThreadPool>(options.threads);
  impl->context.pool = impl->pool.get();
  impl->bind(path);
  impl->sizeWorkspace();
  return std::unique_ptr<CpuModel>(new CpuModel(std::move(impl)));
}

const artifact::Artifact& CpuModel::artifact() const {
  return *impl_->file;
}
DType CpuModel::computeDtype() const {
  return impl_->context.act;
}
int64_t CpuModel::maxBatch() const {
  return impl_->context.maxBatch;
}
int64_t CpuModel::maxSeqLen() const {
  return impl_->context.maxSeq;
}
int64_t CpuModel::outputWidth() const {
  return impl_->outputWidth;
}
const std::string& CpuModel::head() const {
  return impl_->head;
}
int CpuModel::numThreads() const {
  return impl_->pool->numThreads();
}
int64_t CpuModel::cacheLength() const {
  return impl_->cacheLength;
}

namespace {
void checkBatch(const TokenBatch& batch, int64_t maxBatch, int64_t maxSeq) {
  if (batch.batch < 1 || batch.tokens < 1)
    throw Error("empty batch: every prompt needs at least one token");
  if (batch.batch > maxBatch)
    throw Error(std::to_string(batch.batch) + " prompts exceed the artifact's max batch of " +
                std::to_string(maxBatch) + " (recompile with --max-batch)");
  if (batch.tokens > maxSeq)
    throw Error("a prompt of " + std::to_string(batch.tokens) +
                " tokens exceeds the artifact's max sequence length of " + std::to_string(maxSeq) +
                " (recompile with --max-seq-len)");
  size_t n = size_t(batch.batch * batch.tokens);
  if (batch.ids.size() != n || batch.positions.size() != n || batch.mask.size() != n)
    throw Error("internal error: batch ids, positions and mask must all hold batch x tokens");
}

// A new batch attends to its real tokens only: padding and everything past the prompts is
// masked until decode marks each new position.
void markValidKeys(const TokenBatch& batch, ExecutionContext& context) {
  std::fill(context.keyValid.begin(), context.keyValid.end(), uint8_t(0));
  for (int64_t b = 0; b < batch.batch; ++b)
    for (int64_t t = 0; t < batch.tokens; ++t)
      context.keyValid[size_t(b * context.maxSeq + t)] =
          batch.mask[size_t(b * batch.tokens + t)] ? 1 : 0;
}
} // namespace

std::vector<float> CpuModel::prefill(const TokenBatch& prompts, bool allPositions) {
  Impl& m = *impl_;
  if (m.head != "causal_lm")
    throw Error("prefill needs a causal LM artifact; this one is " + m.head);
  checkBatch(prompts, m.context.maxBatch, m.context.maxSeq);
  markValidKeys(prompts, m.context);
  Step step{prompts.batch, prompts.tokens, 0, prompts.ids.data(), prompts.positions.data()};
  std::vector<int64_t> headRows;
  for (int64_t b = 0; b < prompts.batch; ++b)
    for (int64_t t = allPositions ? 0 : prompts.tokens - 1; t < prompts.tokens; ++t)
      headRows.push_back(b * prompts.tokens + t);
  std::vector<float> logits(headRows.size() * size_t(m.outputWidth));
  m.cacheLength = 0;
  m.batch = prompts.batch;
  m.run(step, headRows, logits.data());
  m.cacheLength = prompts.tokens;
  return logits;
}

std::vector<float> CpuModel::decode(const std::vector<int64_t>& ids,
                                    const std::vector<int64_t>& positions) {
  Impl& m = *impl_;
  if (m.batch == 0)
    throw Error("decode before prefill: start a batch with prefill first");
  if (int64_t(ids.size()) != m.batch || positions.size() != ids.size())
    throw Error("decode takes one token and one position per sequence (" + std::to_string(m.batch) +
                ")");
  if (m.cacheLength >= m.context.maxSeq)
    throw Error("the KV cache is full: the artifact's max sequence length is " +
                std::to_string(m.context.maxSeq) + " tokens (recompile with --max-seq-len)");
  for (int64_t b = 0; b < m.batch; ++b)
    m.context.keyValid[size_t(b * m.context.maxSeq + m.cacheLength)] = 1;
  Step step{m.batch, 1, m.cacheLength, ids.data(), positions.data()};
  std::vector<int64_t> headRows;
  for (int64_t b = 0; b < m.batch; ++b)
    headRows.push_back(b);
  std::vector<float> logits(size_t(m.batch * m.outputWidth));
  m.run(step, headRows, logits.data());
  ++m.cacheLength;
  return logits;
}

std::vector<float> CpuModel::classify(const TokenBatch& inputs) {
  Impl& m = *impl_;
  if (m.head == "causal_lm")
    throw Error("classify needs a classification artifact; this one is a causal LM");
  checkBatch(inputs, m.context.maxBatch, m.context.maxSeq);
  markValidKeys(inputs, m.context);
  Step step{inputs.batch, inputs.tokens, 0, inputs.ids.data(), inputs.positions.data()};
  m.batch = 0;
  m.run(step, {}, nullptr);
  BoundBuffer& out = m.context.buffer(m.output);
  size_t n = size_t(step.rows() * out.rowElements);
  std::vector<float> scores(n);
  for (size_t i = 0; i < n; ++i)
    scores[i] = toFloat(out.type, out.data + i * dtypeSize(out.type));
  return scores;
}

} // namespace fathom::executor
