// generate() choosing tokens on the device (Backend::selectTokens), on a backend defined here
// that wraps the CPU's and chooses with the host sampler from the draws it is given (declining,
// as CUDA does, top-p without top-k): the tokens of the plain CPU run for greedy and sampled
// generation, whether the device chooses or declines, since the draws are made the same way.
#include "CpuBackendWrapper.h"
#include "compiler/driver/CompileCheckpoint.h"
#include "fathom/cpu/Sampling.h"
#include "fathom/executor/Generate.h"
#include "fathom/executor/Model.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>

namespace fathom {
namespace {
namespace fs = std::filesystem;
namespace fb = artifact::fb;

class ChoosingBackend final : public test::CpuBackendWrapper {
public:
  ChoosingBackend() : CpuBackendWrapper({2, nullptr}) {}

  int chosen = 0, declined = 0;

  bool selectTokens(const backend::Tensor& logits, const backend::TokenChoice& choice,
                    const double* uniforms, backend::SelectedToken* selected) override {
    if (choice.doSample && choice.topK <= 0) {
      ++declined;
      return false;
    }
    ++chosen;
    EXPECT_EQ(logits.type, DType::F32);
    const int64_t n = logits.width();
    cpu::ScratchBuffer scratch(cpu::samplingScratchBytes(n));
    for (int64_t r = 0; r < logits.rows(); ++r) {
      const float* from = logits.as<float>() + r * logits.rowStride;
      std::vector<float> row(from, from + n);
      selected[r] = {};
      for (int64_t i = 0; i < n && selected[r].nonFinite < 0; ++i)
        if (std::isnan(row[size_t(i)]) || row[size_t(i)] == std::numeric_limits<float>::infinity())
          selected[r].nonFinite = i, selected[r].nan = std::isnan(row[size_t(i)]);
      if (selected[r].nonFinite < 0)
        selected[r].token = cpu::selectToken(row.data(), n, choice, uniforms[r], scratch.span());
    }
    return true;
  }
};

class DeviceTokenChoice : public testing::Test {
protected:
  static void SetUpTestSuite() {
    path_ = new fs::path(fs::temp_directory_path() /
                         ("fathom-choice-" + std::to_string(getpid()) + ".fathom"));
    compiler::CompileOptions options;
    options.compute = DType::F32;
    options.maxSeqLen = 64;
    options.maxBatch = 3;
    compiler::compileCheckpoint(frontend::Checkpoint::open(fs::path(FATHOM_SOURCE_DIR) / "test" /
                                                           "reference" / "checkpoints" / "tiny-v3"),
                                path_->string(), options);
  }
  static void TearDownTestSuite() {
    fs::remove(*path_);
    delete path_;
  }
  static std::unique_ptr<executor::Model> load(std::shared_ptr<backend::Backend> backend) {
    executor::LoadOptions options;
    options.threads = 2;
    options.backend = std::move(backend);
    return executor::Model::load(path_->string(), options);
  }
  static executor::GenerationResult generate(executor::Model& model,
                                             const executor::GenerationOptions& options) {
    return executor::generate(model, {{0, 452, 344, 12, 99, 7, 301}, {0, 44, 285}, {0, 5, 6, 7}},
                              options);
  }
  static fs::path* path_;
};
fs::path* DeviceTokenChoice::path_ = nullptr;

executor::GenerationOptions sampled(backend::TokenChoice choice) {
  executor::GenerationOptions options;
  options.maxNewTokens = 20;
  options.sampling = choice;
  options.seed = 7;
  options.eosTokenIds = {5, 9}; // some rows finish early and take no more draws
  return options;
}

TEST_F(DeviceTokenChoice, GivesTheHostsTokensWhetherTheDeviceChoosesOrDeclines) {
  auto host = load(nullptr);
  const std::vector<std::pair<const char*, backend::TokenChoice>> choices = {
      {"greedy", {}},
      {"DeepSeek's sampling", {true, 0.6f, 50, 0.95, 1}},
      {"temperature 1.5, top-k 200", {true, 1.5f, 200, 1.0, 1}},
      {"top-p alone (declined)", {true, 1.0f, 0, 0.8, 1}},
  };
  for (const auto& [label, choice] : choices) {
    SCOPED_TRACE(label);
    auto backend = std::make_shared<ChoosingBackend>();
    auto device = load(backend);
    const executor::GenerationResult want = generate(*host, sampled(choice)),
                                     got = generate(*device, sampled(choice));
    EXPECT_EQ(got.newTokens, want.newTokens);
    EXPECT_EQ(got.stoppedAtEos, want.stoppedAtEos);
    // Every decode step asked the device (the prefill's first token is chosen on the host).
    EXPECT_EQ(backend->chosen + backend->declined, int(got.steps) - 1);
    EXPECT_EQ(backend->declined > 0, choice.doSample && choice.topK == 0);
  }
}

TEST_F(DeviceTokenChoice, ContinuedSequencesAndRecordedLogitsToo) {
  auto host = load(nullptr);
  auto backend = std::make_shared<ChoosingBackend>();
  auto device = load(backend);
  const executor::GenerationOptions options = sampled({true, 0.7f, 40, 0.9, 1});
  auto continued = [&](executor::Model& model) {
    const executor::SequenceId id = model.openSequence();
    auto tokens = executor::continueSequence(model, id, {0, 44, 285, 402}, options).newTokens;
    model.closeSequence(id);
    return tokens;
  };
  EXPECT_EQ(continued(*device), continued(*host));
  EXPECT_GT(backend->chosen, 0);

  // recordLogits needs every step's logits back: the host chooses.
  backend->chosen = 0;
  executor::GenerationOptions recording = options;
  recording.recordLogits = true;
  EXPECT_EQ(generate(*device, recording).newTokens, generate(*host, recording).newTokens);
  EXPECT_EQ(backend->chosen, 0);
}

} // namespace
} // namespace fathom
