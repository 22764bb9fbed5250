#include "fathom/executor/Program.h"

#include "Registry.h"
#include "fathom/runtime/Error.h"
#include "fathom/runtime/Numeric.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <unistd.h>

namespace fathom::executor {
namespace {

DType dtypeOf(fb::ElementType type) {
  return static_cast<DType>(type);
}

const char* inputName(fb::InputKind kind) {
  return fb::EnumNameInputKind(kind);
}

uint64_t physicalMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGESIZE);
  return pages > 0 && pageSize > 0 ? uint64_t(pages) * uint64_t(pageSize) : UINT64_MAX;
}

// Far above any real plan (batches of 64, contexts of 163840), low enough that no product of
// them with a row width overflows.
constexpr int64_t kMaxBatchLimit = int64_t(1) << 16;
constexpr int64_t kMaxSeqLenLimit = int64_t(1) << 24;

bool knownElementType(fb::ElementType type) {
  return uint8_t(type) <= uint8_t(fb::ElementType::MAX) && type != fb::ElementType::U4;
}

// a * b, or UINT64_MAX when it does not fit.
uint64_t saturatingProduct(uint64_t a, uint64_t b) {
  uint64_t product;
  return __builtin_mul_overflow(a, b, &product) ? UINT64_MAX : product;
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
  const fb::Buffer* declared = nullptr;
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
  uint64_t memoryLimit = 0;
  std::string path;

  void bind();
  void bindEntry(const fb::EntryPoint& entry);
  const BoundEntry& entryOf(fb::EntryKind kind) const;
};

namespace {

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

// Resolves views for one step and hands out weights: what kernels see.
class StepContext final : public backend::CallContext {
public:
  StepContext(const std::string& path, const std::vector<backend::Weight>& weights,
              BoundEntry& entry, const backend::StepShape& step, bool planning = false)
      : path_(path), weights_(weights), entry_(entry), step_(step), planning_(planning) {}

  backend::Tensor tensor(const fb::View& view) const override {
    if (view.buffer() < 0 || size_t(view.buffer()) >= entry_.buffers.size())
      throw Error(path_ + ": a kernel operand names buffer " + std::to_string(view.buffer()) +
                  ", which the entry point lacks");
    if (uint8_t(view.extent()) > uint8_t(fb::Extent::MAX))
      throw Error(path_ + ": a kernel operand has an unknown extent " +
                  std::to_string(int(view.extent())));
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
    // The view's last element must lie inside what the buffer holds (in saturating arithmetic:
    // strides come from the file). A cache view's rows reach to its capacity.
    const uint64_t reachRows = uint64_t(std::max(t.rowsPerBatch, t.capacityPerBatch));
    const uint64_t spans[] = {saturatingProduct(uint64_t(t.batches - 1), uint64_t(t.batchStride)),
                              saturatingProduct(reachRows - 1, uint64_t(t.rowStride)),
                              saturatingProduct(uint64_t(t.heads - 1), uint64_t(t.headStride)),
                              uint64_t(t.headDim), view.offset()};
    uint64_t last = 0;
    for (uint64_t span : spans)
      if (__builtin_add_overflow(last, span, &last))
        last = UINT64_MAX;
    const uint64_t reach = saturatingProduct(last, dtypeSize(t.type));
    const size_t bytes = planning_ && buffer.kind == fb::BufferKind::Output
                             ? plannedOutputBytes(view.buffer())
                             : buffer.bytes;
    if (t.rowsPerBatch > 0 && reach > bytes)
      throw Error(path_ + ": a kernel operand reaches past its buffer (" +
                  (reach == UINT64_MAX ? std::string("overflow") : std::to_string(reach)) + " > " +
                  std::to_string(bytes) + " bytes)");
    t.data = buffer.data ? buffer.data + view.offset() * dtypeSize(t.type) : nullptr;
    return t;
  }

  const backend::Weight& weight(int32_t index) const override { return weights_.at(size_t(index)); }
  const backend::StepShape& step() const override { return step_; }
  bool planning() const override { return planning_; }

private:
  // What run() allocates for the entry's output at this step; other Output buffers get nothing.
  size_t plannedOutputBytes(int32_t buffer) const {
    const fb::View& output = *entry_.entry->output();
    if (output.buffer() != buffer)
      return 0;
    const BoundBuffer& bound = entry_.buffers[size_t(buffer)];
    return size_t(int64_t(rowsOf(output.extent(), output.multiplier(), step_)) *
                  bound.rowElements) *
           dtypeSize(bound.type);
  }

