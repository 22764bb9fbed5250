#include "ProgramState.h"
#include "fathom/comm/Communicator.h"

#include "Registry.h"
#include "fathom/runtime/Json.h"

#include <unistd.h>

namespace fathom::executor {
using namespace detail;
namespace {

uint64_t physicalMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGESIZE);
  return pages > 0 && pageSize > 0 ? uint64_t(pages) * uint64_t(pageSize) : UINT64_MAX;
}

// The element type and width an input kind's host array has.
// Pixel values are one f32 image per row and image embeddings one f32 embedding; every other
// input is one i64 (key mask: bool) per row.
bool inputFits(fb::InputKind kind, const BoundBuffer& buffer) {
  if (uint8_t(kind) > uint8_t(fb::InputKind::MAX) || buffer.kind != fb::BufferKind::Arena)
    return false;
  if (kind == fb::InputKind::PixelValues || kind == fb::InputKind::ImageEmbeddings)
    return buffer.type == DType::F32 && buffer.rowElements >= 1;
  const DType expected = kind == fb::InputKind::KeyMask ? DType::Bool : DType::I64;
  return buffer.type == expected && buffer.rowElements == 1;
}

// The step shapes a program is checked at before it runs: the plan's largest and its smallest.
std::vector<backend::StepShape> planningShapes(fb::EntryKind kind,
                                               const backend::PlanLimits& limits) {
  const int64_t batch = limits.maxBatch, tokens = limits.maxTokens;
  switch (kind) {
  case fb::EntryKind::Classify:
    return {{batch, tokens, tokens, 0}, {1, 1, 1, 0}};
  case fb::EntryKind::Decode:
    return {{batch, 1, limits.maxSeqLen, batch, batch}, {1, 1, 1, 1, 0}};
  case fb::EntryKind::EncodeImage: // every image has all its patches
    return {{batch, tokens, tokens, 0}, {1, tokens, tokens, 0}};
  case fb::EntryKind::Prefill:
    break;
  }
  return {{batch, tokens, std::max(tokens, limits.maxSeqLen), batch * tokens, batch * tokens},
          {1, 1, 1, 1, 0}};
}

} // namespace

void Program::Impl::checkAgainstConfig() const {
  const fb::Artifact& meta = file->metadata();
  if (!meta.model_config_json())
    throw Error(path + ": the artifact holds no model config");
  const nlohmann::json config =
      parseJsonStrict(meta.model_config_json()->string_view(), path + ": model_config_json");
  // DeepSeek-V3/V2 keep it at the top; DeepSeek-VL in text_config.
  auto member = [](const nlohmann::json& object, const char* key) -> const nlohmann::json* {
    if (!object.is_object())
      return nullptr;
    auto found = object.find(key);
    return found == object.end() || found->is_null() ? nullptr : &*found;
  };
  const nlohmann::json* vocab = member(config, "vocab_size");
  if (const nlohmann::json* text = member(config, "text_config"); !vocab && text)
    vocab = member(*text, "vocab_size");
  if (!vocab || !isNonNegativeInteger(*vocab))
    throw Error(path + ": model_config_json has no vocab_size");
  const int64_t vocabSize = vocab->get<int64_t>();
  const std::string head = meta.head() ? meta.head()->str() : "causal_lm";
  const int64_t labels = meta.labels() ? int64_t(meta.labels()->size()) : 0;
  for (const auto& [kind, bound] : entries) {
    const std::string name = bound.entry->name()->str();
    if (const auto* inputs = bound.entry->inputs())
      for (const fb::EntryInput* input : *inputs)
        if (input->kind() == fb::InputKind::Ids && input->upper_bound() != vocabSize)
          throw Error(path + ": entry point '" + name + "' takes token ids below " +
                      std::to_string(input->upper_bound()) + ", but the config's vocab_size is " +
                      std::to_string(vocabSize));
    const int64_t width = bound.buffers[size_t(bound.entry->output()->buffer())].rowElements;
    if (kind == fb::EntryKind::EncodeImage) {
      // Image embeddings take the place of token embeddings: the text model's width.
      const nlohmann::json* text = member(config, "text_config");
      const nlohmann::json* hidden = text ? member(*text, "hidden_size") : nullptr;
      if (!hidden || !isNonNegativeInteger(*hidden) || width != hidden->get<int64_t>())
        throw Error(path + ": entry point '" + name + "' returns rows of " + std::to_string(width) +
                    " values, but the config's text_config.hidden_size is " +
                    (hidden ? hidden->dump() : std::string("missing")));
      continue;
    }
    const int64_t expected = head == "causal_lm" ? vocabSize : labels;
    if (width != expected)
      throw Error(path + ": entry point '" + name + "' returns rows of " + std::to_string(width) +
                  (head == "causal_lm" ? " logits, but the config's vocab_size is "
                                       : " scores, but the artifact names labels: ") +
                  std::to_string(expected));
  }
}

