#pragma once
// A progress bar redrawn in place on stderr when stderr is a terminal; nothing when it is a file
// or a pipe (scripts, tests), and nothing for work too small to be worth a bar.
#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>

namespace fathom::tools {

class ProgressBar {
public:
  ProgressBar(std::string label, bool enabled, uint64_t minimumTotal = 0)
      : label_(std::move(label)), enabled_(enabled && isatty(STDERR_FILENO)),
        minimumTotal_(minimumTotal) {}

  void update(uint64_t done, uint64_t total) {
    if (!enabled_ || total == 0 || total < minimumTotal_)
      return;
    int percent = int(done * 100 / total);
    if (percent == last_)
      return;
    last_ = percent;
    int filled = percent * 40 / 100;
    std::fprintf(stderr, "\r%s [%s%s] %3d%%  %.1f / %.1f MB", label_.c_str(),
                 std::string(size_t(filled), '#').c_str(),
                 std::string(size_t(40 - filled), ' ').c_str(), percent, double(done) / 1e6,
                 double(total) / 1e6);
    if (done == total)
      std::fputc('\n', stderr);
  }

private:
  std::string label_;
  bool enabled_;
  uint64_t minimumTotal_;
  int last_ = -1;
};

} // namespace fathom::tools
