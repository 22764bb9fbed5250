#pragma once
// Batched generation as transformers' generate() does it: prompts left-padded with the pad
// token, position_ids = cumsum(attention_mask) - 1 with padded slots 0, one prefill, then one
// decode step per new token; a finished sequence is fed the pad token until every sequence
// has finished or max_new_tokens is reached.
#include "fathom/cpu/Sampling.h"
#include "fathom/executor/Model.h"

#include <functional>
#include <vector>

namespace fathom::executor {

struct GenerationOptions {
  int64_t maxNewTokens = 16;
  cpu::SamplingParams sampling; // greedy unless sampling.doSample
  uint64_t seed = 0;
  std::vector<int64_t> eosTokenIds;
  int64_t padTokenId = 0;
  bool recordLogits = false; // keep each step's fp32 logits (before sampling processors)
  // Decode steps choose their tokens on the device where the backend can (Backend::
  // selectTokens), copying back one id per sequence instead of its logits. The same tokens
  // either way: the host makes the draws (one per unfinished sequence per step, in order).
  // recordLogits needs the logits, so it chooses on the host.
  bool chooseOnDevice = true;
  // Vision-language prompts: the embeddings of their images (Model::encodeImages), one row per
  // image token in prompt order; the prefill writes them at the image tokens.
  std::vector<float> imageEmbeddings;
};

struct GenerationResult {
  // Per prompt: the new tokens, up to and including the one that finished it.
  std::vector<std::vector<int64_t>> newTokens;
  std::vector<bool> stoppedAtEos;
  int64_t steps = 0;
  // recordLogits: [steps][batch * vocab].
  std::vector<std::vector<float>> stepLogits;
  int64_t promptTokens = 0; // real (unpadded) prompt tokens
  double prefillSeconds = 0, decodeSeconds = 0;
};

// Called for each new token of an unfinished sequence, in order; returning true finishes that
// sequence (a stop string matched) as EOS would.
using TokenCallback = std::function<bool(size_t sequence, int64_t token)>;

TokenBatch leftPadPrompts(const std::vector<std::vector<int64_t>>& prompts, int64_t padTokenId);

GenerationResult generate(Model& model, const std::vector<std::vector<int64_t>>& prompts,
                          const GenerationOptions& options, const TokenCallback& onToken = {});

// Continues one open sequence without padding (positions = cache length): `tokens` are
// appended after what its cache holds, in one step, then up to maxNewTokens are generated as
// generate() does. The cache keeps the tokens and every new token but the last, so the next
// turn of a conversation starts where this one stopped. promptTokens counts `tokens` only.
GenerationResult continueSequence(Model& model, SequenceId sequence,
                                  const std::vector<int64_t>& tokens,
                                  const GenerationOptions& options,
                                  const TokenCallback& onToken = {});

} // namespace fathom::executor