void Program::Impl::bind(const LoadOptions& options) {
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
  if (options.kvBlockTokens < 0 || options.kvBlockTokens > kMaxBlockTokens ||
      options.kvCacheTokens < 0 || options.kvCacheTokens > kMaxBatchLimit * kMaxSeqLenLimit)
    throw Error(path + ": a KV cache block of " + std::to_string(options.kvBlockTokens) +
                " tokens and a pool of " + std::to_string(options.kvCacheTokens) +
                " tokens: blocks hold 1 to " + std::to_string(kMaxBlockTokens) +
                " tokens, the pool at most " + std::to_string(kMaxBatchLimit * kMaxSeqLenLimit));
  pool.blockTokens =
      options.kvBlockTokens ? options.kvBlockTokens : std::min<int64_t>(64, maxSeqLen);
  pool.blocksPerSequence = (maxSeqLen + pool.blockTokens - 1) / pool.blockTokens;
  pool.blocks = options.kvCacheTokens
                    ? (options.kvCacheTokens + pool.blockTokens - 1) / pool.blockTokens
                    : maxBatch * pool.blocksPerSequence;
  recordDecode = options.recordDecode && device->records();
  if (options.recordKeyGranule < 0)
    throw Error(path + ": a recorded step's key granule must not be negative");
  keyGranule = options.recordKeyGranule ? options.recordKeyGranule : kDefaultKeyGranule;
  if (recordDecode)
    pool.scratchBlock = pool.blocks;
  const uint64_t poolRows = uint64_t(pool.allocatedBlocks() * pool.blockTokens);
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
      cacheBytes.push_back(saturatingProduct(saturatingProduct(cache->row_elements(), poolRows),
                                             dtypeSize(dtypeOf(cache->dtype()))));
      if (__builtin_add_overflow(needed, cacheBytes.back(), &needed))
        needed = UINT64_MAX;
    }
  if (needed > memoryLimit)
    throw Error(path + ": the plan needs " + std::to_string(needed) +
                " bytes of activations and caches, more than the " + std::to_string(memoryLimit) +
                " bytes this process may use (recompile with a smaller --max-seq-len or "
                "--max-batch, or give the KV cache fewer tokens)");
  weights = device->bindWeights(*file);
  arena = DeviceMemory(*device, size_t(plan->arena_size()));
  if (meta.caches())
    for (size_t i = 0; i < cacheBytes.size(); ++i) {
      const fb::Cache* cache = meta.caches()->Get(flatbuffers::uoffset_t(i));
      caches.emplace_back(*device, size_t(cacheBytes[i]));
      cacheRowElements.push_back(int64_t(cache->row_elements()));
      cacheTypes.push_back(dtypeOf(cache->dtype()));
    }
  // Zeroed: the planning steps address block 0 throughout.
  blockTable = DeviceMemory(*device, size_t(maxBatch * pool.blocksPerSequence) * sizeof(int64_t));
  pool.table = static_cast<const int64_t*>(blockTable.data);
  for (const fb::EntryPoint* entry : *meta.entry_points())
    bindEntry(*entry);
  checkAgainstConfig();
}

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
      bound.usesCaches = true;
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
        throw Error(path + ": input " +
                    (uint8_t(input->kind()) <= uint8_t(fb::InputKind::MAX)
                         ? std::string(inputName(input->kind()))
                         : std::to_string(int(input->kind()))) +
                    " of entry point '" + name + "' is not an arena buffer of one " +
                    (input->kind() == fb::InputKind::KeyMask           ? "bool"
                     : input->kind() == fb::InputKind::PixelValues     ? "f32 image"
                     : input->kind() == fb::InputKind::ImageEmbeddings ? "f32 embedding"
                                                                       : "i64") +
                    " per row");
  if (entry.output()->buffer() < 0 || size_t(entry.output()->buffer()) >= bound.buffers.size() ||
      bound.buffers[size_t(entry.output()->buffer())].kind != fb::BufferKind::Output ||
      uint8_t(entry.output()->extent()) > uint8_t(fb::Extent::MAX) ||
      entry.output()->multiplier() > kMaxMultiplier ||
      bound.buffers[size_t(entry.output()->buffer())].rowElements < 1)
    throw Error(path + ": the output of entry point '" + name + "' is not an output buffer");
  const std::vector<backend::StepShape> shapes = planningShapes(entry.kind(), bound.limits);
  {
    // run() sizes the output from the step; at the plan's largest it must fit the budget too.
    const fb::View& output = *entry.output();
    const BoundBuffer& buffer = bound.buffers[size_t(output.buffer())];
    const backend::StepShape largest = shapes.front();
    const uint64_t bytes = saturatingProduct(
        saturatingProduct(uint64_t(rowsOf(output.extent(), output.multiplier(), largest)),
                          uint64_t(buffer.rowElements)),
        dtypeSize(buffer.type));
    if (bytes > memoryLimit)
      throw Error(path + ": the output of entry point '" + name + "' needs " +
                  std::to_string(bytes) + " bytes at the plan's largest step, more than the " +
                  std::to_string(memoryLimit) + " bytes this process may use");
  }
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
  for (const backend::StepShape& shape : shapes) {
    StepContext context(path, weights, bound, shape, pool, /*planning=*/true);
    for (size_t i = 0; i < bound.kernels.size(); ++i) {
      try {
        bound.kernels[i]->run(context);
      } catch (const Error& error) {
        failCall(i, error);
      }
    }
  }
  bound.recordable = canRecord(entry, bound);
  entries.emplace(entry.kind(), std::move(bound));
}

