#pragma once
// fathom-run's command line.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fathom::run {

struct UsageError {
  std::string message;
};

struct RunOptions {
  std::string model;
  std::vector<std::vector<int64_t>> promptIds; // --prompt-ids
  std::vector<std::string> prompts;            // --prompt
  std::vector<std::string> images;             // --image, for the one --prompt
  std::string input;                           // --input: JSON lines of requests
  bool chat = false;
  std::optional<std::string> system;
  std::optional<std::string> chatFormat;
  std::vector<std::string> stops;
  std::optional<int64_t> maxNewTokens;
  std::optional<double> temperature, topP;
  std::optional<int64_t> topK;
  uint64_t seed = 0;
  bool greedy = false, noEos = false, json = false, help = false, profile = false, info = false;
  bool eager = false; // no recorded decode steps (CUDA graphs)
  std::string dumpLogits;
  int threads = 0;
  int64_t kvCacheTokens = 0;       // 0: the artifact's max batch x max sequence length
  int64_t commTimeoutSeconds = 20; // under mpirun: how long a collective waits for its peers

  bool sampling() const { return temperature || topK || topP; }
};

extern const char* const kUsage;

// Throws UsageError with a one-line message.
RunOptions parseRunOptions(int argc, char** argv);

// An option's integer value in [minimum, maximum]; throws UsageError naming the option. Every
// tool's command line uses it.
int64_t parseInteger(std::string_view option, const std::string& text, int64_t minimum,
                     int64_t maximum = INT64_MAX);

} // namespace fathom::run
