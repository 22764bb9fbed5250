#pragma once
// What the harnesses share: an input split into the files of one folder, written to a scratch
// folder of this process, and the rule that every failure must be a fathom::Error (anything
// else escaping is a finding, reported by libFuzzer as a crash).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace fathom::fuzz {

// Parts of a multi-file input are separated by this line (the dictionaries hold it, so
// mutations move it around too).
inline constexpr std::string_view kSeparator = "\n--8<--\n";

inline std::vector<std::string_view> splitParts(const uint8_t* data, size_t size, size_t parts) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> result;
  while (result.size() + 1 < parts) {
    size_t at = rest.find(kSeparator);
    if (at == rest.npos)
      break;
    result.push_back(rest.substr(0, at));
    rest.remove_prefix(at + kSeparator.size());
  }
  result.push_back(rest);
  result.resize(parts); // absent parts are empty
  return result;
}

// A folder of this process under $TMPDIR (or /tmp), emptied for every input.
inline const std::filesystem::path& scratchFolder() {
  static const std::filesystem::path folder = [] {
    const char* base = std::getenv("TMPDIR");
    std::filesystem::path path = std::filesystem::path(base && *base ? base : "/tmp") /
                                 ("fathom-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
    return path;
  }();
  return folder;
}

inline void clearScratch() {
  for (const auto& entry : std::filesystem::directory_iterator(scratchFolder()))
    std::filesystem::remove_all(entry.path());
}

inline std::filesystem::path writeScratchFile(const std::string& name, std::string_view bytes) {
  std::filesystem::path path = scratchFolder() / name;
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
  return path;
}

} // namespace fathom::fuzz
