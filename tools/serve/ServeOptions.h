#pragma once
// fathom-serve's command line.
#include <cstdint>
#include <optional>
#include <string>

namespace fathom::serve {

struct ServeOptions {
  std::string model;
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string modelName; // default: the artifact's file name without .fathom
  std::optional<std::string> chatFormat;
  int threads = 0;
  int64_t kvCacheTokens = 0;
  bool eager = false; // no recorded decode steps (CUDA graphs)
  int64_t maxWaiting = 64;
  int64_t prefillChunk = 64;
  int64_t prefixCache = 16;
  int64_t maxBodyBytes = 1 << 20;
  bool help = false;
};

extern const char* const kServeUsage;

// Throws run::UsageError with a one-line message.
ServeOptions parseServeOptions(int argc, char** argv);

} // namespace fathom::serve
