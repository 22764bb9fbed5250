#include "fathom/executor/Generate.h"

#include "fathom/runtime/Error.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

namespace fathom::executor {
namespace {

// NaN or +inf logits mean the arithmetic overflowed (a config's scale out of all proportion,
// corrupted weights); picking a token from them would print garbage as if it were an answer.
[[noreturn]] void nonFiniteLogits(size_t sequence, int64_t step, int64_t token, bool nan) {
  throw Error("the logits of sequence " + std::to_string(sequence) + " at generation step " +
              std::to_string(step + 1) + " hold " + (nan ? "NaN" : "+inf") + " (token " +
              std::to_string(token) +
              "): the model's arithmetic overflowed; check the checkpoint's weights and " +
              "its config's scaling values");
}

void requireFiniteLogits(const float* logits, int64_t vocab, size_t sequence, int64_t step) {
  for (int64_t i = 0; i < vocab; ++i)
    if (std::isnan(logits[i]) || logits[i] == std::numeric_limits<float>::infinity())
      nonFiniteLogits(sequence, step, i, std::isnan(logits[i]));
}

} // namespace

TokenBatch leftPadPrompts(const std::vector<std::vector<int64_t>>& prompts, int64_t padTokenId) {
  TokenBatch batch;
  batch.batch = int64_t(prompts.size());
  for (const auto& prompt : prompts)
    batch.tokens = std::max(batch.tokens, int64_t(prompt.size()));
  for (const auto& prompt : prompts) {
    int64_t padding = batch.tokens - int64_t(prompt.size());
    int64_t position = 0;
    for (int64_t t = 0; t < batch.tokens; ++t) {
      bool real = t >= padding;
      batch.ids.push_back(real ? prompt[size_t(t - padding)] : padTokenId);
      batch.mask.push_back(real ? 1 : 0);
      batch.positions.push_back(real ? position++ : 0);
    }
  }
  return batch;
}

namespace {

// transformers' sampling loop from the first logits on: per unfinished row select a token, stop
// at EOS or when the callback says so, feed the tokens back through `next` (ids, positions,
// draws -> Model::Chosen: the tokens chosen on the device, or the logits) until every row has
// finished or max_new_tokens is reached. Each step's draws are made before it runs, one per
// unfinished row in row order, whichever side then chooses: the same stream either way.
template <class Next>
void sampleLoop(std::vector<float> logits, std::vector<int64_t> nextPosition, int64_t vocab,
                const GenerationOptions& options, const TokenCallback& onToken, Next&& next,
                GenerationResult& result) {
  const size_t rows = nextPosition.size();
  result.newTokens.resize(rows);
  result.stoppedAtEos.assign(rows, false);
  std::vector<bool> finished(rows, false);
  cpu::SamplingRng rng(options.seed);
  cpu::ScratchBuffer scratch(cpu::samplingScratchBytes(vocab));
  std::vector<int64_t> ids(rows), positions(rows);
  std::vector<double> draws(rows, 0.0);
  auto draw = [&] {
    for (size_t b = 0; b < rows; ++b)
      draws[b] = options.sampling.doSample && !finished[b] ? rng.nextUniform() : 0.0;
  };
  draw();
  Model::Chosen chosen;
  chosen.logits = std::move(logits);
  while (true) {
    if (options.recordLogits)
      result.stepLogits.push_back(chosen.logits);
    for (size_t b = 0; b < rows; ++b) {
      if (finished[b]) {
        ids[b] = options.padTokenId;
      } else {
        int64_t token;
        if (chosen.onDevice) {
          const backend::SelectedToken& picked = chosen.tokens.at(b);
          if (picked.nonFinite >= 0)
            nonFiniteLogits(b, result.steps, picked.nonFinite, picked.nan);
          token = picked.token;
        } else {
          float* row = chosen.logits.data() + b * size_t(vocab);
          requireFiniteLogits(row, vocab, b, result.steps);
          token = cpu::selectToken(row, vocab, options.sampling, draws[b], scratch.span());
        }
        ids[b] = token;
        result.newTokens[b].push_back(token);
        bool eos = std::find(options.eosTokenIds.begin(), options.eosTokenIds.end(), token) !=
                   options.eosTokenIds.end();
        bool stop = onToken && onToken(b, token);
        if (eos || stop) {
          finished[b] = true;
          result.stoppedAtEos[b] = eos;
        }
      }
      positions[b] = nextPosition[b]++;
    }
    ++result.steps;
    if (result.steps >= options.maxNewTokens ||
        std::all_of(finished.begin(), finished.end(), [](bool f) { return f; }))
      break;
    draw();
    chosen = next(ids, positions, draws);
  }
}

// Whether decode steps may choose on the device (they need no logits back).
bool choosesOnDevice(const GenerationOptions& options) {
  return options.chooseOnDevice && !options.recordLogits;
}

} // namespace

GenerationResult generate(Model& model, const std::vector<std::vector<int64_t>>& prompts,
                          const GenerationOptions& options, const TokenCallback& onToken) {
  using Clock = std::chrono::steady_clock;
  if (prompts.empty())
    throw Error("no prompt given");
  for (size_t i = 0; i < prompts.size(); ++i)
    if (prompts[i].empty())
      throw Error("prompt " + std::to_string(i) + " is empty");
  if (options.maxNewTokens < 0)
    throw Error("max new tokens must not be negative");
  TokenBatch batch = leftPadPrompts(prompts, options.padTokenId);
  if (batch.tokens + std::max<int64_t>(options.maxNewTokens - 1, 0) > model.maxSeqLen())
    throw Error("a prompt of " + std::to_string(batch.tokens) + " tokens plus " +
                std::to_string(options.maxNewTokens) + " new tokens exceeds the artifact's max " +
                "sequence length of " + std::to_string(model.maxSeqLen()) +
                " (recompile with --max-seq-len, or ask for fewer tokens)");

  GenerationResult result;
  const size_t rows = prompts.size();
  result.newTokens.resize(rows);
  result.stoppedAtEos.assign(rows, false);
  std::vector<int64_t> nextPosition(rows);
  for (size_t b = 0; b < rows; ++b) {
    result.promptTokens += int64_t(prompts[b].size());
    nextPosition[b] = int64_t(prompts[b].size());
  }
  if (options.maxNewTokens == 0)
    return result;

  auto start = Clock::now();
  std::vector<float> logits = model.prefill(batch, false, options.imageEmbeddings);
  result.prefillSeconds = std::chrono::duration<double>(Clock::now() - start).count();
  auto decodeStart = Clock::now();
  sampleLoop(
      std::move(logits), std::move(nextPosition), model.outputWidth(), options, onToken,
      [&](const std::vector<int64_t>& ids, const std::vector<int64_t>& positions,
          const std::vector<double>& draws) {
        if (choosesOnDevice(options))
          return model.decodeChoosing(ids, positions, options.sampling, draws);
        Model::Chosen chosen;
        chosen.logits = model.decode(ids, positions);
        return chosen;
      },
      result);
  result.decodeSeconds = std::chrono::duration<double>(Clock::now() - decodeStart).count();
  return result;
}

GenerationResult continueSequence(Model& model, SequenceId sequence,
                                  const std::vector<int64_t>& tokens,
                                  const GenerationOptions& options, const TokenCallback& onToken) {
  using Clock = std::chrono::steady_clock;
  if (tokens.empty())
    throw Error("nothing to continue the sequence with: no new tokens");
  if (options.maxNewTokens < 0)
    throw Error("max new tokens must not be negative");
  const int64_t length = model.sequenceLength(sequence);
  const int64_t total = length + int64_t(tokens.size());
  if (total + std::max<int64_t>(options.maxNewTokens - 1, 0) > model.maxSeqLen())
    throw Error(std::to_string(length) + " cached tokens, " + std::to_string(tokens.size()) +
                " new and " + std::to_string(options.maxNewTokens) +
                " to generate exceed the artifact's max sequence length of " +
                std::to_string(model.maxSeqLen()));
  GenerationResult result;
  result.promptTokens = int64_t(tokens.size());
  result.newTokens.resize(1);
  result.stoppedAtEos.assign(1, false);
  if (options.maxNewTokens == 0)
    return result;
  TokenBatch rows{1, int64_t(tokens.size()), tokens, {}, std::vector<uint8_t>(tokens.size(), 1)};
  for (int64_t t = 0; t < rows.tokens; ++t)
    rows.positions.push_back(length + t);
  auto start = Clock::now();
  std::vector<float> logits = model.step({sequence}, rows, false, options.imageEmbeddings);
  result.prefillSeconds = std::chrono::duration<double>(Clock::now() - start).count();
  auto decodeStart = Clock::now();
  sampleLoop(
      std::move(logits), {total}, model.outputWidth(), options, onToken,
      [&](const std::vector<int64_t>& ids, const std::vector<int64_t>& positions,
          const std::vector<double>& draws) {
        const TokenBatch rows{1, 1, ids, positions, {1}};
        if (choosesOnDevice(options))
          return model.stepChoosing({sequence}, rows, options.sampling, draws);
        Model::Chosen chosen;
        chosen.logits = model.step({sequence}, rows);
        return chosen;
      },
      result);
  result.decodeSeconds = std::chrono::duration<double>(Clock::now() - decodeStart).count();
  return result;
}

} // namespace fathom::executor
