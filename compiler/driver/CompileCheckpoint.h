#pragma once
// The whole compile: a validated checkpoint -> model-level fathom module -> the pass pipeline ->
// kernel calls and a memory plan -> artifact file, weights streamed (derived ones evaluated by
// the initializer) in bounded memory.
#include "fathom/frontend/Checkpoint.h"
#include "fathom/runtime/DType.h"

#include <functional>
#include <set>
#include <string>
#include <vector>

namespace fathom::compiler {

struct CompileOptions {
  std::string target = "cpu";
  DType compute = DType::F32;
  int64_t maxSeqLen = 0; // 0: min(max_position_embeddings, 4096)
  int64_t maxBatch = 1;
  std::set<std::string> disabledPasses; // optimization passes to leave out
  std::string quantize = "none";        // weight storage: none, fp8 or int4 (fathom-quantize)
  int64_t tp = 1, ep = 1;               // tensor- and expert-parallel ranks (fathom-shard)
  std::set<std::string> printIrAfter;   // pass names, or "all": the module on stderr after each
  bool timePasses = false;              // MLIR's pass timing report on stderr
  // Benchmark artifacts: the weights' layout without their bytes, filled by the loader with
  // deterministic pseudo-random values (also from a folder with only config.json).
  bool syntheticWeights = false;
};

// The compute dtype HF would load the checkpoint in (dtype="auto"): its config's dtype, fp32
// when that is fp32, fp16 or absent.
DType defaultComputeDtype(const frontend::ModelConfig& config);

// Called as weight bytes are written: (bytes done, bytes total).
using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;

struct CompileSummary {
  uint64_t weightBytes = 0;
  size_t tensors = 0;
  size_t kernelCalls = 0;
  uint64_t arenaBytes = 0;
  uint64_t kvCacheBytes = 0;
  int64_t maxSeqLen = 0;
};

// fathom-compile --report: what the pipeline makes of a checkpoint, without writing weights.
struct EntryPointReport {
  std::string name;
  size_t kernelCalls = 0;
  uint64_t weightBytes = 0; // the params this entry point reads, as stored
  uint64_t arenaBytes = 0;  // its activations at the limits
};

struct CacheReport {
  std::string name;
  int64_t rowElements = 0;
  DType dtype = DType::F32;
};

struct CompileReport {
  std::string pipeline; // the passes that ran, in order
  std::string target;
  DType compute = DType::F32;
  int64_t maxSeqLen = 0, maxBatch = 0;
  bool weightsPlanned = false; // config only: weight sizes follow the config's dtype
  uint64_t storedWeightBytes = 0;
  std::vector<EntryPointReport> entryPoints;
  std::vector<CacheReport> caches;
  uint64_t kvBytesPerToken = 0;
  uint64_t kvBytesAtLimits = 0; // per token x max_seq_len x max_batch
  // The same model with fathom-mla-absorption off (0 when it is off already or the model has
  // no cache): what a per-head cache would need.
  uint64_t perHeadKvBytesPerToken = 0;
  // Ranks (fathom-shard): every size above is one rank's (the IR is per rank); of its weights,
  // sharedWeightBytes are the same bytes on every rank, the rest its own slice.
  int64_t worldSize = 1, tp = 1, ep = 1;
  uint64_t sharedWeightBytes = 0;
  // Set by the caller (--device-memory): what one device holds, to say whether a rank fits.
  uint64_t deviceMemoryBytes = 0;

  // One rank's weights, KV cache at the limits and largest activation arena.
  uint64_t bytesPerRank() const;
};

// The model-level module as text (fathom-compile --emit=mlir).
std::string emitMlir(const frontend::Checkpoint& checkpoint, const CompileOptions& options);

// Runs the pipeline and reports; works on a checkpoint without weights.
CompileReport reportCheckpoint(const frontend::Checkpoint& checkpoint,
                               const CompileOptions& options);

// Writes the artifact to `outputPath` (via a temporary of its own, renamed when complete).
// Throws fathom::Error naming the tensor, file or option at fault.
CompileSummary compileCheckpoint(const frontend::Checkpoint& checkpoint,
                                 const std::string& outputPath, const CompileOptions& options,
                                 const ProgressFn& progress = {});

} // namespace fathom::compiler
