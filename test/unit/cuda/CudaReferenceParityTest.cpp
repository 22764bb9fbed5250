// The reference checkpoints end to end on a GPU against HF's recorded outputs (label gpu), as
// ReferenceParityTest holds the CPU to them: prefill logits, greedy continuations, step logits.
// The device machine has no compiler, so tools/gpu/check.sh compiles the artifacts here
// (--target cuda:sm_80, which runs on every GPU from Ampere on) into FATHOM_GPU_ARTIFACTS;
// FATHOM_REFERENCE_DIR points at test/reference where the source tree moved.
#include "../e2e/CausalLmParity.h"
#include "fathom/cuda/Kernels.h"
#include "fathom/executor/Model.h"

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

class CudaReferenceParity : public ::testing::TestWithParam<Param> {};

TEST_P(CudaReferenceParity, CausalLmLogitsAndGreedyContinuations) {
  std::string reason;
  if (!cuda::deviceAvailable(reason))
    GTEST_SKIP() << "no usable CUDA GPU here, so the model cannot run on one: " << reason;
  const char* artifacts = std::getenv("FATHOM_GPU_ARTIFACTS");
  if (!artifacts)
    GTEST_SKIP() << "FATHOM_GPU_ARTIFACTS is not set: tools/gpu/check.sh compiles the CUDA "
                    "artifacts and runs this test";
  const Param& p = GetParam();
  const fs::path artifact = fs::path(artifacts) / (p.checkpoint + "-" + p.dtype + ".fathom");
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