  const std::string& path_;
  const std::vector<backend::Weight>& weights_;
  BoundEntry& entry_;
  const backend::StepShape& step_;
  bool planning_;
};

} // namespace

void Program::Impl::bind() {
  const fb::Artifact& meta = file->metadata();
  std::string target = meta.target() ? meta.target()->str() : std::string("?");
  if (device->name() != target)
    throw Error(path + ": artifact was compiled for target '" + target +
                "', but the backend runs '" + std::string(device->name()) + "'");
  if (!knownElementType(meta.compute_dtype()))
    throw Error(path + ": unknown compute dtype " + std::to_string(int(meta.compute_dtype())));
  compute = dtypeOf(meta.compute_dtype());
  maxBatch = meta.max_batch();
  maxSeqLen = meta.max_seq_len();
  if (maxBatch < 1 || maxSeqLen < 1 || maxBatch > kMaxBatchLimit || maxSeqLen > kMaxSeqLenLimit)
    throw Error(path + ": max_batch " + std::to_string(maxBatch) + " and max_seq_len " +
                std::to_string(maxSeqLen) + " must lie in [1, " + std::to_string(kMaxBatchLimit) +
                "] and [1, " + std::to_string(kMaxSeqLenLimit) + "]");
  const fb::MemoryPlan* plan = meta.memory_plan();
  if (!plan || !meta.entry_points() || meta.entry_points()->size() == 0)
    throw Error(path + ": artifact has no entry points or memory plan");
  // What the plan asks of this machine, checked before any of it is allocated.
  uint64_t needed = plan->arena_size();
  std::vector<uint64_t> cacheBytes;
  if (meta.caches())
    for (const fb::Cache* cache : *meta.caches()) {
      if (!knownElementType(cache->dtype()))
        throw Error(path + ": cache '" + cache->name()->str() + "' has an unknown dtype");
      cacheBytes.push_back(saturatingProduct(
          saturatingProduct(cache->row_elements(), uint64_t(maxBatch * maxSeqLen)),
          dtypeSize(dtypeOf(cache->dtype()))));
      if (__builtin_add_overflow(needed, cacheBytes.back(), &needed))
        needed = UINT64_MAX;
    }
  if (needed > memoryLimit)
    throw Error(path + ": the plan needs " + std::to_string(needed) +
                " bytes of activations and caches, more than the " + std::to_string(memoryLimit) +
                " bytes this process may use (recompile with a smaller --max-seq-len or "
                "--max-batch)");
  weights = device->bindWeights(*file);
  arena = DeviceMemory(*device, size_t(plan->arena_size()));
  if (meta.caches())
    for (size_t i = 0; i < cacheBytes.size(); ++i) {
      const fb::Cache* cache = meta.caches()->Get(flatbuffers::uoffset_t(i));
      caches.emplace_back(*device, size_t(cacheBytes[i]));
      cacheRowElements.push_back(int64_t(cache->row_elements()));
      cacheTypes.push_back(dtypeOf(cache->dtype()));
    }
  for (const fb::EntryPoint* entry : *meta.entry_points())
    bindEntry(*entry);
}

namespace {

// The element type and width an input kind's host array has.
bool inputFits(fb::InputKind kind, const BoundBuffer& buffer) {
  const DType expected = kind == fb::InputKind::KeyMask ? DType::Bool : DType::I64;
  return uint8_t(kind) <= uint8_t(fb::InputKind::MAX) && buffer.kind == fb::BufferKind::Arena &&
         buffer.type == expected && buffer.rowElements == 1;
}

// The step shapes a program is checked at before it runs: the plan's largest and its smallest.
std::vector<backend::StepShape> planningShapes(fb::EntryKind kind,
                                               const backend::PlanLimits& limits) {
  const int64_t batch = limits.maxBatch, tokens = limits.maxTokens;
  switch (kind) {
  case fb::EntryKind::Classify:
    return {{batch, tokens, tokens, 0}, {1, 1, 1, 0}};
  case fb::EntryKind::Decode:
    return {{batch, 1, limits.maxSeqLen, batch}, {1, 1, 1, 1}};
  case fb::EntryKind::Prefill:
    break;
  }
  return {{batch, tokens, std::max(tokens, limits.maxSeqLen), batch * tokens}, {1, 1, 1, 1}};
}

} // namespace

