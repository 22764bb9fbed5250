// fathom-bench: llama-bench for a Fathom artifact. Prompt processing (one prefill of -p tokens)
// and text generation (-n decode steps after a one-token prompt) in tokens/s over -r repeats
// after a warm-up, time to first token (the -p prefill plus its first sample), load time and
// peak resident memory; --json for scripts. Token ids are drawn from a fixed seed, so runs
// compare with each other and with llama-bench (which also feeds random ids).
#include "common/Hints.h"
#include "common/Version.h"
#include "run/RunOptions.h"

#include "fathom/executor/Model.h"
#include "fathom/runtime/Error.h"

#include <nlohmann/json.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <random>
#include <string_view>

namespace {
using Clock = std::chrono::steady_clock;
using fathom::run::UsageError;

constexpr const char* kUsage =
    R"(usage: fathom-bench MODEL.fathom [-p 512] [-n 128] [-r 5] [-B 1] [--threads N] [--eager] [--json]

Times an artifact as llama-bench times a GGUF file: pp (prompt processing, a prefill of -p
tokens) and tg (text generation, -n one-token decode steps), each in tokens/s as the mean and
standard deviation over -r repeats after one warm-up; also time to first token for the -p
prompt, load time and peak resident memory.
  -p N          prompt tokens (default 512, at most the artifact's max sequence length)
  -n N          generated tokens (default 128)
  -r N          repeats (default 5)
  -B N          sequences decoded together in tg (default 1, at most the artifact's max
                batch); tg's tokens/s counts every sequence's tokens
  --threads N   CPU threads (default: all)
  --eager       launch every call of every decode step (default on CUDA: recorded steps,
                one CUDA graph per batch and context bucket)
  --json        one JSON object instead of the table
)";

struct Options {
  std::string model;
  int64_t prompt = 512, generate = 128, repeats = 5, decodeBatch = 1;
  int threads = 0;
  bool json = false, eager = false;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        throw UsageError{std::string(arg) + " needs a value"};
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (arg == "-p")
      o.prompt = fathom::run::parseInteger(arg, value(), 1, int64_t(1) << 30);
    else if (arg == "-n")
      o.generate = fathom::run::parseInteger(arg, value(), 1, int64_t(1) << 30);
    else if (arg == "-r")
      o.repeats = fathom::run::parseInteger(arg, value(), 1, int64_t(1) << 30);
    else if (arg == "-B")
      o.decodeBatch = fathom::run::parseInteger(arg, value(), 1, int64_t(1) << 16);
    else if (arg == "--threads")
      o.threads = int(fathom::run::parseInteger(arg, value(), 1, int64_t(1) << 30));
    else if (arg == "--json")
      o.json = true;
    else if (arg == "--eager")
      o.eager = true;
    else if (arg.starts_with("-"))
      throw UsageError{"unknown option " + std::string(arg) + " (see --help)"};
    else if (o.model.empty())
      o.model = std::string(arg);
    else
      throw UsageError{"one artifact only"};
  }
  if (o.model.empty())
    throw UsageError{"no artifact given (see --help)"};
  return o;
}

double seconds(Clock::time_point from) {
  return std::chrono::duration<double>(Clock::now() - from).count();
}

struct Stats {
  double mean = 0, deviation = 0;
};

Stats statsOf(const std::vector<double>& rates) {
  Stats s;
  for (double r : rates)
    s.mean += r / double(rates.size());
  for (double r : rates)
    s.deviation += (r - s.mean) * (r - s.mean) / double(std::max<size_t>(rates.size() - 1, 1));
  s.deviation = std::sqrt(s.deviation);
  return s;
}

} // namespace

