// The reference checkpoints end to end on a GPU against HF's recorded outputs (label gpu), as
// ReferenceParityTest holds the CPU to them: prefill logits, greedy continuations, step logits.
// The device machine has no compiler, so tools/gpu/check.sh compiles the artifacts here
// (--target cuda:sm_80, which runs on every GPU from Ampere on) into FATHOM_GPU_ARTIFACTS;
// FATHOM_REFERENCE_DIR points at test/reference where the source tree moved.
#include "../e2e/CausalLmParity.h"
#include "fathom/cuda/Kernels.h"
#include "fathom/executor/Model.h"

#include <cmath>
#include <filesystem>
#include <fstream>

namespace fathom {
namespace {
namespace fs = std::filesystem;

struct Param {
  std::string checkpoint, dtype;
};
void PrintTo(const Param& p, std::ostream* out) {
  *out << p.checkpoint << " " << p.dtype;
}

fs::path referenceDir() {
  const char* moved = std::getenv("FATHOM_REFERENCE_DIR");
  return moved ? fs::path(moved) : fs::path(FATHOM_SOURCE_DIR) / "test" / "reference";
}

class CudaReferenceParity : public ::testing::TestWithParam<Param> {
protected:
  // The artifact tools/gpu/check.sh compiled for this case (max batch 4, max_seq_len 128), or
  // empty when the test must skip (reason set).
  fs::path artifactOrSkipReason(std::string& reason) {
    if (!cuda::deviceAvailable(reason)) {
      reason = "no usable CUDA GPU here, so the model cannot run on one: " + reason;
      return {};
    }
    const char* artifacts = std::getenv("FATHOM_GPU_ARTIFACTS");
    if (!artifacts) {
      reason = "FATHOM_GPU_ARTIFACTS is not set: tools/gpu/check.sh compiles the CUDA "
               "artifacts and runs this test";
      return {};
    }
    const Param& p = GetParam();
    return fs::path(artifacts) / (p.checkpoint + "-" + p.dtype + ".fathom");
  }
};

TEST_P(CudaReferenceParity, CausalLmLogitsAndGreedyContinuations) {
  std::string reason;
  const fs::path artifact = artifactOrSkipReason(reason);
  if (artifact.empty())
    GTEST_SKIP() << reason;
  const Param& p = GetParam();
  ASSERT_TRUE(fs::exists(artifact)) << artifact;
  const fs::path outputs = referenceDir() / "outputs" / (p.checkpoint + ".json");
  std::ifstream in(outputs);
  ASSERT_TRUE(in) << outputs;
  nlohmann::json json = nlohmann::json::parse(in);
  auto tensors = frontend::TensorStore::openSingleFile(referenceDir() / "outputs" /
                                                       json["tensors_file"].get<std::string>());
  auto model = executor::Model::load(artifact.string());
  ASSERT_EQ(model->artifact().metadata().target()->str(), "cuda");
  // The default pipeline absorbs MLA in decode, which rounds elsewhere than HF in bf16.
  test::expectCausalLmParity(*model, json, tensors,
                             {"cuda " + p.checkpoint + " " + p.dtype, p.dtype,
                              p.dtype == "bf16" ? 1e-2 : 1e-4, p.dtype == "fp32"});
}

// Decode steps replayed from CUDA graphs (at batch and key buckets: three sequences run as four,
// keys padded to multiples of 16) against the same steps launched call by call. The padded
// batch may make cuBLASLt pick another algorithm, so logits agree to rounding, not bit for bit.
TEST_P(CudaReferenceParity, RecordedDecodeStepsMatchEagerOnes) {
  std::string reason;
  const fs::path artifact = artifactOrSkipReason(reason);
  if (artifact.empty())
    GTEST_SKIP() << reason;
  ASSERT_TRUE(fs::exists(artifact)) << artifact;
  auto run = [&](bool record) {
    executor::LoadOptions load;
    load.recordDecode = record;
    load.recordKeyGranule = 16;
    auto model = executor::Model::load(artifact.string(), load);
    executor::GenerationOptions options;
    options.maxNewTokens = 40;
    options.recordLogits = true;
    return executor::generate(*model, {{0, 452, 344, 12, 99, 7, 301}, {0, 44, 285}, {0, 5, 6, 7}},
                              options);
  };
  const executor::GenerationResult recorded = run(true), eager = run(false);
  const bool fp32 = GetParam().dtype == "fp32";
  if (fp32) {
    EXPECT_EQ(recorded.newTokens, eager.newTokens);
  }
  ASSERT_EQ(recorded.stepLogits.size(), eager.stepLogits.size());
  double worst = 0;
  auto sameTokenAt = [&](size_t step) {
    for (size_t b = 0; b < eager.newTokens.size(); ++b)
      if (step >= eager.newTokens[b].size() || step >= recorded.newTokens[b].size() ||
          eager.newTokens[b][step] != recorded.newTokens[b][step])
        return false;
    return true;
  };
  for (size_t step = 0; step < eager.stepLogits.size(); ++step) {
    // bf16: a near tie may pick another token, after which the runs see different inputs.
    if (step > 0 && !sameTokenAt(step - 1))
      break;
    ASSERT_EQ(recorded.stepLogits[step].size(), eager.stepLogits[step].size());
    for (size_t i = 0; i < eager.stepLogits[step].size(); ++i)
      worst = std::max(worst, std::fabs(double(recorded.stepLogits[step][i]) -
                                        double(eager.stepLogits[step][i])));
  }
  EXPECT_LE(worst, fp32 ? 1e-4 : 5e-2);
}

std::vector<Param> params() {
  std::vector<Param> all;
  for (const char* checkpoint :
       {"tiny-v3", "tiny-v3-fused", "tiny-v3-fp8", "tiny-v2-lite", "tiny-v2-mlp-bias"})
    for (const char* dtype : {"fp32", "bf16"})
      all.push_back({checkpoint, dtype});
  return all;
}

INSTANTIATE_TEST_SUITE_P(CausalLm, CudaReferenceParity, ::testing::ValuesIn(params()),
                         [](const ::testing::TestParamInfo<Param>& info) {
                           std::string name = info.param.checkpoint + "_" + info.param.dtype;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

} // namespace
} // namespace fathom
