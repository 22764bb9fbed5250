// MLA absorption in bf16 rounds differently from HF's naive form (model-spec A5: HF rounds
// k_nope and v to bf16 per key; the absorbed decode rounds only the scores, probabilities and
// each head's output), so its bf16 logits cannot be bitwise HF's. What it must be is as
// accurate: decoding the same tokens (HF's fp32 greedy continuation, teacher-forced), its
// distance to the fp32 logits must stay within that of the naive bf16 form, which reproduces
// HF's bf16 roundings (ReferenceParityTest).
#include "compiler/driver/CompileCheckpoint.h"
#include "fathom/executor/Model.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

namespace fathom {
namespace {
namespace fs = std::filesystem;

const fs::path kReference = fs::path(FATHOM_SOURCE_DIR) / "test" / "reference";

struct Decoded {
  std::vector<std::vector<float>> steps; // per case, logits of every teacher-forced step
};

// Prefills each single-prompt case and decodes HF's fp32 continuation token by token.
Decoded decodeCases(const std::string& checkpoint, DType dtype, bool absorb,
                    const nlohmann::json& cases) {
  fs::path artifact = fs::temp_directory_path() /
                      ("fathom-absorb-" + checkpoint + (dtype == DType::BF16 ? "-bf16" : "-fp32") +
                       (absorb ? "-absorbed" : "-naive") + std::to_string(getpid()) + ".fathom");
  compiler::CompileOptions options;
  options.compute = dtype;
  options.maxSeqLen = 128;
  if (!absorb)
    options.disabledPasses.insert("fathom-mla-absorption");
  compiler::compileCheckpoint(frontend::Checkpoint::open(kReference / "checkpoints" / checkpoint),
                              artifact.string(), options);
  auto model = executor::Model::load(artifact.string());
  fs::remove(artifact);
  Decoded decoded;
  for (const auto& c : cases) {
    if (c["input_ids"].size() != 1 || !c["runs"]["fp32"].contains("generate"))
      continue;
    std::vector<int64_t> prompt = c["input_ids"][0].get<std::vector<int64_t>>();
    std::vector<int64_t> forced = c["runs"]["fp32"]["generate"]["new_ids"][0];
    executor::TokenBatch batch{1, int64_t(prompt.size()), prompt, {}, {}};
    for (size_t t = 0; t < prompt.size(); ++t) {
      batch.positions.push_back(int64_t(t));
      batch.mask.push_back(1);
    }
    std::vector<float> all = model->prefill(batch);
    for (size_t s = 0; s + 1 < forced.size(); ++s) {
      std::vector<float> step = model->decode({forced[s]}, {int64_t(prompt.size() + s)});
      all.insert(all.end(), step.begin(), step.end());
    }
    decoded.steps.push_back(std::move(all));
  }
  return decoded;
}

// Per decoded step: max |a - reference| over the vocabulary, divided by max |reference|.
std::vector<double> stepErrors(const Decoded& a, const Decoded& reference, int64_t vocab) {
  std::vector<double> errors;
  for (size_t c = 0; c < a.steps.size(); ++c)
    for (size_t begin = 0; begin < a.steps[c].size(); begin += size_t(vocab)) {
      double diff = 0, scale = 0;
      for (size_t i = begin; i < begin + size_t(vocab); ++i) {
        diff = std::max(diff, std::fabs(double(a.steps[c][i]) - double(reference.steps[c][i])));
        scale = std::max(scale, std::fabs(double(reference.steps[c][i])));
      }
      errors.push_back(diff / std::max(scale, 1e-30));
    }
  return errors;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

double fractionAbove(const std::vector<double>& values, double threshold) {
  return double(
             std::count_if(values.begin(), values.end(), [&](double v) { return v > threshold; })) /
         double(values.size());
}

class AbsorptionAccuracy : public testing::TestWithParam<std::string> {};

TEST_P(AbsorptionAccuracy, Bf16DecodeIsAsCloseToFp32AsHfsBf16Rounding) {
  std::ifstream in(kReference / "outputs" / (GetParam() + ".json"));
  ASSERT_TRUE(in);
  nlohmann::json cases = nlohmann::json::parse(in)["cases"];
  Decoded fp32 = decodeCases(GetParam(), DType::F32, true, cases);
  Decoded fp32Naive = decodeCases(GetParam(), DType::F32, false, cases);
  Decoded naive = decodeCases(GetParam(), DType::BF16, false, cases);
  Decoded absorbed = decodeCases(GetParam(), DType::BF16, true, cases);
  ASSERT_FALSE(fp32.steps.empty());
  int64_t vocab = int64_t(fp32.steps[0].size()) /
                  cases[0]["runs"]["fp32"]["generate"]["num_steps"].get<int64_t>();
  std::vector<double> forms = stepErrors(fp32, fp32Naive, vocab);
  std::vector<double> naiveErrors = stepErrors(naive, fp32Naive, vocab);
  std::vector<double> absorbedErrors = stepErrors(absorbed, fp32, vocab);
  // A step is "routed differently" when its error is far above bf16 rounding: on these random
  // tiny models a rounding-level change in a hidden state can flip an expert, in HF's own bf16
  // as well.
  constexpr double kFlip = 0.05;
  std::printf("[ absorb ] %s: %zu steps; fp32 absorbed vs naive max %.3g; bf16 vs fp32 median "
              "relative error naive (HF's rounding) %.4g, absorbed %.4g; steps with a flipped "
              "route naive %.1f%%, absorbed %.1f%%\n",
              GetParam().c_str(), forms.size(), *std::max_element(forms.begin(), forms.end()),
              median(naiveErrors), median(absorbedErrors), 100 * fractionAbove(naiveErrors, kFlip),
              100 * fractionAbove(absorbedErrors, kFlip));
  // In fp32 the two forms agree to rounding noise (a wrong absorbed weight or cache read would
  // be orders of magnitude off); in bf16 the absorbed one rounds no worse than HF does.
  EXPECT_LT(*std::max_element(forms.begin(), forms.end()), 1e-4);
  EXPECT_LE(median(absorbedErrors), 1.25 * median(naiveErrors));
  EXPECT_LE(fractionAbove(absorbedErrors, kFlip), 0.1);
}

INSTANTIATE_TEST_SUITE_P(Hf, AbsorptionAccuracy,
                         testing::Values("tiny-v3", "tiny-v3-fp8", "tiny-v2-lite",
                                         "tiny-v2-mlp-bias"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

} // namespace
} // namespace fathom
