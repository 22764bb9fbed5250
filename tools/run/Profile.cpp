#include "Profile.h"

#include <algorithm>
#include <map>
#include <string>

namespace fathom::run {

namespace {
constexpr size_t kTopCalls = 8;
}

void printProfile(const std::vector<executor::Program::CallProfile>& calls, std::FILE* out) {
  std::map<executor::fb::EntryKind, std::vector<const executor::Program::CallProfile*>> byEntry;
  for (const auto& call : calls)
    if (call.runs > 0)
      byEntry[call.entry].push_back(&call);
  for (auto& [entry, entryCalls] : byEntry) {
    double total = 0;
    std::map<std::string, std::pair<int64_t, double>> byKernel; // kind -> (calls, seconds)
    for (const auto* call : entryCalls) {
      total += call->seconds;
      auto& [count, seconds] = byKernel[call->kernel];
      count += call->runs;
      seconds += call->seconds;
    }
    const int64_t steps = entryCalls.front()->runs;
    std::fprintf(out, "profile: %s, %lld steps, %.3f ms per step\n",
                 executor::fb::EnumNameEntryKind(entry), static_cast<long long>(steps),
                 steps ? 1e3 * total / double(steps) : 0.0);
    std::vector<std::pair<std::string, std::pair<int64_t, double>>> kinds(byKernel.begin(),
                                                                          byKernel.end());
    std::sort(kinds.begin(), kinds.end(),
              [](const auto& a, const auto& b) { return a.second.second > b.second.second; });
    std::fprintf(out, "  %-22s %10s %12s %7s\n", "kernel", "calls", "ms", "share");
    for (const auto& [kind, stats] : kinds)
      std::fprintf(out, "  %-22s %10lld %12.3f %6.1f%%\n", kind.c_str(),
                   static_cast<long long>(stats.first), 1e3 * stats.second,
                   total > 0 ? 100 * stats.second / total : 0.0);
    std::sort(entryCalls.begin(), entryCalls.end(),
              [](const auto* a, const auto* b) { return a->seconds > b->seconds; });
    std::fprintf(out, "  most expensive calls:\n");
    for (size_t i = 0; i < std::min(kTopCalls, entryCalls.size()); ++i)
      std::fprintf(out, "  %-22s %-40s %9.3f ms per step\n", entryCalls[i]->kernel,
                   entryCalls[i]->op.c_str(),
                   1e3 * entryCalls[i]->seconds /
                       double(std::max<int64_t>(entryCalls[i]->runs, 1)));
  }
}

} // namespace fathom::run
