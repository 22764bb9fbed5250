// Per-sequence KV caches in one paged pool: sequences at different positions decoded in one
// step, prompts continued where they stopped, blocks handed out and returned. Each is checked
// against the same tokens run alone from position 0 with the fixed-batch prefill/decode.
#include "compiler/driver/CompileCheckpoint.h"
#include "fathom/executor/Generate.h"
#include "fathom/executor/Model.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace fathom {
namespace {
namespace fs = std::filesystem;
using executor::Model;
using executor::SequenceId;
using executor::TokenBatch;

const fs::path kCheckpoints = fs::path(FATHOM_SOURCE_DIR) / "test" / "reference" / "checkpoints";

struct Variant {
  const char* name;
  const char* checkpoint;
  bool absorb; // tiny-v3: the latent cache and absorbed decode, else per-head keys and values
};

std::unique_ptr<Model> load(const Variant& v, int64_t blockTokens = 0, int64_t poolTokens = 0) {
  fs::path path = fs::temp_directory_path() /
                  ("fathom-seq-" + std::string(v.name) + std::to_string(getpid()) + ".fathom");
  compiler::CompileOptions compile;
  compile.compute = DType::F32;
  compile.maxSeqLen = 64;
  compile.maxBatch = 3;
  if (!v.absorb)
    compile.disabledPasses.insert("fathom-mla-absorption");
  struct RemovedAfterLoad {
    fs::path path;
    ~RemovedAfterLoad() {
      std::error_code ignored;
      fs::remove(path, ignored);
    }
  } removed{path};
  compiler::compileCheckpoint(frontend::Checkpoint::open(kCheckpoints / v.checkpoint),
                              path.string(), compile);
  executor::LoadOptions options;
  options.threads = 2;
  options.kvBlockTokens = blockTokens;
  options.kvCacheTokens = poolTokens;
  return Model::load(path.string(), options);
}

std::vector<int64_t> promptOf(int64_t length, int64_t seed) {
  std::vector<int64_t> ids;
  for (int64_t t = 0; t < length; ++t)
    ids.push_back(3 + (seed * 37 + t * 11) % 200);
  return ids;
}

TokenBatch rowsOf(const std::vector<int64_t>& ids, int64_t firstPosition) {
  TokenBatch rows{1, int64_t(ids.size()), ids, {}, std::vector<uint8_t>(ids.size(), 1)};
  for (size_t t = 0; t < ids.size(); ++t)
    rows.positions.push_back(firstPosition + int64_t(t));
  return rows;
}

int64_t argmax(const float* row, int64_t width) {
  return std::max_element(row, row + width) - row;
}

void expectNear(const std::vector<float>& a, const std::vector<float>& b, double tolerance) {
  ASSERT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::fabs(double(a[i]) - double(b[i])));
  EXPECT_LE(worst, tolerance);
}

// One prompt alone through the fixed-batch path: greedy tokens and every step's logits.
struct Alone {
  std::vector<int64_t> tokens;
  std::vector<std::vector<float>> logits;
};

Alone runAlone(Model& model, const std::vector<int64_t>& prompt, int64_t steps) {
  Alone alone;
  std::vector<float> logits = model.prefill(rowsOf(prompt, 0));
  const int64_t vocab = model.outputWidth();
  for (int64_t s = 0; s < steps; ++s) {
    alone.logits.push_back(logits);
    alone.tokens.push_back(argmax(logits.data(), vocab));
    logits = model.decode({alone.tokens.back()}, {int64_t(prompt.size()) + s});
  }
  return alone;
}

class SequenceCache : public ::testing::TestWithParam<Variant> {};

