#include "fathom/frontend/HubCache.h"

#include "fathom/runtime/Error.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

namespace fathom::frontend {
namespace fs = std::filesystem;
namespace {

bool isHubCacheFolder(const fs::path& folder) {
  std::error_code error;
  return folder.filename().string().starts_with("models--") &&
         fs::is_directory(folder / "snapshots", error);
}

std::string snapshotOf(const fs::path& folder) {
  std::error_code error;
  std::ifstream ref(folder / "refs" / "main");
  std::string revision;
  if (ref && std::getline(ref, revision) && !revision.empty()) {
    const fs::path snapshot = folder / "snapshots" / revision;
    if (fs::is_directory(snapshot, error))
      return snapshot.string();
    throw Error(folder.string() + ": refs/main names revision " + revision +
                ", which snapshots/ does not hold");
  }
  std::vector<fs::path> snapshots;
  for (const auto& entry : fs::directory_iterator(folder / "snapshots", error))
    if (entry.is_directory())
      snapshots.push_back(entry.path());
  if (snapshots.size() == 1)
    return snapshots.front().string();
  throw Error(folder.string() + ": a Hugging Face cache folder without refs/main and with " +
              std::to_string(snapshots.size()) +
              " snapshots; pass the snapshot folder (snapshots/<revision>) itself");
}

} // namespace

std::string hubCacheDirectory() {
  if (const char* cache = std::getenv("HF_HUB_CACHE"); cache && *cache)
    return cache;
  if (const char* home = std::getenv("HF_HOME"); home && *home)
    return (fs::path(home) / "hub").string();
  const char* user = std::getenv("HOME");
  return (fs::path(user && *user ? user : ".") / ".cache" / "huggingface" / "hub").string();
}

std::string resolveCheckpointPath(const std::string& argument) {
  std::error_code error;
  const fs::path path(argument);
  if (fs::exists(path, error)) {
    const fs::path folder = path.filename().empty() ? path.parent_path() : path; // "dir/"
    return isHubCacheFolder(folder) ? snapshotOf(folder) : argument;
  }
  // A repo id: one slash between two non-empty names, nothing that makes it a path.
  const size_t slash = argument.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == argument.size() ||
      argument.find('/', slash + 1) != std::string::npos || argument.starts_with("."))
    return argument;
  const fs::path cached = fs::path(hubCacheDirectory()) / ("models--" + argument.substr(0, slash) +
                                                           "--" + argument.substr(slash + 1));
  if (!isHubCacheFolder(cached))
    throw Error(argument + " is not a folder, and the Hugging Face cache has no " +
                cached.string() + "; Fathom does not download checkpoints (huggingface-cli " +
                "download " + argument + " fetches it)");
  return snapshotOf(cached);
}

} // namespace fathom::frontend
