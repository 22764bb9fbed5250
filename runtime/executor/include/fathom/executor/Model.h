#pragma once
// A session over a Fathom artifact's entry points, the way a causal LM or classifier is used:
// a batch starts with a prefill of left-padded prompts that fills the KV caches, then any
// number of one-token decode steps; classifiers score a batch in one call. The session keeps
// the cache position and which keys exist (padding does not) and feeds them to the entry
// points as their inputs; what the network computes is the artifact's.
#include "fathom/executor/Program.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace fathom::executor {

// A rectangular batch, row-major [batch, tokens].
struct TokenBatch {
  int64_t batch = 0, tokens = 0;
  std::vector<int64_t> ids;
  std::vector<int64_t> positions;
  std::vector<uint8_t> mask; // 1 = real token, 0 = padding (never attended to)
};

class Model {
public:
  // Throws fathom::Error naming the file and the problem.
  static std::unique_ptr<Model> load(const std::string& path, const LoadOptions& options = {});

  const artifact::Artifact& artifact() const { return program_->artifact(); }
  Program& program() { return *program_; }
  DType computeDtype() const { return program_->computeDtype(); }
  int64_t maxBatch() const { return program_->maxBatch(); }
  int64_t maxSeqLen() const { return program_->maxSeqLen(); }
  // Logits per row (vocabulary size) or scores per row (number of labels).
  int64_t outputWidth() const;
  // "causal_lm", "sequence_classification" or "token_classification".
  const std::string& head() const { return head_; }
  int numThreads() const { return program_->backend().parallelism(); }

  // Starts a new batch: the prompts fill the caches from position 0. Returns fp32 logits
  // [batch, tokens, vocab] when allPositions, else [batch, vocab] for each last position.
  // `imageEmbeddings` (vision-language artifacts): encodeImages() rows for the prompts' image
  // tokens, in row-major order over the padded batch; empty for text prompts.
  std::vector<float> prefill(const TokenBatch& prompts, bool allPositions = false,
                             const std::vector<float>& imageEmbeddings = {});
  // Appends one token per sequence (ids and positions [batch]) at the next cache position and
  // returns fp32 logits [batch, vocab].
  std::vector<float> decode(const std::vector<int64_t>& ids, const std::vector<int64_t>& positions);
  // Cache positions used so far in the current batch.
  int64_t cacheLength() const { return cacheLength_; }

  // Classification heads: fp32 scores [batch, labels] pooled at each sequence's last non-pad
  // token (sequence classification), or [batch, tokens, labels] (token classification).
  std::vector<float> classify(const TokenBatch& inputs);

  // Vision-language artifacts: whether they hold the encode_image entry point, the floats per
  // image it takes (channels-first pixel values) and the embeddings it returns per image.
  bool encodesImages() const;
  int64_t pixelValuesPerImage() const;
  int64_t imageTokens() const;
  // pixel_values [images, pixelValuesPerImage()] -> fp32 [images, imageTokens(), hidden], run
  // max_batch images at a time.
  std::vector<float> encodeImages(const std::vector<float>& pixelValues);

private:
  explicit Model(std::unique_ptr<Program> program);
  void checkBatch(const TokenBatch& batch) const;

  std::unique_ptr<Program> program_;
  std::string head_;
  int64_t batch_ = 0;             // sequences in the current batch
  int64_t cacheLength_ = 0;       // shared by the batch's sequences
  std::vector<uint8_t> keyValid_; // [maxBatch, maxSeqLen]
};

} // namespace fathom::executor