TEST_P(SequenceCache, DecodesSequencesAtDifferentPositionsInOneStep) {
  // prefill()'s batch keeps its sequence: the reference runs on a model of its own, so that
  // three sequences fill this one's pool.
  auto model = load(GetParam()), reference = load(GetParam());
  const std::vector<std::vector<int64_t>> prompts = {promptOf(5, 1), promptOf(17, 2),
                                                     promptOf(11, 3)};
  const int64_t steps = 6, vocab = model->outputWidth();
  std::vector<Alone> alone;
  for (const auto& prompt : prompts)
    alone.push_back(runAlone(*reference, prompt, steps));

  std::vector<SequenceId> ids;
  std::vector<int64_t> next(prompts.size());
  for (size_t b = 0; b < prompts.size(); ++b) {
    ids.push_back(model->openSequence());
    std::vector<float> logits = model->step({ids[b]}, rowsOf(prompts[b], 0));
    expectNear(logits, alone[b].logits[0], 1e-5);
    next[b] = argmax(logits.data(), vocab);
  }
  for (int64_t s = 1; s < steps; ++s) {
    TokenBatch rows{int64_t(ids.size()), 1, {}, {}, std::vector<uint8_t>(ids.size(), 1)};
    for (size_t b = 0; b < ids.size(); ++b) {
      EXPECT_EQ(next[b], alone[b].tokens[size_t(s - 1)]);
      rows.ids.push_back(next[b]);
      rows.positions.push_back(model->sequenceLength(ids[b]));
    }
    std::vector<float> logits = model->step(ids, rows);
    for (size_t b = 0; b < ids.size(); ++b) {
      std::vector<float> row(logits.begin() + int64_t(b) * vocab,
                             logits.begin() + int64_t(b + 1) * vocab);
      expectNear(row, alone[b].logits[size_t(s)], 1e-5);
      next[b] = argmax(row.data(), vocab);
    }
  }
  EXPECT_EQ(model->sequenceLength(ids[1]), 17 + steps - 1);
}

TEST_P(SequenceCache, SmallBlocksScatteredOverThePoolGiveTheSameLogits) {
  auto reference = load(GetParam());
  auto paged = load(GetParam(), /*blockTokens=*/4);
  const std::vector<int64_t> a = promptOf(13, 4), b = promptOf(9, 5);
  // Interleaving the two sequences' growth scatters their blocks over the pool.
  SequenceId first = paged->openSequence(), second = paged->openSequence();
  std::vector<float> fromA, fromB;
  for (size_t t = 0; t < a.size(); ++t) {
    fromA = paged->step({first}, rowsOf({a[t]}, int64_t(t)));
    if (t < b.size())
      fromB = paged->step({second}, rowsOf({b[t]}, int64_t(t)));
  }
  expectNear(fromA, runAlone(*reference, a, 1).logits[0], 1e-5);
  expectNear(fromB, runAlone(*reference, b, 1).logits[0], 1e-5);
  EXPECT_EQ(paged->cacheBlocks() - paged->freeBlocks(), 4 + 3);
}

TEST_P(SequenceCache, ContinuingASequenceMatchesAFreshPrefill) {
  auto model = load(GetParam());
  executor::GenerationOptions options;
  options.maxNewTokens = 5;
  const std::vector<int64_t> first = promptOf(9, 6), second = promptOf(7, 7);
  SequenceId id = model->openSequence();
  auto turn1 = executor::continueSequence(*model, id, first, options);
  // The cache holds the prompt and every new token but the last, which the next turn feeds.
  EXPECT_EQ(model->sequenceLength(id), 9 + 5 - 1);
  std::vector<int64_t> next = {turn1.newTokens[0].back()};
  next.insert(next.end(), second.begin(), second.end());
  options.recordLogits = true;
  auto turn2 = executor::continueSequence(*model, id, next, options);
  EXPECT_EQ(turn2.promptTokens, 8);

  std::vector<int64_t> whole = first;
  whole.insert(whole.end(), turn1.newTokens[0].begin(), turn1.newTokens[0].end());
  whole.insert(whole.end(), second.begin(), second.end());
  auto fresh = executor::generate(*model, {whole}, options);
  EXPECT_EQ(turn2.newTokens[0], fresh.newTokens[0]);
  ASSERT_EQ(turn2.stepLogits.size(), fresh.stepLogits.size());
  for (size_t s = 0; s < fresh.stepLogits.size(); ++s)
    expectNear(turn2.stepLogits[s], fresh.stepLogits[s], 1e-5);

  // Back to the first prompt alone: truncation forgets the rest and returns its blocks.
  model->truncateSequence(id, 9);
  EXPECT_EQ(model->sequenceLength(id), 9);
  options.recordLogits = false;
  auto again = executor::continueSequence(*model, id, {turn1.newTokens[0][0]}, options);
  auto restart = executor::generate(
      *model, {std::vector<int64_t>(whole.begin(), whole.begin() + 10)}, options);
  EXPECT_EQ(again.newTokens[0], restart.newTokens[0]);
}

