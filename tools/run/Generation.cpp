#include "Generation.h"

#include "Artifact_generated.h"
#include "fathom/runtime/Error.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace fathom::run {
namespace fb = artifact::fb;
namespace {

std::vector<int64_t> toVector(const flatbuffers::Vector<int64_t>* values) {
  return values ? std::vector<int64_t>(values->begin(), values->end()) : std::vector<int64_t>{};
}

} // namespace

double decimalValue(float value) {
  char text[32];
  const auto end = std::to_chars(text, text + sizeof(text), value).ptr;
  return std::strtod(std::string(text, end).c_str(), nullptr);
}

executor::GenerationOptions generationOptions(const executor::Model& model, const RunOptions& o,
                                              int64_t fallbackMaxNew) {
  const fb::GenerationDefaults* defaults = model.artifact().metadata().generation();
  executor::GenerationOptions g;
  g.maxNewTokens = o.maxNewTokens.value_or(
      defaults && defaults->max_new_tokens() > 0 ? defaults->max_new_tokens() : fallbackMaxNew);
  g.seed = o.seed;
  g.sampling.doSample = o.sampling();
  g.sampling.temperature = float(o.temperature.value_or(1.0));
  g.sampling.topK = o.topK.value_or(0);
  g.sampling.topP = o.topP.value_or(1.0);
  // No sampling flag: the checkpoint's generation_config decides, as generate() reads it.
  if (!o.greedy && !o.sampling() && defaults && defaults->do_sample()) {
    g.sampling.doSample = true;
    g.sampling.temperature = defaults->temperature();
    g.sampling.topK = defaults->top_k();
    g.sampling.topP = decimalValue(defaults->top_p());
  }
  std::vector<int64_t> eos =
      defaults ? toVector(defaults->eos_token_ids()) : std::vector<int64_t>{};
  if (!o.noEos)
    g.eosTokenIds = eos;
  g.padTokenId = defaults && defaults->pad_token_id() >= 0 ? defaults->pad_token_id()
                 : !eos.empty()                            ? eos[0]
                                                           : 0;
  g.recordLogits = !o.dumpLogits.empty();
  return g;
}

void fitDefaultLength(executor::GenerationOptions& g, const executor::Model& model,
                      const RunOptions& o, const std::vector<std::vector<int64_t>>& prompts) {
  if (o.maxNewTokens)
    return;
  size_t longest = 0;
  for (const auto& prompt : prompts)
    longest = std::max(longest, prompt.size());
  g.maxNewTokens = std::max<int64_t>(
      0, std::min<int64_t>(g.maxNewTokens, model.maxSeqLen() - int64_t(longest) + 1));
}

std::unique_ptr<tokenizer::Tokenizer> loadTokenizer(const executor::Model& model) {
  return loadTokenizer(model.artifact());
}

std::unique_ptr<tokenizer::Tokenizer> loadTokenizer(const artifact::Artifact& artifact) {
  const fb::Artifact& meta = artifact.metadata();
  if (!meta.tokenizer_json() || meta.tokenizer_json()->size() == 0)
    throw Error(artifact.path() +
                ": the artifact has no tokenizer (its checkpoint had no tokenizer.json); use "
                "--prompt-ids");
  std::optional<std::string> chatTemplate;
  if (meta.chat_template() && meta.chat_template()->size() > 0)
    chatTemplate = meta.chat_template()->str();
  auto config = tokenizer::TokenizerConfig::fromJsonText(
      meta.tokenizer_config_json() ? meta.tokenizer_config_json()->string_view() : "", chatTemplate,
      "tokenizer_config.json (embedded)");
  return std::make_unique<tokenizer::Tokenizer>(tokenizer::Tokenizer::fromJsonText(
      meta.tokenizer_json()->string_view(), std::move(config), "tokenizer.json (embedded)"));
}

Timing timingOf(const executor::GenerationResult& result) {
  Timing t;
  t.promptTokens = result.promptTokens;
  for (const auto& tokens : result.newTokens)
    t.generated += int64_t(tokens.size());
  t.decoded = std::max<int64_t>(t.generated - int64_t(result.newTokens.size()), 0);
  t.prefillSeconds = result.prefillSeconds;
  t.decodeSeconds = result.decodeSeconds;
  return t;
}

void printTiming(const Timing& t, int threads) {
  std::fprintf(stderr,
               "fathom-run: prompt %lld tokens in %.3f s (%.1f tok/s), generated %lld tokens "
               "(decode %.1f tok/s), %d threads\n",
               static_cast<long long>(t.promptTokens), t.prefillSeconds, t.promptRate(),
               static_cast<long long>(t.generated), t.decodeRate(), threads);
}

nlohmann::json timingJson(const Timing& t, int threads) {
  return {{"prompt_tokens", t.promptTokens},
          {"generated_tokens", t.generated},
          {"prefill_seconds", t.prefillSeconds},
          {"decode_seconds", t.decodeSeconds},
          {"prompt_tokens_per_second", t.promptRate()},
          {"generated_tokens_per_second", t.decodeRate()},
          {"threads", threads}};
}

} // namespace fathom::run
