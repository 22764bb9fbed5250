#pragma once
// fathom-serve's counters, gauges and latency histograms, rendered in the Prometheus text
// exposition format for GET /metrics. Thread-safe: the scheduler and the handlers update it.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace fathom::serve {

class Histogram {
public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  // The _bucket / _sum / _count lines of metric `name`.
  void render(const std::string& name, std::string& out) const;

private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_; // per bound, not cumulative
  double sum_ = 0;
  uint64_t count_ = 0;
};

class Metrics {
public:
  Metrics();
  // outcome: "finished", "cancelled", "rejected" (4xx/5xx before it ran) or "failed".
  void countRequest(const std::string& outcome);
  void addTokens(int64_t prompt, int64_t generated);
  void countPreemption();
  void countCachedTokens(int64_t tokens);
  void observeTimeToFirstToken(double seconds);
  void observeInterTokenLatency(double seconds);
  // blocksInUse: held by requests; blocksCached: by finished sequences kept for their prefixes.
  void setGauges(int64_t running, int64_t waiting, int64_t blocksInUse, int64_t blocksCached,
                 int64_t blocksTotal);
  std::string render() const;

private:
  mutable std::mutex mutex_;
  std::map<std::string, uint64_t> requests_;
  uint64_t promptTokens_ = 0, generatedTokens_ = 0, preemptions_ = 0, cachedTokens_ = 0;
  int64_t running_ = 0, waiting_ = 0, blocksInUse_ = 0, blocksCached_ = 0, blocksTotal_ = 0;
  Histogram timeToFirstToken_, interTokenLatency_;
};

} // namespace fathom::serve