int main(int argc, char** argv) {
  using namespace fathom;
  if (tools::printedVersion(argc, argv, "fathom-bench"))
    return 0;
  try {
    const Options o = parse(argc, argv);
    if (auto why = tools::notAnArtifact(o.model))
      throw Error(*why);
    tools::warnAboutThreads("fathom-bench", o.threads);
    const Clock::time_point loadStart = Clock::now();
    executor::LoadOptions load;
    load.threads = o.threads;
    load.recordDecode = !o.eager;
    auto model = executor::Model::load(o.model, load);
    const double loadSeconds = seconds(loadStart);
    if (model->head() != "causal_lm")
      throw Error(o.model + ": fathom-bench times causal LMs; this artifact is a " + model->head());
    if (o.prompt > model->maxSeqLen() || o.generate + 1 > model->maxSeqLen())
      throw Error("-p " + std::to_string(o.prompt) + " and -n " + std::to_string(o.generate) +
                  " need a max sequence length past " +
                  std::to_string(std::max(o.prompt, o.generate + 1)) + "; the artifact has " +
                  std::to_string(model->maxSeqLen()));
    if (o.decodeBatch > model->maxBatch())
      throw Error("-B " + std::to_string(o.decodeBatch) + " is past the artifact's max batch " +
                  std::to_string(model->maxBatch()) + " (recompile with --max-batch)");
    std::mt19937_64 random(1234);
    std::uniform_int_distribution<int64_t> token(3, model->outputWidth() - 1);
    auto rows = [&](int64_t length, int64_t sequences) {
      executor::TokenBatch batch{
          sequences, length, {}, {}, std::vector<uint8_t>(size_t(length * sequences), 1)};
      for (int64_t b = 0; b < sequences; ++b)
        for (int64_t t = 0; t < length; ++t) {
          batch.ids.push_back(token(random));
          batch.positions.push_back(t);
        }
      return batch;
    };
    std::vector<double> pp, tg, ttft;
    for (int64_t r = 0; r <= o.repeats; ++r) { // repeat 0 warms up
      const Clock::time_point start = Clock::now();
      // The first token is the prefill's logits' argmax: the time to it is the prefill's.
      std::vector<float> logits = model->prefill(rows(o.prompt, 1));
      const int64_t first = std::max_element(logits.begin(), logits.end()) - logits.begin();
      const double prefill = seconds(start);
      if (first < 0)
        throw Error("no logits");
      model->prefill(rows(1, o.decodeBatch));
      const Clock::time_point decodeStart = Clock::now();
      for (int64_t s = 0; s < o.generate; ++s) {
        std::vector<int64_t> ids, positions(size_t(o.decodeBatch), s + 1);
        for (int64_t b = 0; b < o.decodeBatch; ++b)
          ids.push_back(token(random));
        model->decode(ids, positions);
      }
      const double decode = seconds(decodeStart);
      if (r > 0) {
        pp.push_back(double(o.prompt) / prefill);
        tg.push_back(double(o.generate * o.decodeBatch) / decode);
        ttft.push_back(prefill);
      }
    }
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const double peakBytes = double(usage.ru_maxrss) * 1024.0;
    const Stats prompt = statsOf(pp), generation = statsOf(tg), first = statsOf(ttft);
    if (o.json) {
      nlohmann::json out = {{"model", o.model},
                            {"version", tools::versionLine("fathom-bench")},
                            {"threads", model->numThreads()},
                            {"n_prompt", o.prompt},
                            {"n_gen", o.generate},
                            {"decode_batch", o.decodeBatch},
                            {"eager", o.eager},
                            {"repeats", o.repeats},
                            {"pp_tokens_per_second", prompt.mean},
                            {"pp_stddev", prompt.deviation},
                            {"tg_tokens_per_second", generation.mean},
                            {"tg_stddev", generation.deviation},
                            {"time_to_first_token_seconds", first.mean},
                            {"load_seconds", loadSeconds},
                            {"peak_rss_bytes", peakBytes}};
      std::cout << out.dump() << "\n";
      return 0;
    }
    std::printf("| %-40s | %7s | %14s | %20s |\n", "model", "threads", "test", "t/s");
    std::printf("| %-40s | %7d | %14s | %12.2f ± %5.2f |\n", o.model.c_str(), model->numThreads(),
                ("pp" + std::to_string(o.prompt)).c_str(), prompt.mean, prompt.deviation);
    std::printf("| %-40s | %7d | %14s | %12.2f ± %5.2f |\n", o.model.c_str(), model->numThreads(),
                ("tg" + std::to_string(o.generate) +
                 (o.decodeBatch > 1 ? " x" + std::to_string(o.decodeBatch) : ""))
                    .c_str(),
                generation.mean, generation.deviation);
    std::printf("time to first token %.1f ms (pp%lld), load %.2f s, peak memory %.1f MB\n",
                first.mean * 1e3, static_cast<long long>(o.prompt), loadSeconds, peakBytes / 1e6);
    return 0;
  } catch (const UsageError& error) {
    std::cerr << "fathom-bench: error: " << error.message << std::endl;
  } catch (const std::exception& error) {
    std::cerr << "fathom-bench: error: " << error.what() << std::endl;
  }
  return 1;
}
