// The DeepSeek routers of transformers 5.x (DeepseekV3TopkRouter, DeepseekV2TopkRouter), one
// token at a time. Every top-k goes through topkLikeTorch, so ties and slot order are torch's,
// and the renormalization sums in torch's order (sumLikeTorch).
#include "Elements.h"
#include "fathom/cpu/Elementwise.h"
#include "fathom/cpu/Moe.h"
#include "fathom/cpu/TopK.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace fathom::cpu {
namespace {

constexpr int64_t kMaxExperts = 1024;

void checkConfig(const RouterConfig& c, const float* correctionBias) {
  auto fail = [](const std::string& message) { throw Error("moeRoute: " + message); };
  if (c.numExperts <= 0 || c.numExperts > kMaxExperts)
    fail("numExperts " + std::to_string(c.numExperts) + " must be in [1, " +
         std::to_string(kMaxExperts) + "]");
  if (c.topK <= 0 || c.topK > c.numExperts)
    fail("topK " + std::to_string(c.topK) + " must be in [1, numExperts]");
  if (c.method == RouterMethod::SoftmaxGreedy)
    return;
  if (c.numGroups <= 0 || c.numExperts % c.numGroups != 0)
    fail("numExperts " + std::to_string(c.numExperts) + " is not a multiple of numGroups " +
         std::to_string(c.numGroups));
  if (c.topkGroup <= 0 || c.topkGroup > c.numGroups)
    fail("topkGroup " + std::to_string(c.topkGroup) + " must be in [1, numGroups]");
  if (c.method == RouterMethod::SigmoidGroupTop2) {
    if (c.numExperts / c.numGroups < 2)
      fail("group-top-2 routing needs at least 2 experts per group");
    if (!correctionBias)
      fail("SigmoidGroupTop2 needs the e_score_correction_bias");
  }
}

// Marks the experts of the topkGroup best groups (torch.topk(sorted=False) over groupScores).
void keepBestGroups(const RouterConfig& c, const float* groupScores, TopKEntry* work,
                    bool* expertKept) {
  int64_t best[kMaxExperts];
  topkLikeTorch(groupScores, c.numGroups, c.topkGroup, false, work, best);
  const int64_t groupSize = c.numExperts / c.numGroups;
  std::fill(expertKept, expertKept + c.numExperts, false);
  for (int64_t i = 0; i < c.topkGroup; ++i)
    std::fill(expertKept + best[i] * groupSize, expertKept + (best[i] + 1) * groupSize, true);
}

void routeToken(const RouterConfig& c, const float* logits, const float* bias, int32_t* indexOut,
                float* weightOut) {
  const int64_t experts = c.numExperts,
                groupSize = c.numExperts / std::max<int64_t>(c.numGroups, 1);
  float scores[kMaxExperts], choice[kMaxExperts], groupScores[kMaxExperts];
  bool kept[kMaxExperts];
  TopKEntry work[kMaxExperts];
  int64_t chosen[kMaxExperts];
  float chosenValue[kMaxExperts];
  float weights[kMaxExperts];

  if (c.method == RouterMethod::SigmoidGroupTop2) {
    for (int64_t e = 0; e < experts; ++e) {
      scores[e] = 1.0f / (1.0f + std::exp(-logits[e]));
      choice[e] = scores[e] + bias[e];
    }
    for (int64_t g = 0; g < c.numGroups; ++g) {
      float top2[2];
      topkLikeTorch(choice + g * groupSize, groupSize, 2, true, work, chosen, top2);
      groupScores[g] = sumLikeTorch(top2, 2);
    }
    keepBestGroups(c, groupScores, work, kept);
    for (int64_t e = 0; e < experts; ++e)
      choice[e] = kept[e] ? choice[e] : c.droppedGroupScore;
    topkLikeTorch(choice, experts, c.topK, false, work, chosen);
    for (int64_t k = 0; k < c.topK; ++k)
      weights[k] = scores[chosen[k]]; // the unbiased score
  } else {
    std::copy(logits, logits + experts, scores);
    softmaxRow(scores, experts);
    if (c.method == RouterMethod::SoftmaxGroupMax) {
      for (int64_t g = 0; g < c.numGroups; ++g) {
        const float* group = scores + g * groupSize;
        float best = group[0];
        for (int64_t i = 1; i < groupSize; ++i)
          best = (std::isnan(group[i]) || group[i] > best) ? group[i] : best;
        groupScores[g] = best;
      }
      keepBestGroups(c, groupScores, work, kept);
      for (int64_t e = 0; e < experts; ++e)
        scores[e] = kept[e] ? scores[e] : 0.0f;
    }
    topkLikeTorch(scores, experts, c.topK, false, work, chosen, chosenValue);
    std::copy(chosenValue, chosenValue + c.topK, weights);
  }

  if (c.normTopkProb) {
    float denominator = sumLikeTorch(weights, c.topK) + 1e-20f;
    for (int64_t k = 0; k < c.topK; ++k)
      weights[k] /= denominator;
  }
  const float scaling = float(c.routedScalingFactor);
  for (int64_t k = 0; k < c.topK; ++k) {
    indexOut[k] = int32_t(chosen[k]);
    weightOut[k] = weights[k] * scaling;
  }
}

} // namespace

void moeRoute(ThreadPool& pool, const RouterConfig& config, const float* logits,
              const float* correctionBias, int64_t tokens, int32_t* expertIndex,
              float* expertWeight) {
  checkConfig(config, correctionBias);
  pool.parallelFor(0, tokens, 4, [&](int64_t first, int64_t last) {
    for (int64_t t = first; t < last; ++t)
      routeToken(config, logits + t * config.numExperts, correctionBias,
                 expertIndex + t * config.topK, expertWeight + t * config.topK);
  });
}

} // namespace fathom::cpu
