#pragma once
// The project version and the git revision a tool was built from (cmake/WriteVersion.cmake
// writes them at every build), and the --version every tool answers.
#include <cstdio>
#include <string>
#include <string_view>

namespace fathom::tools {

extern const char* const kVersion;
extern const char* const kRevision;

inline std::string versionLine(const char* tool) {
  return std::string(tool) + " " + kVersion + " (git " + kRevision + ")";
}

// Prints the version and returns true when the arguments ask for it.
inline bool printedVersion(int argc, char** argv, const char* tool) {
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--version") {
      std::printf("%s\n", versionLine(tool).c_str());
      return true;
    }
  return false;
}

} // namespace fathom::tools
