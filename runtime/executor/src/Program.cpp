#include "fathom/executor/Program.h"

#include "Registry.h"
#include "fathom/runtime/Error.h"
#include "fathom/runtime/Numeric.h"

#include <algorithm>
#include <chrono>
#include <map>

namespace fathom::executor {
namespace {

DType dtypeOf(fb::ElementType type) {
  return static_cast<DType>(type);
}

const char* inputName(fb::InputKind kind) {
  return fb::EnumNameInputKind(kind);
}

// Device memory owned through the backend.
struct DeviceMemory {
  backend::Backend* owner = nullptr;
  void* data = nullptr;
  size_t bytes = 0;
  DeviceMemory() = default;
  DeviceMemory(backend::Backend& backend, size_t size)
      : owner(&backend), data(backend.allocate(size)), bytes(size) {}
  DeviceMemory(DeviceMemory&& other) noexcept { *this = std::move(other); }
  DeviceMemory& operator=(DeviceMemory&& other) noexcept {
    std::swap(owner, other.owner);
    std::swap(data, other.data);
    std::swap(bytes, other.bytes);
    return *this;
  }
  ~DeviceMemory() {
    if (owner)
      owner->release(data);
  }
};

struct BoundBuffer {
  fb::BufferKind kind = fb::BufferKind::Arena;
  DType type = DType::F32;
  int64_t rowElements = 0;
  std::byte* data = nullptr;
  size_t bytes = 0;             // what data may hold
  int64_t capacityPerBatch = 0; // caches: rows per sequence
  int32_t cache = -1;
  DeviceMemory output; // Output buffers, grown as steps need
};

struct BoundEntry {
  const fb::EntryPoint* entry = nullptr;
  std::vector<BoundBuffer> buffers;
  std::vector<std::unique_ptr<backend::Kernel>> kernels;
  backend::PlanLimits limits;
  std::vector<int64_t> runs;   // per call, while profiling
  std::vector<double> seconds; // per call, while profiling
};

} // namespace

struct Program::Impl {
  std::unique_ptr<artifact::Artifact> file;
  std::shared_ptr<backend::Backend> device;
  std::vector<backend::Weight> weights;
  DeviceMemory arena;
  std::vector<DeviceMemory> caches;
  std::vector<int64_t> cacheRowElements;
  std::vector<DType> cacheTypes;
  std::map<fb::EntryKind, BoundEntry> entries;
  DType compute = DType::F32;
  int64_t maxBatch = 0, maxSeqLen = 0;
  bool profiling = false;
  std::string path;

  void bind();
  void bindEntry(const fb::EntryPoint& entry);
  const BoundEntry& entryOf(fb::EntryKind kind) const;
};

namespace {

// Resolves views for one step and hands out weights: what kernels see.
class StepContext final : public backend::CallContext {
public:
  StepContext(const std::string& path, const std::vector<backend::Weight>& weights,
              BoundEntry& entry, const backend::StepShape& step)
      : path_(path), weights_(weights), entry_(entry), step_(step) {}

  backend::Tensor tensor(const fb::View& view) const override {
    if (view.buffer() < 0 || size_t(view.buffer()) >= entry_.buffers.size())
      throw Error(path_ + ": a kernel operand names buffer " + std::to_string(view.buffer()) +
                  ", which the entry point lacks");
    const BoundBuffer& buffer = entry_.buffers[size_t(view.buffer())];
    backend::Tensor t;
    t.type = buffer.type;
    int64_t multiplier = std::max<uint32_t>(view.multiplier(), 1);
    switch (view.extent()) {
    case fb::Extent::Tokens:
      t.batches = step_.batch;
      t.rowsPerBatch = step_.tokens * multiplier;
      break;
    case fb::Extent::Keys:
      t.batches = step_.batch;
      t.rowsPerBatch = step_.keys;
      break;
    case fb::Extent::HeadRows:
      t.rowsPerBatch = step_.headRows;
      break;
    case fb::Extent::Batch:
      t.rowsPerBatch = step_.batch * multiplier;
      break;
    case fb::Extent::Fixed:
      t.rowsPerBatch = multiplier;
      break;
    }
    t.rowStride = int64_t(view.row_stride());
    t.batchStride =
        view.batch_stride() ? int64_t(view.batch_stride()) : t.rowsPerBatch * t.rowStride;
    t.heads = std::max<uint32_t>(view.heads(), 1);
    t.headDim = view.head_dim();
    t.headStride = int64_t(view.head_stride());
    t.capacityPerBatch = buffer.capacityPerBatch ? buffer.capacityPerBatch : t.rowsPerBatch;
    // The view's last element must lie inside what the buffer holds.
    int64_t last = int64_t(view.offset()) + (t.batches - 1) * t.batchStride +
                   (t.rowsPerBatch - 1) * t.rowStride + (t.heads - 1) * t.headStride + t.headDim;
    if (t.rowsPerBatch > 0 && uint64_t(last) * dtypeSize(t.type) > buffer.bytes)
      throw Error(path_ + ": a kernel operand reaches past its buffer (" +
                  std::to_string(uint64_t(last) * dtypeSize(t.type)) + " > " +
                  std::to_string(buffer.bytes) + " bytes)");
    t.data = buffer.data + view.offset() * dtypeSize(t.type);
    return t;
  }

