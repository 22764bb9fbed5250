#pragma once
// HF's causal-LM cases run through a loaded model, whatever backend runs it: prefill logits at
// every real position, greedy continuations (the left-padded batch included) and, in fp32, the
// logits of every generate step (ReferenceParityTest on the CPU, CudaReferenceParityTest on a
// GPU).
#include "ReferenceTensors.h"
#include "fathom/executor/Generate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace fathom::test {

struct ParityRun {
  std::string label;      // printed with the errors
  std::string run;        // "fp32" or "bf16": the reference's run
  double tolerance = 0;   // max |ours - HF| / max |HF|
  bool followsHfRounding; // then at least 90% of bf16 greedy continuations must match
};

// max |a - b| / max |b| over rows whose mask is 1 (rows of `width` values).
inline double maskedRelativeError(const std::vector<float>& ours, const std::vector<float>& hf,
                                  const std::vector<uint8_t>& rowMask, int64_t width) {
  double diff = 0, scale = 0;
  for (size_t r = 0; r < rowMask.size(); ++r) {
    if (!rowMask[r])
      continue;
    for (int64_t j = 0; j < width; ++j) {
      size_t i = r * size_t(width) + size_t(j);
      diff = std::max(diff, double(std::fabs(ours[i] - hf[i])));
      scale = std::max(scale, double(std::fabs(hf[i])));
    }
  }
  return diff / std::max(scale, 1e-30);
}

inline void expectCausalLmParity(executor::Model& model, const nlohmann::json& json,
                                 const frontend::TensorStore& tensors, const ParityRun& p) {
  const std::string& run = p.run;
  int greedyCases = 0, greedyMatches = 0;
  for (const auto& c : json["cases"]) {
    if (!c["runs"].contains(run) || !c["runs"][run].contains("generate"))
      continue;
    if (c.contains("pixel_values"))
      continue; // image prompts: VisionLanguageParity
    SCOPED_TRACE(c["name"].get<std::string>());
    executor::TokenBatch batch = caseBatch(c);
    const auto& r = c["runs"][run];
    std::vector<float> hf = readFloats(tensors, r["logits"]["name"]);
    std::vector<float> ours = model.prefill(batch, /*allPositions=*/true);
    int64_t vocab = model.outputWidth();
    ASSERT_EQ(ours.size(), hf.size());
    double error = maskedRelativeError(ours, hf, batch.mask, vocab);
    EXPECT_LE(error, p.tolerance) << "prefill logits";
    std::printf("[ parity ] %s %s prefill max rel error %.3g\n", p.label.c_str(),
                c["name"].get<std::string>().c_str(), error);

    // Greedy generation from the unpadded prompts, as generate() saw them.
    const auto& g = r["generate"];
    std::vector<std::vector<int64_t>> prompts;
    for (int64_t b = 0; b < batch.batch; ++b) {
      std::vector<int64_t> prompt;
      for (int64_t t = 0; t < batch.tokens; ++t)
        if (batch.mask[size_t(b * batch.tokens + t)])
          prompt.push_back(batch.ids[size_t(b * batch.tokens + t)]);
      prompts.push_back(prompt);
    }
    executor::GenerationOptions options;
    options.maxNewTokens = g["num_steps"].get<int64_t>();
    options.padTokenId = g["pad_token_id_after_eos"].get<int64_t>();
    if (const auto* eos = model.artifact().metadata().generation()->eos_token_ids())
      options.eosTokenIds.assign(eos->begin(), eos->end());
    options.recordLogits = true;
    auto result = executor::generate(model, prompts, options);
    for (int64_t b = 0; b < batch.batch; ++b) {
      std::vector<int64_t> expected = g["new_ids"][b].get<std::vector<int64_t>>();
      std::vector<int64_t> got = result.newTokens[size_t(b)];
      got.resize(expected.size(), options.padTokenId); // generate() pads finished rows
      ++greedyCases;
      greedyMatches += got == expected;
      if (run == "fp32") {
        EXPECT_EQ(got, expected) << "row " << b;
      }
      if (got == expected) {
        EXPECT_EQ(result.stoppedAtEos[size_t(b)], g["stopped_at_eos"][b].get<bool>())
            << "row " << b;
      }
    }
    if (run == "fp32" && !g["logits"].is_null()) {
      // Step logits [B, steps, V]: compare every step of every unfinished row.
      std::vector<float> hfSteps = readFloats(tensors, g["logits"]["name"]);
      int64_t steps = std::min<int64_t>(result.steps, g["num_steps"].get<int64_t>());
      for (int64_t s = 0; s < steps; ++s)
        for (int64_t b = 0; b < batch.batch; ++b) {
          if (s >= int64_t(result.newTokens[size_t(b)].size()))
            continue;
          std::vector<float> ourRow(result.stepLogits[size_t(s)].begin() + b * vocab,
                                    result.stepLogits[size_t(s)].begin() + (b + 1) * vocab);
          std::vector<float> hfRow(hfSteps.begin() + (b * options.maxNewTokens + s) * vocab,
                                   hfSteps.begin() + (b * options.maxNewTokens + s + 1) * vocab);
          EXPECT_LE(maskedRelativeError(ourRow, hfRow, {1}, vocab), p.tolerance)
              << "step " << s << " row " << b;
        }
    }
  }
  ASSERT_GT(greedyCases, 0);
  std::printf("[ parity ] %s greedy continuations identical: %d / %d\n", p.label.c_str(),
              greedyMatches, greedyCases);
  // The naive attention reproduces HF's bf16 roundings, so its greedy continuations must match;
  // the absorbed decode rounds elsewhere (model-spec A5) and is held to HF's bf16 accuracy
  // instead (AbsorptionAccuracyTest): on these random models a rounding-level difference can
  // flip an expert, as HF's own bf16 does against its fp32 in 1 to 4 of these 8 cases.
  if (p.followsHfRounding) {
    EXPECT_GE(greedyMatches * 10, greedyCases * 9) << "at least 90% of greedy continuations";
  }
}

} // namespace fathom::test