void Program::Impl::bindEntry(const fb::EntryPoint& entry) {
  std::string name = entry.name()->str();
  if (uint8_t(entry.kind()) > uint8_t(fb::EntryKind::MAX))
    throw Error(path + ": entry point '" + name + "' has an unknown kind");
  if (entries.count(entry.kind()))
    throw Error(path + ": two entry points of kind " + fb::EnumNameEntryKind(entry.kind()));
  if (!entry.buffers() || !entry.calls() || !entry.output())
    throw Error(path + ": entry point '" + name + "' has no buffers, calls or output");
  if (entry.arena_size() > arena.bytes)
    throw Error(path + ": entry point '" + name + "' needs more arena than the plan holds");
  const int64_t maxTokens = std::max<int64_t>(entry.max_tokens(), 1);
  if (maxTokens > maxSeqLen)
    throw Error(path + ": entry point '" + name + "' takes " + std::to_string(maxTokens) +
                " tokens per call, more than the max sequence length");
  BoundEntry bound;
  bound.entry = &entry;
  bound.limits = {maxBatch, maxSeqLen, maxTokens};
  for (const fb::Buffer* buffer : *entry.buffers()) {
    BoundBuffer b;
    b.declared = buffer;
    b.kind = buffer->kind();
    const std::string bufferName = buffer->name() ? buffer->name()->str() : "?";
    if (!knownElementType(buffer->dtype()) ||
        uint8_t(buffer->kind()) > uint8_t(fb::BufferKind::MAX))
      throw Error(path + ": buffer " + bufferName + " of entry point '" + name +
                  "' has an unknown dtype or kind");
    b.type = dtypeOf(buffer->dtype());
    b.rowElements = int64_t(buffer->row_elements());
    if (buffer->row_elements() > (uint64_t(1) << 32))
      throw Error(path + ": buffer " + bufferName + " of entry point '" + name + "' has rows of " +
                  std::to_string(buffer->row_elements()) + " elements");
    switch (b.kind) {
    case fb::BufferKind::Arena:
      if (buffer->offset() > entry.arena_size() ||
          buffer->size() > entry.arena_size() - buffer->offset() ||
          buffer->size() <
              saturatingProduct(saturatingProduct(buffer->row_elements(), buffer->max_rows()),
                                dtypeSize(b.type)))
        throw Error(path + ": buffer " + bufferName + " of entry point '" + name +
                    "' does not fit the arena");
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
          !inputFits(input->kind(), bound.buffers[size_t(input->buffer())]))
        throw Error(path + ": input " + std::to_string(int(input->kind())) + " of entry point '" +
                    name + "' is not an arena buffer of one " +
                    (input->kind() == fb::InputKind::KeyMask ? "bool" : "i64") + " per row");
  if (entry.output()->buffer() < 0 || size_t(entry.output()->buffer()) >= bound.buffers.size() ||
      bound.buffers[size_t(entry.output()->buffer())].kind != fb::BufferKind::Output ||
      uint8_t(entry.output()->extent()) > uint8_t(fb::Extent::MAX) ||
      bound.buffers[size_t(entry.output()->buffer())].rowElements < 1)
    throw Error(path + ": the output of entry point '" + name + "' is not an output buffer");
  auto failCall = [&](size_t i, const Error& error) {
    const fb::KernelCall& call = *entry.calls()->Get(flatbuffers::uoffset_t(i));
    throw Error(path + ": entry point '" + name + "' call " + std::to_string(i) + " (" +
                fb::EnumNameKernelParams(call.params_type()) +
                (call.name() ? " " + call.name()->str() : std::string()) +
                ") is inconsistent: " + error.what());
  };
  for (size_t i = 0; i < entry.calls()->size(); ++i) {
    try {
      bound.kernels.push_back(
          device->prepare(*entry.calls()->Get(flatbuffers::uoffset_t(i)), weights, bound.limits));
    } catch (const Error& error) {
      failCall(i, error);
    }
  }
  // Every call checked at the plan's extremes before anything runs: operands inside their
  // buffers and consistent with each other and the weights.
  for (const backend::StepShape& shape : planningShapes(entry.kind(), bound.limits)) {
    StepContext context(path, weights, bound, shape, /*planning=*/true);
    for (size_t i = 0; i < bound.kernels.size(); ++i) {
      try {
        bound.kernels[i]->run(context);
      } catch (const Error& error) {
        failCall(i, error);
      }
    }
  }
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
  impl->memoryLimit = options.memoryLimit ? options.memoryLimit : physicalMemoryBytes();
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
