#pragma once
// A session over a Fathom artifact's entry points, the way a causal LM or classifier is used.
// Every sequence has its own place in the KV cache: blocks drawn from one pool as it grows,
// its own length and which of its keys exist (padding does not). A step feeds any set of open
// sequences the same number of new tokens each, wherever each one stands, so a server can
// decode a batch of sequences at different positions and a chat can prefill only its new
// message. prefill()/decode() are the fixed-batch form on top: a batch of left-padded prompts
// from position 0, then one token per sequence per step. Classifiers score a batch in one
// call. What the network computes is the artifact's; this only feeds its inputs.
#include "fathom/executor/Program.h"
#include "fathom/runtime/Error.h"

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

// Thrown when the cache pool has too few free blocks for a step; nothing changed.
class CacheExhausted : public Error {
public:
  using Error::Error;
};

using SequenceId = int64_t;

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
  int64_t cacheLength() const;

  // Sequences with their own cache. open: an empty sequence (no blocks yet); close: its blocks
  // return to the pool at once.
  SequenceId openSequence();
  void closeSequence(SequenceId sequence);
  bool isOpen(SequenceId sequence) const;
  // Tokens the sequence's cache holds.
  int64_t sequenceLength(SequenceId sequence) const;
  // Forgets all but the first `length` cached tokens (a conversation whose history changed
  // past that point); the blocks past them return to the pool.
  void truncateSequence(SequenceId sequence, int64_t length);
  // Appends rows.tokens tokens to each of `sequences` (row b of `rows` to sequences[b]), each
  // after the tokens it holds, and returns fp32 logits [batch, tokens, vocab] when
  // allPositions, else [batch, vocab] at each row's last token. rows.positions are the RoPE
  // positions; rows.mask 0 marks padding that is cached but never attended to. Throws
  // CacheExhausted when the pool cannot hold the new tokens, Error past max_seq_len; a step
  // that throws leaves every sequence as it was.
  std::vector<float> step(const std::vector<SequenceId>& sequences, const TokenBatch& rows,
                          bool allPositions = false,
                          const std::vector<float>& imageEmbeddings = {});
  // decode() / step() at each row's last token with the next token chosen on the device where
  // the backend can (Backend::selectTokens; uniforms[b] is row b's draw): `tokens`, one per
  // row. Where it cannot, `logits` as decode() returns them, for the host to choose from with
  // the same draws.
  struct Chosen {
    bool onDevice = false;
    std::vector<backend::SelectedToken> tokens;
    std::vector<float> logits;
  };
  Chosen decodeChoosing(const std::vector<int64_t>& ids, const std::vector<int64_t>& positions,
                        const backend::TokenChoice& choice, const std::vector<double>& uniforms);
  Chosen stepChoosing(const std::vector<SequenceId>& sequences, const TokenBatch& rows,
                      const backend::TokenChoice& choice, const std::vector<double>& uniforms);
  // The pool: tokens per block, blocks in all and blocks no sequence holds.
  int64_t blockTokens() const { return program_->blockTokens(); }
  int64_t cacheBlocks() const { return program_->cacheBlocks(); }
  int64_t freeBlocks() const { return int64_t(freeBlocks_.size()); }

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
  struct Sequence {
    bool open = false;
    std::vector<int64_t> blocks;   // pool blocks holding its tokens, in order
    std::vector<uint8_t> keyValid; // per cached token: 0 = padding
  };

  struct Choosing {
    const backend::TokenChoice& choice;
    const std::vector<double>& uniforms;
    Chosen& out;
  };

  explicit Model(std::unique_ptr<Program> program);
  // step(), choosing tokens on the device when `choosing` is given (its out.logits otherwise).
  std::vector<float> runStep(const std::vector<SequenceId>& sequences, const TokenBatch& rows,
                             bool allPositions, const std::vector<float>& imageEmbeddings,
                             const Choosing* choosing);
  void checkDecode(const std::vector<int64_t>& ids, const std::vector<int64_t>& positions) const;
  void checkBatch(const TokenBatch& batch) const;
  Sequence& sequenceAt(SequenceId sequence);
  const Sequence& sequenceAt(SequenceId sequence) const;
  void releaseBlocksPast(Sequence& sequence, int64_t length);

  std::unique_ptr<Program> program_;
  std::string head_;
  std::vector<Sequence> sequences_;
  std::vector<SequenceId> reusable_; // closed sequence ids
  std::vector<int64_t> freeBlocks_;  // a stack, lowest block on top
  std::vector<SequenceId> batch_;    // the sequences of prefill()/decode()'s batch
};

} // namespace fathom::executor