bool Program::Impl::canRecord(const fb::EntryPoint& entry, const BoundEntry& bound) const {
  if (!recordDecode || entry.kind() != fb::EntryKind::Decode || !bound.usesCaches ||
      !entry.inputs())
    return false;
  for (const auto& kernel : bound.kernels)
    if (!kernel->recordable())
      return false;
  // Padding masks the added keys and parks added sequences in the scratch block: it needs the
  // key mask and cache starts, and knows no other inputs.
  bool keyMask = false, cacheStart = false;
  for (const fb::EntryInput* input : *entry.inputs()) {
    switch (input->kind()) {
    case fb::InputKind::KeyMask:
      keyMask = true;
      break;
    case fb::InputKind::CacheStart:
      cacheStart = true;
      break;
    case fb::InputKind::Ids:
    case fb::InputKind::Positions:
    case fb::InputKind::HeadRows:
      break;
    default:
      return false;
    }
  }
  // The real rows of a padded step's output must be its first ones.
  const fb::Extent extent = entry.output()->extent();
  return keyMask && cacheStart &&
         (extent == fb::Extent::HeadRows || extent == fb::Extent::Tokens ||
          extent == fb::Extent::Batch);
}

std::unique_ptr<Program> Program::load(const std::string& path, const LoadOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->memoryLimit = options.memoryLimit ? options.memoryLimit : physicalMemoryBytes();
  const int64_t rank = options.communicator ? options.communicator->rank() : 0;
  {
    // The world is checked before this rank's weights are read.
    auto header = artifact::Artifact::open(path, artifact::Artifact::Verify::MetadataOnly);
    const int64_t world = options.communicator ? options.communicator->size() : 1;
    if (int64_t(header->metadata().world_size()) != world)
      throw Error(path + ": compiled for " + std::to_string(header->metadata().world_size()) +
                  " rank(s), but this process runs as one of " + std::to_string(world));
  }
  impl->file = artifact::Artifact::open(path, artifact::Artifact::Verify::Everything,
                                        options.progress, rank);
  const fb::Artifact& meta = impl->file->metadata();
  impl->device = options.backend;
  if (!impl->device)
    impl->device = backend::createBackend(meta.target() ? meta.target()->string_view() : "?",
                                          {options.threads, options.communicator});
  impl->bind(options);
  return std::unique_ptr<Program>(new Program(std::move(impl)));
}

} // namespace fathom::executor