  const backend::Weight& weight(int32_t index) const override { return weights_.at(size_t(index)); }
  const backend::StepShape& step() const override { return step_; }

private:
  const std::string& path_;
  const std::vector<backend::Weight>& weights_;
  BoundEntry& entry_;
  const backend::StepShape& step_;
};

int64_t rowsOf(fb::Extent extent, uint32_t multiplier, const backend::StepShape& step) {
  int64_t m = std::max<uint32_t>(multiplier, 1);
  switch (extent) {
  case fb::Extent::Tokens:
    return step.batch * step.tokens * m;
  case fb::Extent::Keys:
    return step.batch * step.keys;
  case fb::Extent::HeadRows:
    return step.headRows;
  case fb::Extent::Batch:
    return step.batch * m;
  case fb::Extent::Fixed:
    return m;
  }
  return 0;
}

} // namespace

void Program::Impl::bind() {
  const fb::Artifact& meta = file->metadata();
  std::string target = meta.target() ? meta.target()->str() : std::string("?");
  if (device->name() != target)
    throw Error(path + ": artifact was compiled for target '" + target +
                "', but the backend runs '" + std::string(device->name()) + "'");
  compute = dtypeOf(meta.compute_dtype());
  maxBatch = meta.max_batch();
  maxSeqLen = meta.max_seq_len();
  if (maxBatch < 1 || maxSeqLen < 1)
    throw Error(path + ": max_batch and max_seq_len must be positive");
  weights = device->bindWeights(*file);
  const fb::MemoryPlan* plan = meta.memory_plan();
  if (!plan || !meta.entry_points() || meta.entry_points()->size() == 0)
    throw Error(path + ": artifact has no entry points or memory plan");
  arena = DeviceMemory(*device, size_t(plan->arena_size()));
  if (meta.caches())
    for (const fb::Cache* cache : *meta.caches()) {
      DType type = dtypeOf(cache->dtype());
      size_t bytes = size_t(cache->row_elements()) * size_t(maxBatch * maxSeqLen) * dtypeSize(type);
      caches.emplace_back(*device, bytes);
      cacheRowElements.push_back(int64_t(cache->row_elements()));
      cacheTypes.push_back(type);
    }
  for (const fb::EntryPoint* entry : *meta.entry_points())
    bindEntry(*entry);
}

void Program::Impl::bindEntry(const fb::EntryPoint& entry) {
  std::string name = entry.name()->str();
  if (entries.count(entry.kind()))
    throw Error(path + ": two entry points of kind " + fb::EnumNameEntryKind(entry.kind()));
  if (!entry.buffers() || !entry.calls() || !entry.output())
    throw Error(path + ": entry point '" + name + "' has no buffers, calls or output");
  if (entry.arena_size() > arena.bytes)
    throw Error(path + ": entry point '" + name + "' needs more arena than the plan holds");
  BoundEntry bound;
  bound.entry = &entry;
  bound.limits = {maxBatch, maxSeqLen, std::max<int64_t>(entry.max_tokens(), 1)};
  for (const fb::Buffer* buffer : *entry.buffers()) {
    BoundBuffer b;
    b.kind = buffer->kind();
    b.type = dtypeOf(buffer->dtype());
    b.rowElements = int64_t(buffer->row_elements());
    switch (b.kind) {
    case fb::BufferKind::Arena:
      if (buffer->offset() + buffer->size() > entry.arena_size() ||
          buffer->size() < buffer->row_elements() * buffer->max_rows() * dtypeSize(b.type))
        throw Error(path + ": buffer " + (buffer->name() ? buffer->name()->str() : "?") +
                    " of entry point '" + name + "' does not fit the arena");
      b.data = static_cast<std::byte*>(arena.data) + buffer->offset();
      b.bytes = size_t(buffer->size());
      break;
    case fb::BufferKind::Cache:
      if (buffer->cache() < 0 || size_t(buffer->cache()) >= caches.size() ||
          cacheRowElements[size_t(buffer->cache())] != b.rowElements ||
          cacheTypes[size_t(buffer->cache())] != b.type)
        throw Error(path + ": entry point '" + name + "' names a cache the artifact lacks");
      b.cache = buffer->cache();
      b.data = static_cast<std::byte*>(caches[size_t(b.cache)].data);
      b.bytes = caches[size_t(b.cache)].bytes;
      b.capacityPerBatch = maxSeqLen;
      break;
    case fb::BufferKind::Output:
      break;
    }
    bound.buffers.push_back(std::move(b));
  }
  if (entry.inputs())
    for (const fb::EntryInput* input : *entry.inputs())
      if (input->buffer() < 0 || size_t(input->buffer()) >= bound.buffers.size() ||
          bound.buffers[size_t(input->buffer())].kind != fb::BufferKind::Arena)
        throw Error(path + ": input " + inputName(input->kind()) + " of entry point '" + name +
                    "' is not an arena buffer");
  if (entry.output()->buffer() < 0 || size_t(entry.output()->buffer()) >= bound.buffers.size() ||
      bound.buffers[size_t(entry.output()->buffer())].kind != fb::BufferKind::Output)
    throw Error(path + ": the output of entry point '" + name + "' is not an output buffer");
  for (const fb::KernelCall* call : *entry.calls())
    bound.kernels.push_back(device->prepare(*call, weights, bound.limits));
  entries.emplace(entry.kind(), std::move(bound));
}

const BoundEntry& Program::Impl::entryOf(fb::EntryKind kind) const {
  auto found = entries.find(kind);
  if (found == entries.end())
    throw Error(path + ": the artifact has no " + fb::EnumNameEntryKind(kind) + " entry point");
  return found->second;
}

Program::Program(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Program::~Program() = default;

std::unique_ptr<Program> Program::load(const std::string& path, const LoadOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->file =
      artifact::Artifact::open(path, artifact::Artifact::Verify::Everything, options.progress);
  const fb::Artifact& meta = impl->file->metadata();
  impl->device = options.backend;
  if (!impl->device)
    impl->device = backend::createBackend(meta.target() ? meta.target()->string_view() : "?",
                                          {options.threads});
  impl->bind();
  return std::unique_ptr<Program>(new Program(std::move(impl)));
}

const artifact::Artifact& Program::artifact() const {
  return *impl_->file;
}
backend::Backend& Program::backend() {
  return *impl_->device;
}
DType Program::computeDtype() const {
  return impl_->compute;
}
int64_t Program::maxBatch() const {
  return impl_->maxBatch;
}
int64_t Program::maxSeqLen() const {
  return impl_->maxSeqLen;
}
bool Program::has(fb::EntryKind kind) const {
  return impl_->entries.count(kind) > 0;
}

int64_t Program::outputWidth(fb::EntryKind kind) const {
  const BoundEntry& entry = impl_->entryOf(kind);
  return entry.buffers[size_t(entry.entry->output()->buffer())].rowElements;
}

uint64_t Program::cacheBytes() const {
  uint64_t bytes = 0;
  for (const DeviceMemory& cache : impl_->caches)
    bytes += cache.bytes;
  return bytes;
}

std::vector<float> Program::run(fb::EntryKind kind, const backend::StepShape& step,
                                const EntryInputs& inputs) {
  Impl& m = *impl_;
  BoundEntry& entry = const_cast<BoundEntry&>(m.entryOf(kind));
  const char* name = fb::EnumNameEntryKind(kind);
  if (step.batch < 1 || step.tokens < 1 || step.batch > m.maxBatch ||
      step.tokens > entry.limits.maxTokens || step.keys < 1 || step.keys > m.maxSeqLen ||
      step.headRows < 0 || step.headRows > step.batch * step.tokens)
    throw Error("internal error: a " + std::string(name) + " step of " +
                std::to_string(step.batch) + " x " + std::to_string(step.tokens) + " tokens, " +
                std::to_string(step.keys) + " keys and " + std::to_string(step.headRows) +
                " head rows exceeds the plan (" + std::to_string(m.maxBatch) + " x " +
                std::to_string(entry.limits.maxTokens) + ")");
  if (const auto* declared = entry.entry->inputs())
    for (const fb::EntryInput* input : *declared) {
      BoundBuffer& buffer = entry.buffers[size_t(input->buffer())];
      const void* host = nullptr;
      int64_t rows = 0;
      switch (input->kind()) {
      case fb::InputKind::Ids:
        host = inputs.ids, rows = step.batch * step.tokens;
        break;
      case fb::InputKind::Positions:
        host = inputs.positions, rows = step.batch * step.tokens;
        break;
      case fb::InputKind::KeyMask:
        host = inputs.keyMask, rows = step.batch * step.keys;
        break;
      case fb::InputKind::CacheStart:
        host = inputs.cacheStart, rows = step.batch;
        break;
      case fb::InputKind::HeadRows:
        host = inputs.headRows, rows = step.headRows;
        break;
      }
      if (!host && rows > 0)
        throw Error("internal error: " + std::string(name) + " needs its " +
                    inputName(input->kind()) + " input");
      size_t bytes = size_t(rows * buffer.rowElements) * dtypeSize(buffer.type);
      if (bytes > buffer.bytes)
        throw Error("internal error: input " + std::string(inputName(input->kind())) +
                    " exceeds its planned buffer");
      if (input->upper_bound() >= 0 && buffer.type == DType::I64) {
        const auto* values = static_cast<const int64_t*>(host);
        for (int64_t i = 0; i < rows; ++i)
          if (values[i] < 0 || values[i] >= input->upper_bound())
            throw Error("token id " + std::to_string(values[i]) + " at position " +
                        std::to_string(i) + " is outside the vocabulary [0, " +
                        std::to_string(input->upper_bound()) + ")");
      }
      if (bytes)
        m.device->copyToDevice(buffer.data, host, bytes);
    }
  const fb::View& outputView = *entry.entry->output();
  BoundBuffer& output = entry.buffers[size_t(outputView.buffer())];
  int64_t outputRows = rowsOf(outputView.extent(), outputView.multiplier(), step);
  size_t outputBytes = size_t(outputRows * output.rowElements) * dtypeSize(output.type);
  if (output.bytes < outputBytes) {
    output.output = DeviceMemory(*m.device, outputBytes);
    output.data = static_cast<std::byte*>(output.output.data);
    output.bytes = outputBytes;
  }

  StepContext context(m.path, m.weights, entry, step);
  if (m.profiling) {
    using Clock = std::chrono::steady_clock;
    entry.runs.resize(entry.kernels.size());
    entry.seconds.resize(entry.kernels.size());
    for (size_t i = 0; i < entry.kernels.size(); ++i) {
      const Clock::time_point start = Clock::now();
      entry.kernels[i]->run(context);
      m.device->synchronize(); // asynchronous devices: charge the call, not a later one
      entry.runs[i] += 1;
      entry.seconds[i] += std::chrono::duration<double>(Clock::now() - start).count();
    }
  } else {
    for (auto& kernel : entry.kernels)
      kernel->run(context);
  }
  m.device->synchronize();

  std::vector<std::byte> host(outputBytes);
  m.device->copyToHost(host.data(), output.data, outputBytes);
  std::vector<float> result(size_t(outputRows * output.rowElements));
  size_t element = dtypeSize(output.type);
  for (size_t i = 0; i < result.size(); ++i)
    result[i] = loadFloat(output.type, host.data() + i * element);
  return result;
}

void Program::setProfiling(bool on) {
  impl_->profiling = on;
}

std::vector<Program::CallProfile> Program::profile() const {
  std::vector<CallProfile> result;
  for (const auto& [kind, entry] : impl_->entries)
    for (size_t i = 0; i < entry.runs.size(); ++i) {
      const fb::KernelCall& call = *entry.entry->calls()->Get(flatbuffers::uoffset_t(i));
      result.push_back({kind, fb::EnumNameKernelParams(call.params_type()),
                        call.name() ? call.name()->str() : std::string(), entry.runs[i],
                        entry.seconds[i]});
    }
  return result;
}

} // namespace fathom::executor
