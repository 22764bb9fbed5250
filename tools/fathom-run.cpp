// fathom-run: runs a Fathom artifact on the CPU. Causal LMs generate from one or more prompts
// (token ids), streaming each new token; classification artifacts print labels and scores.
#include "Artifact_generated.h"
#include "fathom/executor/CpuModel.h"
#include "fathom/executor/Generate.h"
#include "fathom/runtime/Error.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {
constexpr const char* kUsage = R"(usage: fathom-run MODEL.fathom --prompt-ids IDS [--prompt-ids IDS ...] [options]

Generates from each prompt (a batch when there are several; prompts are left-padded), printing
new token ids as they are produced, or prints labels and scores for a classification artifact.

  --prompt-ids 1,2,3   a prompt as comma-separated token ids (repeat for a batch)
  --max-new-tokens N   tokens to generate per prompt (default: the artifact's generation
                       config, else 32)
  --temperature T      sample with temperature T (> 0)
  --top-k K            sample from the K most likely tokens
  --top-p P            sample from the smallest set with probability >= P (0 < P <= 1)
  --seed S             sampling seed (default 0): the same seed gives the same tokens
  --greedy             argmax decoding (the default unless a sampling flag is given)
  --no-eos             keep generating past the end-of-sequence token
  --dump-logits FILE   write fp32 logits to FILE (safetensors): "prefill" [batch, tokens,
                       vocab] at every prompt position and "steps" [batch, steps, vocab]
  --json               print one JSON object (ids, timings) instead of streaming
  --threads N          CPU threads (default: all)
  --help               show this help

A timing line goes to stderr: prompt and generated tokens per second.
)";

struct UsageError {
  std::string message;
};

struct Arguments {
  std::string model;
  std::vector<std::vector<int64_t>> prompts;
  std::optional<int64_t> maxNewTokens;
  std::optional<double> temperature, topP;
  std::optional<int64_t> topK;
  uint64_t seed = 0;
  bool greedy = false, noEos = false, json = false, help = false;
  std::string dumpLogits;
  int threads = 0;
};

int64_t parseInteger(std::string_view option, const std::string& text, int64_t minimum) {
  size_t used = 0;
  int64_t value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size() || value < minimum)
    throw UsageError{std::string(option) + " needs an integer >= " + std::to_string(minimum) +
                     ", got '" + text + "'"};
  return value;
}

double parseReal(std::string_view option, const std::string& text) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size() || !std::isfinite(value))
    throw UsageError{std::string(option) + " needs a number, got '" + text + "'"};
  return value;
}

std::vector<int64_t> parseIds(const std::string& text) {
  std::vector<int64_t> ids;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find(',', begin);
    if (end == std::string::npos)
      end = text.size();
    ids.push_back(parseInteger("--prompt-ids", text.substr(begin, end - begin), 0));
    begin = end + 1;
  }
  return ids;
}

Arguments parseArguments(int argc, char** argv) {
  Arguments a;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        throw UsageError{std::string(arg) + " needs a value"};
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h")
      a.help = true;
    else if (arg == "--prompt-ids")
      a.prompts.push_back(parseIds(value()));
    else if (arg == "--max-new-tokens")
      a.maxNewTokens = parseInteger(arg, value(), 0);
    else if (arg == "--temperature") {
      a.temperature = parseReal(arg, value());
      if (*a.temperature <= 0)
        throw UsageError{"--temperature must be > 0 (use --greedy for argmax)"};
    } else if (arg == "--top-k")
      a.topK = parseInteger(arg, value(), 1);
    else if (arg == "--top-p") {
      a.topP = parseReal(arg, value());
      if (*a.topP <= 0 || *a.topP > 1)
        throw UsageError{"--top-p must be in (0, 1]"};
    } else if (arg == "--seed")
      a.seed = uint64_t(parseInteger(arg, value(), 0));
    else if (arg == "--greedy")
      a.greedy = true;
    else if (arg == "--no-eos")
      a.noEos = true;
    else if (arg == "--dump-logits")
      a.dumpLogits = value();
    else if (arg == "--json")
      a.json = true;
    else if (arg == "--threads")
      a.threads = int(parseInteger(arg, value(), 1));
    else if (arg.starts_with("-"))
      throw UsageError{"unknown option " + std::string(arg) + " (see --help)"};
    else if (!a.model.empty())
      throw UsageError{"more than one model given: " + a.model + " and " + std::string(arg)};
    else
      a.model = arg;
  }
  if (a.help)
    return a;
  if (a.model.empty())
    throw UsageError{"no model given (see --help)"};
  if (a.prompts.empty())
    throw UsageError{"no prompt given: --prompt-ids 1,2,3"};
  if (a.greedy && (a.temperature || a.topK || a.topP))
    throw UsageError{"--greedy cannot be combined with --temperature, --top-k or --top-p"};
  return a;
}

