#include "Metrics.h"

#include <cstdio>

namespace fathom::serve {
namespace {

std::string number(double value) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.17g", value);
  return text;
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

} // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size(), 0) {}

void Histogram::observe(double value) {
  for (size_t i = 0; i < bounds_.size(); ++i)
    if (value <= bounds_[i]) {
      ++counts_[i];
      break;
    }
  sum_ += value;
  ++count_;
}

void Histogram::render(const std::string& name, std::string& out) const {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += name + "_bucket{le=\"" + number(bounds_[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(count_) + "\n";
  out += name + "_sum " + number(sum_) + "\n" + name + "_count " + std::to_string(count_) + "\n";
}

Metrics::Metrics()
    : timeToFirstToken_({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}),
      interTokenLatency_({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}) {}

void Metrics::countRequest(const std::string& outcome) {
  std::lock_guard lock(mutex_);
  ++requests_[outcome];
}

void Metrics::addTokens(int64_t prompt, int64_t generated) {
  std::lock_guard lock(mutex_);
  promptTokens_ += uint64_t(prompt);
  generatedTokens_ += uint64_t(generated);
}

void Metrics::countPreemption() {
  std::lock_guard lock(mutex_);
  ++preemptions_;
}

void Metrics::countCachedTokens(int64_t tokens) {
  std::lock_guard lock(mutex_);
  cachedTokens_ += uint64_t(tokens);
}

void Metrics::observeTimeToFirstToken(double seconds) {
  std::lock_guard lock(mutex_);
  timeToFirstToken_.observe(seconds);
}

void Metrics::observeInterTokenLatency(double seconds) {
  std::lock_guard lock(mutex_);
  interTokenLatency_.observe(seconds);
}

void Metrics::setGauges(int64_t running, int64_t waiting, int64_t blocksInUse, int64_t blocksCached,
                        int64_t blocksTotal) {
  std::lock_guard lock(mutex_);
  running_ = running;
  waiting_ = waiting;
  blocksInUse_ = blocksInUse;
  blocksCached_ = blocksCached;
  blocksTotal_ = blocksTotal;
}

std::string Metrics::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  header(out, "fathom_requests_total", "counter", "Requests by outcome.");
  for (const char* outcome : {"finished", "cancelled", "rejected", "failed"}) {
    auto found = requests_.find(outcome);
    out += std::string("fathom_requests_total{outcome=\"") + outcome + "\"} " +
           std::to_string(found == requests_.end() ? 0 : found->second) + "\n";
  }
  // One value each: name, type, help, value.
  const struct {
    const char *name, *type, *help;
    int64_t value;
  } single[] = {
      {"fathom_prompt_tokens_total", "counter", "Prompt tokens prefilled.", int64_t(promptTokens_)},
      {"fathom_generation_tokens_total", "counter", "Tokens generated.", int64_t(generatedTokens_)},
      {"fathom_preemptions_total", "counter",
       "Running sequences whose blocks were taken back for others, to be read again later.",
       int64_t(preemptions_)},
      {"fathom_requests_running", "gauge", "Requests in the running batch.", running_},
      {"fathom_requests_waiting", "gauge", "Requests queued for the batch.", waiting_},
      {"fathom_kv_cache_blocks_in_use", "gauge", "KV cache blocks held by sequences.",
       blocksInUse_},
      {"fathom_kv_cache_blocks_cached", "gauge",
       "KV cache blocks of finished sequences kept for their prefixes.", blocksCached_},
      {"fathom_prefix_cache_hit_tokens_total", "counter",
       "Prompt tokens found in the prefix cache instead of prefilled.", int64_t(cachedTokens_)},
      {"fathom_kv_cache_blocks_total", "gauge", "KV cache blocks in the pool.", blocksTotal_},
  };
  for (const auto& metric : single) {
    header(out, metric.name, metric.type, metric.help);
    out += std::string(metric.name) + " " + std::to_string(metric.value) + "\n";
  }
  header(out, "fathom_time_to_first_token_seconds", "histogram",
         "From a request's arrival to its first token.");
  timeToFirstToken_.render("fathom_time_to_first_token_seconds", out);
  header(out, "fathom_inter_token_latency_seconds", "histogram",
         "Between consecutive tokens of a request.");
  interTokenLatency_.render("fathom_inter_token_latency_seconds", out);
  return out;
}

} // namespace fathom::serve
