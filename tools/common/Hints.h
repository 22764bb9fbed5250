#pragma once
// The hints tools give when they are handed the wrong kind of path (a checkpoint folder where an
// artifact belongs, an artifact where a checkpoint belongs) and the warning for more threads
// than cores. Header-only, standard library only: every tool may include it.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

namespace fathom::tools {

// True when the file starts with the artifact magic (runtime/artifact/ArtifactFile.h).
inline bool looksLikeArtifact(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  return in.read(magic, sizeof(magic)) && std::memcmp(magic, "FATHOMAF", 8) == 0;
}

// Why `path` cannot be the artifact a runtime tool wants, when it is a folder.
inline std::optional<std::string> notAnArtifact(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::is_directory(path, error))
    return std::nullopt;
  std::string why = path + " is a folder, not a Fathom artifact";
  if (fs::exists(fs::path(path) / "config.json", error))
    why += "; it looks like a Hugging Face checkpoint: compile it first with fathom-compile " +
           path + " -o model.fathom";
  return why;
}

// Threads past the cores contend for them; a decode step waits for the slowest.
inline void warnAboutThreads(const char* tool, int threads) {
  const unsigned cores = std::thread::hardware_concurrency();
  if (threads > 0 && cores > 0 && unsigned(threads) > cores)
    std::fprintf(stderr,
                 "%s: warning: --threads %d exceeds the %u cores of this machine; threads past "
                 "the cores only wait for each other\n",
                 tool, threads, cores);
}

} // namespace fathom::tools
