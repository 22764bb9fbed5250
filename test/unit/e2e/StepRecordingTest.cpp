// Recorded decode steps through the executor, on a backend defined here that wraps the CPU's and
// records as a CUDA graph would (a recording replays the same calls at the same step shape): every
// step at its bucket, padded sequences parked in the scratch block, padded keys masked, and the
// tokens and logits those of the CPU backend's own eager run.
#include "CpuBackendWrapper.h"
#include "compiler/driver/CompileCheckpoint.h"
#include "fathom/executor/Generate.h"
#include "fathom/executor/Model.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

namespace fathom {
namespace {
namespace fs = std::filesystem;
namespace fb = artifact::fb;

class RecordingBackend final : public test::CpuBackendWrapper {
public:
  explicit RecordingBackend(bool kernelsRecordable = true)
      : CpuBackendWrapper({2, nullptr}), kernelsRecordable_(kernelsRecordable) {}

  int recordings = 0, replays = 0;

  std::unique_ptr<backend::Kernel> prepare(const fb::KernelCall& call,
                                           const std::vector<backend::Weight>& weights,
                                           const backend::PlanLimits& limits) override {
    return std::make_unique<Wrapped>(cpu_->prepare(call, weights, limits), kernelsRecordable_);
  }
  bool records() const override { return true; }
  std::unique_ptr<backend::Recording> record(const std::function<void()>& launches) override {
    ++recordings;
    return std::make_unique<Replayed>(launches, replays);
  }

private:
  struct Wrapped final : backend::Kernel {
    Wrapped(std::unique_ptr<backend::Kernel> inner, bool recordable)
        : inner(std::move(inner)), canRecord(recordable) {}
    void run(const backend::CallContext& context) override { inner->run(context); }
    bool recordable() const override { return canRecord && inner->recordable(); }
    std::unique_ptr<backend::Kernel> inner;
    bool canRecord;
  };
  struct Replayed final : backend::Recording {
    Replayed(std::function<void()> launches, int& replays)
        : launches(std::move(launches)), replays(replays) {}
    void replay() override {
      ++replays;
      launches();
    }
    std::function<void()> launches;
    int& replays;
  };
  bool kernelsRecordable_;
};

class StepRecording : public testing::Test {
protected:
  static void SetUpTestSuite() {
    path_ = new fs::path(fs::temp_directory_path() /
                         ("fathom-recording-" + std::to_string(getpid()) + ".fathom"));
    compiler::CompileOptions options;
    options.compute = DType::F32;
    options.maxSeqLen = 64;
    options.maxBatch = 4;
    compiler::compileCheckpoint(frontend::Checkpoint::open(fs::path(FATHOM_SOURCE_DIR) / "test" /
                                                           "reference" / "checkpoints" / "tiny-v3"),
                                path_->string(), options);
  }
  static void TearDownTestSuite() {
    fs::remove(*path_);
    delete path_;
  }
  static std::unique_ptr<executor::Model> load(std::shared_ptr<RecordingBackend> backend,
                                               bool recordDecode = true) {
    executor::LoadOptions options;
    options.threads = 2;
    options.backend = std::move(backend); // null: the CPU backend, which never records
    options.recordDecode = recordDecode;
    options.recordKeyGranule = 16;
    // Blocks of 8 tokens, exactly as many as the three sequences below fill (5 each), so a
    // padded sequence writing anywhere but the scratch block would overwrite real keys.
    options.kvBlockTokens = 8;
    options.kvCacheTokens = 15 * 8;
    return executor::Model::load(path_->string(), options);
  }
  static executor::GenerationResult generate(executor::Model& model) {
    executor::GenerationOptions options;
    options.maxNewTokens = 30;
    options.recordLogits = true;
    options.eosTokenIds = {}; // every row runs all 30 steps
    // The longest prompt first: its keys fill the pool's first block from position 0.
    return executor::generate(model, {{0, 452, 344, 12, 99, 7, 301}, {0, 44, 285}, {0, 5, 6, 7, 8}},
                              options);
  }
  static fs::path* path_;
};
fs::path* StepRecording::path_ = nullptr;

// Three sequences run at batch 4; keys 8..36 at buckets 16, 32 and 48. Each bucket's first step
// runs eagerly, its second is recorded, and every later one replays.
TEST_F(StepRecording, ReplayedStepsGiveTheEagerTokensAndLogits) {
  auto backend = std::make_shared<RecordingBackend>();
  auto recorded = load(backend);
  auto eager = load(nullptr);
  const executor::GenerationResult got = generate(*recorded), want = generate(*eager);
  EXPECT_EQ(got.newTokens, want.newTokens);
  ASSERT_EQ(got.stepLogits.size(), want.stepLogits.size());
  for (size_t step = 0; step < want.stepLogits.size(); ++step)
    EXPECT_EQ(got.stepLogits[step], want.stepLogits[step]) << "step " << step;
  EXPECT_EQ(backend->recordings, 3);
  EXPECT_EQ(backend->replays, 8 + 15 + 3);
  // The scratch block is the runtime's own: the pool the model hands out is unchanged.
  EXPECT_EQ(recorded->program().cacheBlocks(), eager->program().cacheBlocks());
}

// A later generation reuses the recordings; a sequence continued on its own runs at batch 1.
TEST_F(StepRecording, RecordingsServeLaterGenerationsAndSingleSequences) {
  auto backend = std::make_shared<RecordingBackend>();
  auto recorded = load(backend);
  auto eager = load(nullptr);
  generate(*recorded);
  const int before = backend->recordings;
  EXPECT_EQ(generate(*recorded).newTokens, generate(*eager).newTokens);
  EXPECT_EQ(backend->recordings, before);

  executor::GenerationOptions options;
  options.maxNewTokens = 20;
  options.eosTokenIds = {};
  auto continued = [&](executor::Model& model) {
    const executor::SequenceId id = model.openSequence();
    auto first = executor::continueSequence(model, id, {0, 44, 285, 402}, options).newTokens;
    auto second = executor::continueSequence(model, id, {17, 18}, options).newTokens;
    return std::make_pair(first, second);
  };
  auto single = std::make_shared<RecordingBackend>();
  EXPECT_EQ(continued(*load(single)), continued(*load(nullptr)));
  EXPECT_EQ(single->recordings, 3); // batch 1 at 16, 32 and 48 keys (5..46)
}

TEST_F(StepRecording, AnUnrecordableKernelOrEagerModeRecordsNothing) {
  auto eager = load(nullptr);
  const auto want = generate(*eager).newTokens;
  for (bool kernelsRecordable : {false, true}) {
    auto backend = std::make_shared<RecordingBackend>(kernelsRecordable);
    auto model = load(backend, /*recordDecode=*/kernelsRecordable ? false : true);
    EXPECT_EQ(generate(*model).newTokens, want);
    EXPECT_EQ(backend->recordings, 0);
    EXPECT_EQ(backend->replays, 0);
  }
}

} // namespace
} // namespace fathom
