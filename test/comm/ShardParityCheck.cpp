// Run under mpirun by ctest (test/CMakeLists.txt):
//   ShardParityCheck CHECKPOINT TP EP [PASS | --quantize=fp8|int4]...
// Rank 0 compiles the reference checkpoint twice in fp32 (max batch 2), for one rank and with
// --tp TP --ep EP (PASS: an optimization pass left out of both), into a folder every rank then
// reads. Every rank runs the sharded artifact across the world and the single-rank one alone on
// the same prompts (a left-padded batch of two, then one prompt alone) and checks that every
// greedy token is the same and every step's logits lie within 1e-5 of the single-rank ones
// (max |sharded - single| / max |single|). Prints one line per rank; exits non-zero on a
// difference.
#include "compiler/driver/CompileCheckpoint.h"
#include "fathom/comm/Communicator.h"
#include "fathom/executor/Generate.h"
#include "fathom/executor/Model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace fathom;

constexpr double kTolerance = 1e-5;

// The folder rank 0 made, known to every rank.
std::string sharedFolder(comm::Communicator& world) {
  char path[4096] = {};
  if (world.rank() == 0) {
    std::string pattern = (fs::temp_directory_path() / "fathom-shard-XXXXXX").string();
    if (!mkdtemp(pattern.data()))
      throw Error("cannot create a folder under " + fs::temp_directory_path().string());
    pattern.copy(path, sizeof path - 1);
  }
  world.broadcast(std::as_writable_bytes(std::span(path)), 0);
  return path;
}

struct Comparison {
  bool sameTokens = true;
  double worstRelative = 0;
};

Comparison compare(const executor::GenerationResult& sharded,
                   const executor::GenerationResult& single) {
  Comparison result;
  result.sameTokens = sharded.newTokens == single.newTokens;
  if (sharded.stepLogits.size() != single.stepLogits.size())
    result.sameTokens = false;
  for (size_t step = 0; step < std::min(sharded.stepLogits.size(), single.stepLogits.size());
       ++step) {
    const std::vector<float>& a = sharded.stepLogits[step];
    const std::vector<float>& b = single.stepLogits[step];
    double scale = 0, worst = 0;
    for (size_t i = 0; i < b.size(); ++i) {
      scale = std::max(scale, double(std::fabs(b[i])));
      worst = std::max(worst, i < a.size() ? double(std::fabs(a[i] - b[i])) : INFINITY);
    }
    result.worstRelative =
        std::max(result.worstRelative, a.size() == b.size() ? worst / scale : INFINITY);
  }
  return result;
}

int run(comm::Communicator& world, int argc, char** argv) {
  const fs::path checkpointPath =
      fs::path(FATHOM_SOURCE_DIR) / "test" / "reference" / "checkpoints" / argv[1];
  compiler::CompileOptions options;
  options.compute = DType::F32;
  options.maxBatch = 2;
  options.maxSeqLen = 64;
  std::string extra;
  for (int i = 4; i < argc; ++i) {
    std::string argument = argv[i];
    if (argument.starts_with("--quantize="))
      options.quantize = argument.substr(std::string("--quantize=").size());
    else
      options.disabledPasses.insert(argument);
    extra += " " + argument;
  }
  const std::string folder = sharedFolder(world);
  const std::string single = folder + "/single.fathom", sharded = folder + "/sharded.fathom";
  if (world.rank() == 0) {
    auto checkpoint = frontend::Checkpoint::open(checkpointPath);
    compiler::compileCheckpoint(checkpoint, single, options);
    options.tp = std::atoll(argv[2]);
    options.ep = std::atoll(argv[3]);
    compiler::compileCheckpoint(checkpoint, sharded, options);
  }
  world.barrier();

  executor::LoadOptions alone, together;
  alone.threads = together.threads = 1;
  together.communicator = &world;
  auto shardedModel = executor::Model::load(sharded, together);
  auto singleModel = executor::Model::load(single, alone);
  executor::GenerationOptions generation;
  generation.maxNewTokens = 8;
  generation.recordLogits = true;
  const std::vector<std::vector<std::vector<int64_t>>> batches = {
      {{3, 14, 15, 92, 65, 35, 89, 79}, {2, 71, 82}}, // left-padded
      {{100, 200, 300, 400, 500}},
  };
  bool ok = true;
  double worst = 0;
  for (const auto& prompts : batches) {
    Comparison c = compare(executor::generate(*shardedModel, prompts, generation),
                           executor::generate(*singleModel, prompts, generation));
    ok = ok && c.sameTokens && c.worstRelative <= kTolerance;
    worst = std::max(worst, c.worstRelative);
    if (!c.sameTokens)
      std::fprintf(stderr, "rank %d: greedy tokens differ from the single-rank run\n",
                   world.rank());
  }
  std::printf("rank %d of %d: %s tp %s ep %s%s: %s, max relative logit difference %.3g\n",
              world.rank(), world.size(), argv[1], argv[2], argv[3], extra.c_str(),
              ok ? "greedy tokens identical" : "MISMATCH", worst);
  world.barrier();
  if (world.rank() == 0)
    fs::remove_all(folder);
  return ok ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: ShardParityCheck CHECKPOINT TP EP [PASS | --quantize=Q]...\n");
    return 2;
  }
  auto world = comm::mpiWorld();
  try {
    return run(*world, argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "rank %d: error: %s\n", world->rank(), error.what());
    world->abortWorld(1);
  }
}
