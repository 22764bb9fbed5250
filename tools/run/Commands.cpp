#include "Commands.h"
#include "Generation.h"
#include "Images.h"

#include "TextStream.h"

#include "Artifact_generated.h"
#include "fathom/executor/Generate.h"
#include "fathom/runtime/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>

namespace fathom::run {
namespace fb = artifact::fb;
namespace {

// A minimal safetensors writer: fp32 tensors, row-major.
void writeLogits(const std::string& path, executor::Model& model,
                 const std::vector<std::vector<int64_t>>& prompts,
                 const executor::GenerationOptions& g, const executor::GenerationResult& result) {
  auto batch = executor::leftPadPrompts(prompts, g.padTokenId);
  std::vector<float> prefill = model.prefill(batch, /*allPositions=*/true);
  int64_t vocab = model.outputWidth(), steps = int64_t(result.stepLogits.size());
  std::vector<float> stepLogits(size_t(batch.batch * steps * vocab));
  for (int64_t s = 0; s < steps; ++s)
    for (int64_t b = 0; b < batch.batch; ++b)
      std::memcpy(&stepLogits[size_t((b * steps + s) * vocab)],
                  &result.stepLogits[size_t(s)][size_t(b * vocab)], size_t(vocab) * 4);
  uint64_t prefillBytes = prefill.size() * 4, stepBytes = stepLogits.size() * 4;
  nlohmann::json header = {{"prefill",
                            {{"dtype", "F32"},
                             {"shape", {batch.batch, batch.tokens, vocab}},
                             {"data_offsets", {0, prefillBytes}}}},
                           {"steps",
                            {{"dtype", "F32"},
                             {"shape", {batch.batch, steps, vocab}},
                             {"data_offsets", {prefillBytes, prefillBytes + stepBytes}}}}};
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::ofstream out(path, std::ios::binary);
  uint64_t length = text.size();
  out.write(reinterpret_cast<const char*>(&length), 8);
  out << text;
  out.write(reinterpret_cast<const char*>(prefill.data()), std::streamsize(prefillBytes));
  out.write(reinterpret_cast<const char*>(stepLogits.data()), std::streamsize(stepBytes));
  if (!out)
    throw Error(path + ": cannot write logits");
}

std::string joined(const std::vector<int64_t>& ids) {
  std::string text;
  for (size_t i = 0; i < ids.size(); ++i)
    text += (i ? " " : "") + std::to_string(ids[i]);
  return text;
}

} // namespace

int generateFromIds(executor::Model& model, const RunOptions& o) {
  auto g = generationOptions(model, o, 32);
  fitDefaultLength(g, model, o, o.promptIds);
  bool stream = !o.json && o.promptIds.size() == 1;
  auto result = executor::generate(model, o.promptIds, g, [&](size_t, int64_t token) {
    if (stream) {
      std::printf("%lld ", static_cast<long long>(token));
      std::fflush(stdout);
    }
    return false;
  });
  Timing timing = timingOf(result);
  if (o.json) {
    nlohmann::json out = timingJson(timing, model.numThreads());
    out["ids"] = result.newTokens;
    out["stopped_at_eos"] = result.stoppedAtEos;
    nlohmann::json reasons = nlohmann::json::array();
    for (bool eos : result.stoppedAtEos)
      reasons.push_back(eos ? "stop" : "length");
    out["finish_reason"] = reasons;
    std::cout << out.dump() << "\n";
  } else if (stream) {
    std::printf("\n");
  } else {
    for (const auto& tokens : result.newTokens)
      std::printf("%s\n", joined(tokens).c_str());
  }
  std::fflush(stdout);
  printTiming(timing, model.numThreads());
  if (!o.dumpLogits.empty())
    writeLogits(o.dumpLogits, model, o.promptIds, g, result);
  return 0;
}

int generateFromText(executor::Model& model, const RunOptions& o) {
  auto tok = loadTokenizer(model);
  std::vector<std::vector<int64_t>> prompts;
  std::vector<float> imageEmbeddings;
  double preprocessSeconds = 0, encodeSeconds = 0;
  if (!o.images.empty()) {
    ImagePrompt prompt = prepareImagePrompt(model, *tok, o.prompts.front(), o.images);
    prompts.push_back(std::move(prompt.ids));
    imageEmbeddings = std::move(prompt.imageEmbeddings);
    preprocessSeconds = prompt.preprocessSeconds;
    encodeSeconds = prompt.encodeSeconds;
    std::fprintf(stderr, "fathom-run: %zu image%s: preprocessing %.3f s, vision tower %.3f s\n",
                 o.images.size(), o.images.size() == 1 ? "" : "s", preprocessSeconds,
                 encodeSeconds);
  } else {
    for (const std::string& text : o.prompts) {
      auto ids = tok->encode(text, /*addSpecialTokens=*/true);
      prompts.emplace_back(ids.begin(), ids.end());
    }
  }
  auto g = generationOptions(model, o, 256);
  g.imageEmbeddings = std::move(imageEmbeddings);
  fitDefaultLength(g, model, o, prompts);
  std::vector<TextStream> streams;
  for (size_t i = 0; i < prompts.size(); ++i)
    streams.emplace_back(*tok, o.stops);
  bool stream = !o.json && prompts.size() == 1;
  auto result = executor::generate(model, prompts, g, [&](size_t sequence, int64_t token) {
    std::string text = streams[sequence].push(token);
    if (stream && !text.empty()) {
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
    }
    return streams[sequence].stopped();
  });
  for (size_t i = 0; i < streams.size(); ++i) {
    std::string rest = streams[i].finish();
    if (stream)
      std::fwrite(rest.data(), 1, rest.size(), stdout);
  }
  Timing timing = timingOf(result);
  if (o.json) {
    nlohmann::json out = timingJson(timing, model.numThreads());
    if (!o.images.empty()) {
      out["image_preprocess_seconds"] = preprocessSeconds;
      out["image_encode_seconds"] = encodeSeconds;
    }
    out["prompt_ids"] = prompts;
    out["ids"] = result.newTokens;
    nlohmann::json texts = nlohmann::json::array();
    for (const TextStream& s : streams)
      texts.push_back(s.text());
    out["text"] = texts;
    out["stopped_at_eos"] = result.stoppedAtEos;
    nlohmann::json reasons = nlohmann::json::array();
    for (size_t i = 0; i < streams.size(); ++i)
      reasons.push_back(result.stoppedAtEos[i] || streams[i].stopped() ? "stop" : "length");
    out["finish_reason"] = reasons;
    std::cout << out.dump() << "\n";
  } else if (stream) {
    std::printf("\n");
  } else {
    for (const TextStream& s : streams)
      std::printf("%s\n", s.text().c_str());
  }
  std::fflush(stdout);
  printTiming(timing, model.numThreads());
  if (!o.dumpLogits.empty())
    writeLogits(o.dumpLogits, model, prompts, g, result);
  return 0;
}

int classify(executor::Model& model, const RunOptions& o) {
  std::vector<std::vector<int64_t>> prompts = o.promptIds;
  if (!o.prompts.empty()) {
    auto tok = loadTokenizer(model);
    for (const std::string& text : o.prompts) {
      auto ids = tok->encode(text, true);
      prompts.emplace_back(ids.begin(), ids.end());
    }
  }
  if (prompts.empty())
    throw Error("classification artifacts take --prompt or --prompt-ids, not --chat");
  const auto* labels = model.artifact().metadata().labels();
  int64_t pad = 0;
  if (const auto* defaults = model.artifact().metadata().generation())
    pad = defaults->pad_token_id() >= 0 ? defaults->pad_token_id() : 0;
  // HF classifiers are called with attention_mask only: positions run 0..L-1 on the padded row.
  auto batch = executor::leftPadPrompts(prompts, pad);
  for (int64_t b = 0; b < batch.batch; ++b)
    for (int64_t t = 0; t < batch.tokens; ++t)
      batch.positions[size_t(b * batch.tokens + t)] = t;
  std::vector<float> scores = model.classify(batch);
  int64_t width = model.outputWidth();
  bool perToken = model.head() == "token_classification";
  nlohmann::json out = nlohmann::json::array();
  for (int64_t b = 0; b < batch.batch; ++b) {
    nlohmann::json rows = nlohmann::json::array();
    // Token classifiers score every real token; sequence classifiers one pooled row each.
    int64_t first = perToken ? batch.tokens - int64_t(prompts[size_t(b)].size()) : 0;
    int64_t end = perToken ? batch.tokens : 1;
    for (int64_t t = first; t < end; ++t) {
      const float* row =
          perToken ? &scores[size_t((b * batch.tokens + t) * width)] : &scores[size_t(b * width)];
      int64_t best = std::max_element(row, row + width) - row;
      std::string label = labels && best < int64_t(labels->size())
                              ? labels->Get(flatbuffers::uoffset_t(best))->str()
                              : "LABEL_" + std::to_string(best);
      rows.push_back(
          {{"label", label}, {"index", best}, {"scores", std::vector<float>(row, row + width)}});
      if (!o.json)
        std::printf("%s%s %.6f", t == first ? "" : " ", label.c_str(), double(row[best]));
    }
    if (!o.json)
      std::printf("\n");
    out.push_back(perToken ? rows : rows[0]);
  }
  if (o.json)
    std::cout << out.dump() << "\n";
  return 0;
}

} // namespace fathom::run
