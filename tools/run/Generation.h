#pragma once
// What fathom-run's commands share: generation options from the command line and the artifact's
// generation defaults, the embedded tokenizer, and the timing lines they report.
#include "RunOptions.h"

#include "fathom/executor/Generate.h"
#include "fathom/tokenizer/Tokenizer.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <vector>

namespace fathom::run {

executor::GenerationOptions generationOptions(const executor::Model& model, const RunOptions& o,
                                              int64_t fallbackMaxNew);
// Without --max-new-tokens, generation stops where the KV cache ends instead of refusing.
void fitDefaultLength(executor::GenerationOptions& g, const executor::Model& model,
                      const RunOptions& o, const std::vector<std::vector<int64_t>>& prompts);
std::unique_ptr<tokenizer::Tokenizer> loadTokenizer(const executor::Model& model);
std::unique_ptr<tokenizer::Tokenizer> loadTokenizer(const artifact::Artifact& artifact);
// The double a float from generation_config.json stood for: its shortest decimal form, read as
// Python reads the JSON (top_p 0.95 is 0.95, not 0.949999988), since HF computes 1 - top_p in
// double.
double decimalValue(float value);

struct Timing {
  int64_t promptTokens = 0, generated = 0, decoded = 0;
  double prefillSeconds = 0, decodeSeconds = 0;
  double promptRate() const { return prefillSeconds > 0 ? promptTokens / prefillSeconds : 0; }
  // The first new token of each sequence comes from the prefill; decode steps make the rest.
  double decodeRate() const { return decodeSeconds > 0 ? decoded / decodeSeconds : 0; }
};

Timing timingOf(const executor::GenerationResult& result);
void printTiming(const Timing& t, int threads);
nlohmann::json timingJson(const Timing& t, int threads);

} // namespace fathom::run