// A minimal safetensors writer: fp32 tensors, row-major.
void writeSafetensors(const std::string& path,
                      const std::vector<std::pair<std::string, std::vector<int64_t>>>& shapes,
                      const std::vector<const std::vector<float>*>& data) {
  nlohmann::json header = nlohmann::json::object();
  uint64_t offset = 0;
  for (size_t i = 0; i < shapes.size(); ++i) {
    uint64_t bytes = data[i]->size() * 4;
    header[shapes[i].first] = {{"dtype", "F32"}, {"shape", shapes[i].second},
                               {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::ofstream out(path, std::ios::binary);
  uint64_t length = text.size();
  out.write(reinterpret_cast<const char*>(&length), 8);
  out << text;
  for (const auto* tensor : data)
    out.write(reinterpret_cast<const char*>(tensor->data()), std::streamsize(tensor->size() * 4));
  if (!out)
    throw fathom::Error(path + ": cannot write logits");
}

std::vector<int64_t> toVector(const flatbuffers::Vector<int64_t>* values) {
  return values ? std::vector<int64_t>(values->begin(), values->end()) : std::vector<int64_t>{};
}

int classify(fathom::executor::CpuModel& model, const Arguments& a);
int generateTokens(fathom::executor::CpuModel& model, const Arguments& a);

int fail(const std::string& message) {
  std::cerr << "fathom-run: error: " << message << std::endl;
  return 1;
}
} // namespace

int main(int argc, char** argv) {
  try {
    Arguments arguments = parseArguments(argc, argv);
    if (arguments.help) {
      std::cout << kUsage;
      return 0;
    }
    auto model = fathom::executor::CpuModel::load(arguments.model, {arguments.threads});
    if (model->head() != "causal_lm")
      return classify(*model, arguments);
    return generateTokens(*model, arguments);
  } catch (const UsageError& error) {
    return fail(error.message);
  } catch (const std::exception& error) {
    return fail(error.what());
  }
}

namespace {

int generateTokens(fathom::executor::CpuModel& model, const Arguments& a) {
  namespace fb = fathom::artifact::fb;
  const fb::GenerationDefaults* defaults = model.artifact().metadata().generation();
  fathom::executor::GenerationOptions options;
  options.maxNewTokens = a.maxNewTokens.value_or(
      defaults && defaults->max_new_tokens() > 0 ? defaults->max_new_tokens() : 32);
  options.seed = a.seed;
  options.sampling.doSample = a.temperature || a.topK || a.topP;
  options.sampling.temperature = float(a.temperature.value_or(1.0));
  options.sampling.topK = a.topK.value_or(0);
  options.sampling.topP = a.topP.value_or(1.0);
  if (!a.noEos && defaults)
    options.eosTokenIds = toVector(defaults->eos_token_ids());
  options.padTokenId = defaults && defaults->pad_token_id() >= 0 ? defaults->pad_token_id()
                       : !options.eosTokenIds.empty()            ? options.eosTokenIds[0]
                                                                 : 0;
  options.recordLogits = !a.dumpLogits.empty();

  bool stream = !a.json;
  bool single = a.prompts.size() == 1;
  auto onToken = [&](size_t sequence, int64_t token) {
    if (stream && single) {
      std::printf("%lld ", static_cast<long long>(token));
      std::fflush(stdout);
    }
    (void)sequence;
    return false;
  };
  auto result = fathom::executor::generate(model, a.prompts, options, onToken);

  if (stream && single)
    std::printf("\n");
  else if (stream)
    for (const auto& tokens : result.newTokens) {
      for (size_t i = 0; i < tokens.size(); ++i)
        std::printf("%s%lld", i ? " " : "", static_cast<long long>(tokens[i]));
      std::printf("\n");
    }
  int64_t generated = 0;
  for (const auto& tokens : result.newTokens)
    generated += int64_t(tokens.size());
  double promptRate = result.prefillSeconds > 0 ? result.promptTokens / result.prefillSeconds : 0;
  // The first token comes from the prefill; the decode steps produce the rest.
  int64_t decoded = generated - int64_t(result.newTokens.size());
  double decodeRate = result.decodeSeconds > 0 ? std::max<int64_t>(decoded, 0) / result.decodeSeconds : 0;
  if (a.json) {
    nlohmann::json out = {{"ids", result.newTokens},
                          {"stopped_at_eos", result.stoppedAtEos},
                          {"prompt_tokens", result.promptTokens},
                          {"generated_tokens", generated},
                          {"prefill_seconds", result.prefillSeconds},
                          {"decode_seconds", result.decodeSeconds},
                          {"prompt_tokens_per_second", promptRate},
                          {"generated_tokens_per_second", decodeRate},
                          {"threads", model.numThreads()}};
    std::cout << out.dump() << "\n";
  }
  std::fprintf(stderr,
               "fathom-run: prompt %lld tokens in %.3f s (%.1f tok/s), generated %lld tokens, "
               "decode %.1f tok/s, %d threads\n",
               static_cast<long long>(result.promptTokens), result.prefillSeconds, promptRate,
               static_cast<long long>(generated), decodeRate, model.numThreads());

  if (!a.dumpLogits.empty()) {
    auto batch = fathom::executor::leftPadPrompts(a.prompts, options.padTokenId);
    std::vector<float> prefill = model.prefill(batch, /*allPositions=*/true);
    int64_t vocab = model.outputWidth(), steps = int64_t(result.stepLogits.size());
    std::vector<float> stepLogits(size_t(batch.batch * steps * vocab));
    for (int64_t s = 0; s < steps; ++s)
      for (int64_t b = 0; b < batch.batch; ++b)
        std::memcpy(&stepLogits[size_t((b * steps + s) * vocab)],
                    &result.stepLogits[size_t(s)][size_t(b * vocab)], size_t(vocab) * 4);
    writeSafetensors(a.dumpLogits,
                     {{"prefill", {batch.batch, batch.tokens, vocab}},
                      {"steps", {batch.batch, steps, vocab}}},
                     {&prefill, &stepLogits});
  }
  return 0;
}

int classify(fathom::executor::CpuModel& model, const Arguments& a) {
  const auto* labels = model.artifact().metadata().labels();
  // HF's classifiers see attention_mask only, so positions run 0..L-1 over the padded row.
  int64_t pad = 0;
  if (const auto* defaults = model.artifact().metadata().generation())
    pad = defaults->pad_token_id() >= 0 ? defaults->pad_token_id() : 0;
  auto batch = fathom::executor::leftPadPrompts(a.prompts, pad);
  for (int64_t b = 0; b < batch.batch; ++b)
    for (int64_t t = 0; t < batch.tokens; ++t)
      batch.positions[size_t(b * batch.tokens + t)] = t;
  std::vector<float> scores = model.classify(batch);
  int64_t width = model.outputWidth();
  bool perToken = model.head() == "token_classification";
  nlohmann::json out = nlohmann::json::array();
  for (int64_t b = 0; b < batch.batch; ++b) {
    nlohmann::json rows = nlohmann::json::array();
    // Sequence classification pools the last position (prompts are left-padded).
    int64_t first = perToken ? batch.tokens - int64_t(a.prompts[size_t(b)].size()) : batch.tokens - 1;
    for (int64_t t = first; t < batch.tokens; ++t) {
      const float* row = &scores[size_t((b * batch.tokens + t) * width)];
      int64_t best = 0;
      for (int64_t j = 1; j < width; ++j)
        if (row[j] > row[best])
          best = j;
      std::string label = labels && best < int64_t(labels->size()) ? labels->Get(flatbuffers::uoffset_t(best))->str()
                                                                   : "LABEL_" + std::to_string(best);
      rows.push_back({{"label", label}, {"index", best}, {"scores", std::vector<float>(row, row + width)}});
      if (!a.json)
        std::printf("%s%s %.6f", t == first ? "" : " ", label.c_str(), row[best]);
    }
    if (!a.json)
      std::printf("\n");
    out.push_back(perToken ? rows : rows[0]);
  }
  if (a.json)
    std::cout << out.dump() << "\n";
  return 0;
}

} // namespace
