// Sampling warpers against transformers 5.23's logits processors, and the seeded draw.
#include "fathom/cpu/Sampling.h"
#include "fathom/runtime/Error.h"
#include "fathom/runtime/Numeric.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

namespace fathom::cpu {
namespace {

// i = torch.arange(300); x = (((i*i*7 + 3*i) % 97).float() / 16.0 - 3.0).bfloat16().float()
// Many ties, as bf16 logits have.
std::vector<float> tiedLogits() {
  std::vector<float> x(300);
  for (int64_t i = 0; i < 300; ++i)
    x[size_t(i)] = roundToBf16(float((i * i * 7 + 3 * i) % 97) / 16.0f - 3.0f);
  return x;
}

std::vector<int64_t> survivors(const std::vector<float>& logits) {
  std::vector<int64_t> kept;
  for (size_t i = 0; i < logits.size(); ++i)
    if (logits[i] != -INFINITY)
      kept.push_back(int64_t(i));
  return kept;
}

TEST(Argmax, FirstMaximumWinsAndNanIsTheMaximum) {
  std::vector<float> x = {1, 3, 3, 2};
  EXPECT_EQ(argmax(x.data(), 4), 1);
  x[3] = NAN;
  EXPECT_EQ(argmax(x.data(), 4), 3);
}

TEST(TopP, MatchesHfIncludingTiesAtTheBoundary) {
  ScratchBuffer scratch(samplingScratchBytes(300));
  // TopPLogitsWarper(top_p=0.3)(None, x): the 20 tokens tied at the top survive.
  std::vector<float> x = tiedLogits();
  applyTopP(x.data(), 300, 0.3, 1, scratch.span());
  EXPECT_EQ(survivors(x), (std::vector<int64_t>{5,   16,  39,  50,  71,  81,  102, 113, 136, 147,
                                                168, 178, 199, 210, 212, 233, 244, 265, 275, 296}));
  x = tiedLogits();
  applyTopP(x.data(), 300, 0.9, 1, scratch.span());
  EXPECT_EQ(survivors(x).size(), 123u);
}

TEST(TopP, EdgeCases) {
  ScratchBuffer scratch(samplingScratchBytes(10));
  // transformers: TopPLogitsWarper(top_p)(None, torch.tensor([[1, 2, 2, .5, 3, 2, -1, 0, 3, 1]]))
  const std::vector<float> base = {1, 2, 2, 0.5f, 3, 2, -1, 0, 3, 1};
  std::vector<float> x = base;
  applyTopP(x.data(), 10, 0.5, 1, scratch.span());
  EXPECT_EQ(survivors(x), (std::vector<int64_t>{4, 8}));
  x = base;
  applyTopP(x.data(), 10, 0.8, 1, scratch.span());
  EXPECT_EQ(survivors(x), (std::vector<int64_t>{1, 2, 4, 5, 8}));
  x = base;
  applyTopP(x.data(), 10, 0.95, 1, scratch.span());
  EXPECT_EQ(survivors(x), (std::vector<int64_t>{0, 1, 2, 4, 5, 8, 9}));
  // top_p = 0 removes everything but min_tokens_to_keep (the last in ascending order: index 8).
  x = base;
  applyTopP(x.data(), 10, 0.0, 1, scratch.span());
  EXPECT_EQ(survivors(x), (std::vector<int64_t>{8}));
  x = base;
  applyTopP(x.data(), 10, 0.0, 3, scratch.span());
  EXPECT_EQ(survivors(x).size(), 3u);
  // top_p = 1 keeps every token with nonzero probability.
  x = base;
  applyTopP(x.data(), 10, 1.0, 1, scratch.span());
  EXPECT_EQ(survivors(x).size(), 10u);
  EXPECT_THROW(applyTopP(x.data(), 10, 1.5, 1, scratch.span()), Error);
}

TEST(TopK, KeepsTiesWithTheKthValue) {
  ScratchBuffer scratch(samplingScratchBytes(300));
  std::vector<float> x = tiedLogits();
  applyTopK(x.data(), 300, 3, 1, scratch.span()); // TopKLogitsWarper(3): 6 tokens tie for 3rd
  EXPECT_EQ(survivors(x), (std::vector<int64_t>{71, 81, 168, 178, 265, 275}));
}

TEST(Sampling, HfProcessorOrderTemperatureTopKTopP) {
  // TemperatureLogitsWarper(0.7) -> TopKLogitsWarper(20) -> TopPLogitsWarper(0.8)
  ScratchBuffer scratch(samplingScratchBytes(300));
  std::vector<float> x = tiedLogits();
  applyTemperature(x.data(), 300, 0.7f);
  applyTopK(x.data(), 300, 20, 1, scratch.span());
  applyTopP(x.data(), 300, 0.8, 1, scratch.span());
  EXPECT_EQ(survivors(x), (std::vector<int64_t>{5, 16, 39, 50, 71, 81, 102, 113, 136, 147, 168, 178,
                                                199, 210, 233, 244, 265, 275, 296}));
}

TEST(Sampling, TopKOneIsGreedy) {
  ScratchBuffer scratch(samplingScratchBytes(300));
  std::vector<float> base(300);
  for (size_t i = 0; i < base.size(); ++i)
    base[i] = std::sin(float(i) * 0.37f) * 4.0f;
  SamplingParams params{.doSample = true, .temperature = 0.8f, .topK = 1};
  for (uint64_t seed = 0; seed < 20; ++seed) {
    SamplingRng rng(seed);
    std::vector<float> x = base;
    EXPECT_EQ(selectToken(x.data(), 300, params, rng, scratch.span()), argmax(base.data(), 300));
  }
  SamplingRng rng(0);
  std::vector<float> x = base;
  EXPECT_EQ(selectToken(x.data(), 300, SamplingParams{}, rng, scratch.span()),
            argmax(base.data(), 300));
}

TEST(Sampling, SameSeedSameTokensAndTheRightDistribution) {
  ScratchBuffer scratch(samplingScratchBytes(4));
  const std::vector<float> logits = {std::log(0.1f), std::log(0.2f), -INFINITY, std::log(0.7f)};
  auto draw = [&](uint64_t seed, int count) {
    SamplingRng rng(seed);
    std::vector<int64_t> tokens;
    for (int i = 0; i < count; ++i)
      tokens.push_back(sampleFromLogits(logits.data(), 4, rng, scratch.span()));
    return tokens;
  };
  EXPECT_EQ(draw(42, 50), draw(42, 50));
  EXPECT_NE(draw(42, 50), draw(43, 50));
  std::map<int64_t, int> counts;
  for (int64_t token : draw(7, 20000))
    counts[token]++;
  EXPECT_EQ(counts[2], 0); // -inf is never drawn
  EXPECT_NEAR(counts[0] / 20000.0, 0.1, 0.01);
  EXPECT_NEAR(counts[1] / 20000.0, 0.2, 0.015);
  EXPECT_NEAR(counts[3] / 20000.0, 0.7, 0.015);
  // The PRNG is the documented one: mt19937_64, 53-bit doubles.
  SamplingRng rng(5489);
  std::mt19937_64 engine(5489);
  EXPECT_EQ(rng.nextUniform(), double(engine() >> 11) * 0x1.0p-53);
}

TEST(Sampling, RejectsBadParameters) {
  ScratchBuffer scratch(samplingScratchBytes(4));
  std::vector<float> x = {1, 2, 3, 4};
  EXPECT_THROW(applyTemperature(x.data(), 4, 0.0f), Error);
  EXPECT_THROW(applyTopK(x.data(), 4, 0, 0, scratch.span()), Error);
  std::vector<float> dead = {-INFINITY, -INFINITY};
  SamplingRng rng(1);
  EXPECT_THROW(sampleFromLogits(dead.data(), 2, rng, scratch.span()), Error);
  EXPECT_THROW(applyTopP(x.data(), 4, 0.5, 1, {}), Error); // no scratch
}

} // namespace
} // namespace fathom::cpu