INSTANTIATE_TEST_SUITE_P(Tiny, SequenceCache,
                         ::testing::Values(Variant{"v3-latent", "tiny-v3", true},
                                           Variant{"v3-per-head", "tiny-v3", false},
                                           Variant{"v2-lite", "tiny-v2-lite", true},
                                           Variant{"vl", "tiny-vl", true}),
                         [](const auto& info) {
                           std::string name = info.param.name;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

const Variant kTiny{"v3-latent", "tiny-v3", true};

TEST(SequencePool, AFullPoolRefusesAStepAndChangesNothing) {
  auto model = load(kTiny, /*blockTokens=*/4, /*poolTokens=*/16); // 4 blocks
  ASSERT_EQ(model->cacheBlocks(), 4);
  SequenceId a = model->openSequence(), b = model->openSequence();
  model->step({a}, rowsOf(promptOf(10, 1), 0)); // 3 blocks
  EXPECT_EQ(model->freeBlocks(), 1);
  try {
    model->step({b}, rowsOf(promptOf(8, 2), 0));
    FAIL() << "a step past the pool ran";
  } catch (const executor::CacheExhausted& error) {
    EXPECT_STREQ(error.what(), "the KV cache pool is full: the step needs 2 more blocks of 4 "
                               "tokens and 1 of 4 are free");
  }
  EXPECT_EQ(model->sequenceLength(a), 10);
  EXPECT_EQ(model->sequenceLength(b), 0);
  EXPECT_EQ(model->freeBlocks(), 1);
  model->closeSequence(a);
  EXPECT_EQ(model->freeBlocks(), 4);
  model->step({b}, rowsOf(promptOf(8, 2), 0));
  EXPECT_EQ(model->freeBlocks(), 2);
}

TEST(SequencePool, RefusesMisuse) {
  auto model = load(kTiny);
  SequenceId a = model->openSequence();
  auto expectError = [](auto&& f, const std::string& message) {
    try {
      f();
      ADD_FAILURE() << "no error; expected: " << message;
    } catch (const Error& error) {
      EXPECT_EQ(error.what(), message);
    }
  };
  TokenBatch two{2, 1, {5, 6}, {0, 0}, {1, 1}};
  expectError([&] { model->step({a, a}, two); }, "sequence 0 appears twice in one step");
  expectError([&] { model->step({7}, rowsOf({5}, 0)); }, "sequence 7 is not open");
  model->step({a}, rowsOf(promptOf(60, 1), 0));
  expectError([&] { model->step({a}, rowsOf(promptOf(5, 1), 60)); },
              "the KV cache is full: sequence 0 holds 60 tokens and 5 more exceed the "
              "artifact's max sequence length of 64 tokens (recompile with --max-seq-len)");
  expectError([&] { model->truncateSequence(a, 61); },
              "cannot truncate sequence 0 of 60 tokens to 61");
  model->closeSequence(a);
  expectError([&] { model->sequenceLength(a); }, "sequence 0 is not open");
  // A closed sequence's id is handed out again.
  EXPECT_EQ(model->openSequence(), a);
}

TEST(SequencePool, RefusesBlockSizesOutOfRange) {
  try {
    load(kTiny, /*blockTokens=*/-1);
    FAIL() << "a negative block size loaded";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("blocks hold 1 to 65536 tokens"), std::string::npos)
        << error.what();
  }
}

} // namespace
} // namespace fathom
