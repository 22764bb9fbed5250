// fathom-tokenizer-bench: encode throughput of fathom::tokenizer on whole files, for comparison
// with HF tokenizers (run_tokenizer_bench.py drives both). A benchmark, not a test.
//
//   fathom-tokenizer-bench TOKENIZER_DIR FILE... [--repeat N]
//
// Prints one JSON object: the tokenizer load time, and per file and mode its size, id count, an
// FNV-1a digest of the ids (so the driver can check both implementations agree), and the first and
// best encode times over N runs (the first run starts with a cold BPE cache). Modes: "whole"
// encodes the file as one string; "lines" encodes each line (without its '\n') separately, one
// thread.
#include "fathom/runtime/Error.h"
#include "fathom/tokenizer/Tokenizer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using fathom::tokenizer::TokenId;
using fathom::tokenizer::Tokenizer;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string readFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    throw fathom::Error(path + ": cannot open file");
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

// FNV-1a 64 over the ids written as decimal and joined by ',' (the driver computes the same).
std::string digestOfIds(const std::vector<TokenId>& ids) {
  uint64_t digest = 0xCBF29CE484222325ull;
  auto mix = [&](char c) {
    digest ^= static_cast<unsigned char>(c);
    digest *= 0x100000001B3ull;
  };
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0)
      mix(',');
    for (char c : std::to_string(ids[i]))
      mix(c);
  }
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016" PRIx64, digest);
  return hex;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> files;
  std::string directory;
  int repeat = 5;
  for (int i = 1; i < argc; ++i) {
    std::string argument = argv[i];
    if (argument == "--repeat" && i + 1 < argc)
      repeat = std::max(1, std::stoi(argv[++i]));
    else if (directory.empty())
      directory = argument;
    else
      files.push_back(argument);
  }
  if (directory.empty() || files.empty()) {
    std::cerr << "usage: fathom-tokenizer-bench TOKENIZER_DIR FILE... [--repeat N]\n";
    return 2;
  }
  try {
    // Loading: best of three (the first also pays for reading the file from disk).
    double loadSeconds = 1e9;
    for (int i = 0; i < 3; ++i) {
      auto start = Clock::now();
      Tokenizer probe = Tokenizer::fromDirectory(directory);
      loadSeconds = std::min(loadSeconds, secondsSince(start));
    }
    Tokenizer tokenizer = Tokenizer::fromDirectory(directory);
    nlohmann::json report{{"load_seconds", loadSeconds}, {"files", nlohmann::json::array()}};
    for (const std::string& path : files) {
      std::string text = readFile(path);
      std::vector<std::string_view> lines;
      for (size_t begin = 0; begin < text.size();) {
        size_t end = text.find('\n', begin);
        if (end == std::string::npos)
          end = text.size();
        lines.push_back(std::string_view(text).substr(begin, end - begin));
        begin = end + 1;
      }
      for (const char* mode : {"whole", "lines"}) {
        std::vector<TokenId> ids;
        double first = 0, best = 1e9;
        for (int run = 0; run < repeat; ++run) {
          auto start = Clock::now();
          if (std::string_view(mode) == "whole") {
            ids = tokenizer.encode(text);
          } else {
            ids.clear();
            for (std::string_view line : lines) {
              std::vector<TokenId> lineIds = tokenizer.encode(line);
              ids.insert(ids.end(), lineIds.begin(), lineIds.end());
            }
          }
          double seconds = secondsSince(start);
          if (run == 0)
            first = seconds;
          best = std::min(best, seconds);
        }
        report["files"].push_back({{"path", path},
                                   {"mode", mode},
                                   {"bytes", text.size()},
                                   {"ids", ids.size()},
                                   {"ids_fnv1a64", digestOfIds(ids)},
                                   {"first_seconds", first},
                                   {"best_seconds", best},
                                   {"best_mb_per_s", text.size() / best / 1e6}});
      }
    }
    std::cout << report.dump(1) << '\n';
  } catch (const fathom::Error& error) {
    std::cerr << "fathom-tokenizer-bench: " << error.what() << '\n';
    return 1;
  }
  return 0;
}
