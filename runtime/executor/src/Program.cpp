#include "ProgramState.h"

#include "fathom/runtime/Numeric.h"

#include <chrono>

namespace fathom::executor {
using namespace detail;

namespace detail {

int64_t rowsOf(fb::Extent extent, uint32_t multiplier, const backend::StepShape& step) {
  int64_t m = std::max<uint32_t>(multiplier, 1);
  switch (extent) {
  case fb::Extent::Tokens:
    return step.batch * step.tokens * m;
  case fb::Extent::Keys:
    return step.batch * step.keys;
  case fb::Extent::HeadRows:
    return step.headRows;
  case fb::Extent::ImageRows:
    return step.imageRows;
  case fb::Extent::Batch:
    return step.batch * m;
  case fb::Extent::Fixed:
    return m;
  }
  return 0;
}

backend::Tensor StepContext::tensor(const fb::View& view) const {
  if (view.buffer() < 0 || size_t(view.buffer()) >= entry_.buffers.size())
    throw Error(path_ + ": a kernel operand names buffer " + std::to_string(view.buffer()) +
                ", which the entry point lacks");
  if (uint8_t(view.extent()) > uint8_t(fb::Extent::MAX))
    throw Error(path_ + ": a kernel operand has an unknown extent " +
                std::to_string(int(view.extent())));
  if (view.multiplier() > kMaxMultiplier || view.heads() > kMaxHeads ||
      view.head_dim() > kMaxHeadDim)
    throw Error(path_ + ": a kernel operand of " + std::to_string(view.multiplier()) +
                " rows per unit, " + std::to_string(view.heads()) + " heads of " +
                std::to_string(view.head_dim()) + " exceeds the limits (" +
                std::to_string(kMaxMultiplier) + ", " + std::to_string(kMaxHeads) + ", " +
                std::to_string(kMaxHeadDim) + ")");
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
  case fb::Extent::ImageRows:
    t.rowsPerBatch = step_.imageRows;
    break;
  case fb::Extent::Batch:
    t.rowsPerBatch = step_.batch * multiplier;
    break;
  case fb::Extent::Fixed:
    t.rowsPerBatch = multiplier;
    break;
  }
  // Offsets and strides past any buffer are refused before they enter signed arithmetic.
  const uint64_t batchStride = view.batch_stride()
                                   ? view.batch_stride()
                                   : saturatingProduct(uint64_t(t.rowsPerBatch), view.row_stride());
  for (uint64_t elements : {view.offset(), view.row_stride(), batchStride, view.head_stride()})
    if (elements > kMaxElements)
      throw Error(path_ + ": a kernel operand's offset or stride of " +
                  (elements == UINT64_MAX ? std::string("overflowing") : std::to_string(elements)) +
                  " elements reaches past any buffer (at most " + std::to_string(kMaxElements) +
                  ")");
  t.rowStride = int64_t(view.row_stride());
  t.batchStride = int64_t(batchStride);
  t.heads = std::max<uint32_t>(view.heads(), 1);
  t.headDim = view.head_dim();
  t.headStride = int64_t(view.head_stride());
  t.capacityPerBatch = buffer.capacityPerBatch ? buffer.capacityPerBatch : t.rowsPerBatch;
  const bool paged = buffer.kind == fb::BufferKind::Cache;
  if (paged) {
    // A sequence's cached keys, wherever the pool's blocks hold them.
    if (view.extent() != fb::Extent::Keys)
      throw Error(path_ + ": a kernel operand in cache buffer " + std::to_string(view.buffer()) +
                  " has extent " + fb::EnumNameExtent(view.extent()) + "; caches hold Keys rows");
    t.blockTable = pool_.table;
    t.blockRows = pool_.blockTokens;
    t.blocksPerBatch = pool_.blocksPerSequence;
    t.batchStride = 0;
  }
  // The view's last element must lie inside what the buffer holds (in saturating arithmetic:
  // strides come from the file). A cache view's rows reach to the end of its pool (the table's
  // entries are checked against the pool by run()).
  const uint64_t reachRows = paged ? uint64_t(pool_.allocatedBlocks() * pool_.blockTokens)
                                   : uint64_t(std::max(t.rowsPerBatch, t.capacityPerBatch));
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

} // namespace detail

const BoundEntry& Program::Impl::entryOf(fb::EntryKind kind) const {
  auto found = entries.find(kind);
  if (found == entries.end())
    throw Error(path + ": the artifact has no " + fb::EnumNameEntryKind(kind) + " entry point");
  return found->second;
}

Program::Program(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Program::~Program() = default;

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

int64_t Program::maxTokens(fb::EntryKind kind) const {
  return impl_->entryOf(kind).limits.maxTokens;
}

int64_t Program::inputWidth(fb::EntryKind kind, fb::InputKind input) const {
  const BoundEntry& entry = impl_->entryOf(kind);
  if (const auto* declared = entry.entry->inputs())
    for (const fb::EntryInput* candidate : *declared)
      if (candidate->kind() == input)
        return entry.buffers[size_t(candidate->buffer())].rowElements;
  return 0;
}

uint64_t Program::cacheBytes() const {
  uint64_t bytes = 0;
  for (const DeviceMemory& cache : impl_->caches)
    bytes += cache.bytes;
  return bytes;
}
int64_t Program::blockTokens() const {
  return impl_->pool.blockTokens;
}
int64_t Program::cacheBlocks() const {
  return impl_->pool.blocks;
}
int64_t Program::blocksPerSequence() const {
  return impl_->pool.blocksPerSequence;
}

std::vector<int64_t> Program::Impl::checkedBlockTable(const backend::StepShape& step,
                                                      const int64_t* table) const {
  const int64_t perSequence = pool.blocksPerSequence;
  const size_t entries = size_t(step.batch * perSequence);
  std::vector<int64_t> checked(entries);
  if (!table) {
    if (step.batch * perSequence > pool.blocks)
      throw Error("internal error: a step of " + std::to_string(step.batch) +
                  " sequences without a block table needs " + std::to_string(entries) +
                  " cache blocks; the pool has " + std::to_string(pool.blocks));
    for (size_t i = 0; i < entries; ++i)
      checked[i] = int64_t(i);
  } else {
    for (size_t i = 0; i < entries; ++i) {
      if (table[i] < 0 || table[i] >= pool.blocks)
        throw Error("internal error: block table entry " + std::to_string(i) + " names block " +
                    std::to_string(table[i]) + " of a pool of " + std::to_string(pool.blocks));
      checked[i] = table[i];
    }
  }
  return checked;
}

void Program::Impl::uploadBlockTable(const std::vector<int64_t>& table) {
  hostTable = table; // the device copy is asynchronous: its source must outlive the call
  if (!hostTable.empty())
    device->copyToDevice(blockTable.data, hostTable.data(), hostTable.size() * sizeof(int64_t));
}

void Program::Impl::copyInputs(BoundEntry& entry, const backend::StepShape& step,
                               const EntryInputs& inputs) {
  const char* name = fb::EnumNameEntryKind(entry.entry->kind());
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
      case fb::InputKind::PixelValues:
        host = inputs.pixelValues, rows = step.batch;
        break;
      case fb::InputKind::ImageEmbeddings:
        host = inputs.imageEmbeddings, rows = step.imageRows;
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
        device->copyToDevice(buffer.data, host, bytes);
    }
}

bool Program::Impl::ensureOutput(BoundEntry& entry, const backend::StepShape& step) {
  const fb::View& outputView = *entry.entry->output();
  BoundBuffer& output = entry.buffers[size_t(outputView.buffer())];
  const int64_t outputRows = rowsOf(outputView.extent(), outputView.multiplier(), step);
  const size_t outputBytes = size_t(outputRows * output.rowElements) * dtypeSize(output.type);
  if (output.bytes >= outputBytes)
    return false;
  output.output = DeviceMemory(*device, outputBytes);
  output.data = static_cast<std::byte*>(output.output.data);
  output.bytes = outputBytes;
  return true;
}

std::vector<float> Program::Impl::readOutput(const BoundEntry& entry,
                                             const backend::StepShape& step) {
  const fb::View& outputView = *entry.entry->output();
  const BoundBuffer& output = entry.buffers[size_t(outputView.buffer())];
  const int64_t outputRows = rowsOf(outputView.extent(), outputView.multiplier(), step);
  const size_t outputBytes = size_t(outputRows * output.rowElements) * dtypeSize(output.type);
  std::vector<std::byte> host(outputBytes);
  device->copyToHost(host.data(), output.data, outputBytes);
  std::vector<float> result(size_t(outputRows * output.rowElements));
  const size_t element = dtypeSize(output.type);
  for (size_t i = 0; i < result.size(); ++i)
    result[i] = loadFloat(output.type, host.data() + i * element);
  return result;
}

void Program::Impl::runRecorded(BoundEntry& entry, const backend::StepShape& step,
                                const EntryInputs& inputs, StepBucket bucket) {
  // The caller's table is checked as given; padded rows name only the scratch block.
  const std::vector<int64_t> table = checkedBlockTable(step, inputs.blockTable);
  EntryInputs real = inputs;
  real.blockTable = table.data();
  const PaddedStep padded = padStep(step, real, bucket, pool.blocksPerSequence, pool.scratchBlock);
  copyInputs(entry, padded.shape, padded.inputs());
  uploadBlockTable(padded.blockTable);
  if (ensureOutput(entry, padded.shape))
    entry.recordings.clear();
  auto launches = [this, &entry, shape = padded.shape] {
    StepContext context(path, weights, entry, shape, pool);
    for (auto& kernel : entry.kernels)
      kernel->run(context);
  };
  backend::Recording* recording = entry.recordings.find(bucket);
  if (!recording && !entry.recordings.firstSight(bucket)) {
    if (std::unique_ptr<backend::Recording> made = device->record(launches))
      recording = entry.recordings.insert(bucket, std::move(made));
    else
      entry.recordable = false; // the backend could not capture this entry: run it eagerly
  }
  if (recording)
    recording->replay();
  else
    launches();
  device->synchronize();
}

void Program::Impl::execute(BoundEntry& entry, const backend::StepShape& step,
                            const EntryInputs& inputs) {
  const char* name = fb::EnumNameEntryKind(entry.entry->kind());
  if (step.batch < 1 || step.tokens < 1 || step.batch > maxBatch ||
      step.tokens > entry.limits.maxTokens || step.keys < 1 || step.keys > maxSeqLen ||
      step.headRows < 0 || step.headRows > step.batch * step.tokens || step.imageRows < 0 ||
      step.imageRows > step.batch * step.tokens)
    throw Error("internal error: a " + std::string(name) + " step of " +
                std::to_string(step.batch) + " x " + std::to_string(step.tokens) + " tokens, " +
                std::to_string(step.keys) + " keys and " + std::to_string(step.headRows) +
                " head rows exceeds the plan (" + std::to_string(maxBatch) + " x " +
                std::to_string(entry.limits.maxTokens) + ")");
  if (entry.recordable && !profiling)
    if (std::optional<StepBucket> bucket = bucketOf(step, maxBatch, maxSeqLen, keyGranule))
      return runRecorded(entry, step, inputs, *bucket);
  copyInputs(entry, step, inputs);
  if (entry.usesCaches)
    uploadBlockTable(checkedBlockTable(step, inputs.blockTable));
  if (ensureOutput(entry, step))
    entry.recordings.clear();

  StepContext context(path, weights, entry, step, pool);
  if (profiling) {
    using Clock = std::chrono::steady_clock;
    entry.runs.resize(entry.kernels.size());
    entry.seconds.resize(entry.kernels.size());
    for (size_t i = 0; i < entry.kernels.size(); ++i) {
      const Clock::time_point start = Clock::now();
      entry.kernels[i]->run(context);
      device->synchronize(); // asynchronous devices: charge the call, not a later one
      entry.runs[i] += 1;
      entry.seconds[i] += std::chrono::duration<double>(Clock::now() - start).count();
    }
  } else {
    for (auto& kernel : entry.kernels)
      kernel->run(context);
  }
  device->synchronize();
}

std::vector<float> Program::run(fb::EntryKind kind, const backend::StepShape& step,
                                const EntryInputs& inputs) {
  BoundEntry& entry = const_cast<BoundEntry&>(impl_->entryOf(kind));
  impl_->execute(entry, step, inputs);
  return impl_->readOutput(entry, step);
}

bool Program::runSelecting(fb::EntryKind kind, const backend::StepShape& step,
                           const EntryInputs& inputs, const backend::TokenChoice& choice,
                           const std::vector<double>& uniforms,
                           std::vector<backend::SelectedToken>& selected,
                           std::vector<float>& logits) {
  Impl& m = *impl_;
  BoundEntry& entry = const_cast<BoundEntry&>(m.entryOf(kind));
  m.execute(entry, step, inputs);
  const fb::View& outputView = *entry.entry->output();
  const BoundBuffer& output = entry.buffers[size_t(outputView.buffer())];
  backend::Tensor rows;
  rows.data = output.data;
  rows.type = output.type;
  rows.rowsPerBatch = rowsOf(outputView.extent(), outputView.multiplier(), step);
  rows.rowStride = rows.headDim = output.rowElements;
  if (uniforms.size() != size_t(rows.rowsPerBatch))
    throw Error("internal error: " + std::to_string(uniforms.size()) + " draws for " +
                std::to_string(rows.rowsPerBatch) + " rows of logits");
  selected.assign(size_t(rows.rowsPerBatch), {});
  if ((output.type == DType::F32 || output.type == DType::BF16) &&
      m.device->selectTokens(rows, choice, uniforms.data(), selected.data()))
    return true;
  logits = m.readOutput(entry, step);
  return false;
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
