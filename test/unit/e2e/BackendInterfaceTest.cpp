// The executor is generic: a backend defined here, in the test (it wraps the CPU backend and
// counts what it is asked to do), runs tiny-v3 through the same executor with no change outside
// this file, and gives the CPU backend's tokens. And the caches the runtime allocates are what
// fathom-compile --report planned: the latent cache with MLA absorption, the per-head cache
// without it.
#include "CpuBackendWrapper.h"
#include "compiler/driver/CompileCheckpoint.h"
#include "fathom/executor/Generate.h"
#include "fathom/executor/Model.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

namespace fathom {
namespace {
namespace fs = std::filesystem;
namespace fb = artifact::fb;

const fs::path kTinyV3 =
    fs::path(FATHOM_SOURCE_DIR) / "test" / "reference" / "checkpoints" / "tiny-v3";

// Delegates everything to the CPU backend and counts prepared calls and kernel runs by kind.
class CountingBackend final : public test::CpuBackendWrapper {
public:
  std::map<std::string, int> prepared, runs;
  size_t allocations = 0;

  void* allocate(size_t bytes) override {
    ++allocations;
    return cpu_->allocate(bytes);
  }
  std::unique_ptr<backend::Kernel> prepare(const fb::KernelCall& call,
                                           const std::vector<backend::Weight>& weights,
                                           const backend::PlanLimits& limits) override {
    std::string kind = fb::EnumNameKernelParams(call.params_type());
    ++prepared[kind];
    return std::make_unique<Counted>(cpu_->prepare(call, weights, limits), runs[kind]);
  }

private:
  struct Counted final : backend::Kernel {
    Counted(std::unique_ptr<backend::Kernel> inner, int& count)
        : inner(std::move(inner)), count(count) {}
    void run(const backend::CallContext& context) override {
      count += context.planning() ? 0 : 1; // the executor checks each call once at load
      inner->run(context);
    }
    std::unique_ptr<backend::Kernel> inner;
    int& count;
  };
};

class Artifact : public testing::Test {
protected:
  fs::path compile(const std::string& tag, const std::set<std::string>& disabled) {
    fs::path path = fs::temp_directory_path() /
                    ("fathom-backend-" + tag + "-" + std::to_string(getpid()) + ".fathom");
    compiler::CompileOptions options;
    options.compute = DType::BF16;
    options.maxSeqLen = 48;
    options.maxBatch = 2;
    options.disabledPasses = disabled;
    compiler::compileCheckpoint(frontend::Checkpoint::open(kTinyV3), path.string(), options);
    paths_.push_back(path);
    return path;
  }
  void TearDown() override {
    for (const fs::path& path : paths_)
      fs::remove(path);
  }
  std::vector<fs::path> paths_;
};

std::vector<std::vector<int64_t>> generateWith(executor::Model& model) {
  executor::GenerationOptions options;
  options.maxNewTokens = 8;
  return executor::generate(model, {{0, 44, 285, 402}, {0, 452, 344}}, options).newTokens;
}

TEST_F(Artifact, RunsOnABackendDefinedInTheTest) {
  fs::path path = compile("default", {});
  auto backend = std::make_shared<CountingBackend>();
  executor::LoadOptions options;
  options.backend = backend;
  auto counted = executor::Model::load(path.string(), options);
  auto reference = executor::Model::load(path.string());
  EXPECT_EQ(generateWith(*counted), generateWith(*reference));

  // Every call of both entry points went through this backend's kernel table; decode ran its
  // call list once per new token after the first.
  EXPECT_GT(backend->prepared["AttentionCall"], 0);
  EXPECT_EQ(backend->prepared["HeadMatmulCall"], 2 * 3); // decode: W_UK and W_UV per layer
  EXPECT_EQ(backend->runs["EmbeddingCall"], 8);          // 1 prefill + 7 decode steps
  EXPECT_EQ(backend->runs["HeadMatmulCall"], 7 * 2 * 3);
  EXPECT_GT(backend->allocations, 0u); // arena, caches and outputs come from the backend
}

// --profile's numbers: one entry per call of each entry point run, its runs equal to the calls
// the backend saw, in call order; nothing is collected while profiling is off.
TEST_F(Artifact, ProfilesEveryCallTheBackendRuns) {
  fs::path path = compile("profile", {});
  auto backend = std::make_shared<CountingBackend>();
  executor::LoadOptions options;
  options.backend = backend;
  auto model = executor::Model::load(path.string(), options);
  generateWith(*model);
  EXPECT_TRUE(model->program().profile().empty());
  for (auto& [kind, count] : backend->runs) // the kernels hold references to these counters
    count = 0;

  model->program().setProfiling(true);
  EXPECT_EQ(generateWith(*model), generateWith(*executor::Model::load(path.string())));
  std::map<std::string, int> profiled;
  std::map<fb::EntryKind, size_t> callsPerEntry;
  for (const auto& call : model->program().profile()) {
    profiled[call.kernel] += int(call.runs);
    ++callsPerEntry[call.entry];
    EXPECT_GE(call.seconds, 0.0);
    EXPECT_FALSE(call.op.empty()) << call.kernel;
    EXPECT_EQ(call.runs, call.entry == fb::EntryKind::Prefill ? 1 : 7) << call.op;
  }
  EXPECT_EQ(profiled, backend->runs);
  const auto& entries = *model->artifact().metadata().entry_points();
  for (const fb::EntryPoint* entry : entries)
    EXPECT_EQ(callsPerEntry[entry->kind()], entry->calls()->size());

  model->program().setProfiling(false);
  generateWith(*model);
  EXPECT_EQ(model->program().profile().front().runs, 1); // unchanged: not collected when off
}

TEST_F(Artifact, AllocatesTheCachesTheReportPlans) {
  frontend::Checkpoint checkpoint = frontend::Checkpoint::open(kTinyV3);
  compiler::CompileOptions options;
  options.compute = DType::BF16;
  options.maxSeqLen = 48;
  options.maxBatch = 2;
  for (bool absorb : {true, false}) {
    SCOPED_TRACE(absorb ? "absorbed" : "per-head");
    compiler::CompileOptions variant = options;
    if (!absorb)
      variant.disabledPasses.insert("fathom-mla-absorption");
    compiler::CompileReport report = compiler::reportCheckpoint(checkpoint, variant);
    auto model = executor::Model::load(
        compile(absorb ? "latent" : "per-head", variant.disabledPasses).string());
    // tiny-v3: 3 layers; latent 32 + 8 per token, per head 4 x (16 + 16) + 8; bf16.
    int64_t perToken = absorb ? 3 * (32 + 8) * 2 : 3 * (4 * (16 + 16) + 8) * 2;
    EXPECT_EQ(report.kvBytesPerToken, uint64_t(perToken));
    EXPECT_EQ(report.kvBytesAtLimits, uint64_t(perToken * 48 * 2));
    EXPECT_EQ(model->program().cacheBytes(), report.kvBytesAtLimits);
    EXPECT_EQ(model->artifact().metadata().memory_plan()->kv_cache_bytes(), report.kvBytesAtLimits);
    if (absorb) {
      EXPECT_EQ(report.perHeadKvBytesPerToken, uint64_t(3 * (4 * (16 + 16) + 8) * 2));
    }
  }
}

} // namespace
} // namespace fathom
