#pragma once
// Runs a Fathom artifact on the CPU: maps the file, binds the program's kernel calls to the
// weights and the planned activation arena, and keeps a KV cache sized at compile time
// (max_batch x max_seq_len). A batch is a prefill over left-padded prompts followed by any
// number of one-token decode steps; every sequence of the batch shares the cache position.
#include "fathom/artifact/Artifact.h"
#include "fathom/runtime/DType.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace fathom::executor {

struct LoadOptions {
  int threads = 0; // 0: every hardware thread
  // Reports the weight checksum verification, the long part of loading a big artifact.
  artifact::Artifact::Progress progress;
};

// A rectangular batch, row-major [batch, tokens].
struct TokenBatch {
  int64_t batch = 0, tokens = 0;
  std::vector<int64_t> ids;
  std::vector<int64_t> positions;
  std::vector<uint8_t> mask; // 1 = real token, 0 = padding (never attended to)
};

class CpuModel {
public:
  // Throws fathom::Error naming the file and the problem (corrupt, wrong version, not a CPU
  // artifact, a program this runtime cannot run).
  static std::unique_ptr<CpuModel> load(const std::string& path, const LoadOptions& options = {});
  ~CpuModel();

  const artifact::Artifact& artifact() const;
  DType computeDtype() const;
  int64_t maxBatch() const;
  int64_t maxSeqLen() const;
  // Logits per row (vocabulary size) or scores per row (number of labels).
  int64_t outputWidth() const;
  // "causal_lm", "sequence_classification" or "token_classification".
  const std::string& head() const;
  int numThreads() const;

  // Starts a new batch: resets the cache and runs the prompts. Returns fp32 logits
  // [batch, tokens, vocab] when allPositions, else [batch, vocab] for each last position.
  std::vector<float> prefill(const TokenBatch& prompts, bool allPositions = false);
  // Appends one token per sequence (ids and positions [batch]) at the next cache position and
  // returns fp32 logits [batch, vocab].
  std::vector<float> decode(const std::vector<int64_t>& ids, const std::vector<int64_t>& positions);
  // Cache positions used so far in the current batch.
  int64_t cacheLength() const;

  // Classification heads: fp32 scores at every position [batch, tokens, labels].
  std::vector<float> classify(const TokenBatch& inputs);

private:
  struct Impl;
  explicit CpuModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace fathom::executor
