#include "compiler/driver/ReportFormat.h"

#include <cstdio>
#include <iterator>
#include <sstream>

namespace fathom::compiler {
namespace {

std::string dtypeWord(DType dtype) {
  return dtype == DType::BF16 ? "bf16" : "fp32";
}

// 1.2 MB, 675.4 GB: the size in the largest unit that keeps it at least 1.
std::string humanBytes(uint64_t bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  double value = double(bytes);
  size_t unit = 0;
  while (value >= 1000 && unit + 1 < std::size(units)) {
    value /= 1000;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit ? "%.1f %s" : "%.0f %s", value, units[unit]);
  return text;
}

std::string kvCacheLines(const CompileReport& r);
std::string rankLines(const CompileReport& r);

} // namespace

std::string withThousands(uint64_t value) {
  std::string digits = std::to_string(value), text;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0)
      text += ',';
    text += digits[i];
  }
  return text;
}

std::string formatReportText(const CompileReport& r, const std::string& checkpoint) {
  std::ostringstream out;
  out << "model: " << checkpoint << " (" << dtypeWord(r.compute) << ", target " << r.target
      << ", max batch " << r.maxBatch << " x " << r.maxSeqLen << " tokens)\n";
  out << "pipeline: " << r.pipeline << "\n";
  out << "weights stored: " << withThousands(r.storedWeightBytes) << " B ("
      << humanBytes(r.storedWeightBytes) << ")"
      << (r.weightsPlanned ? ", planned from config.json (no weights in the folder)" : "") << "\n";
  for (const EntryPointReport& entry : r.entryPoints)
    out << "entry point " << entry.name << ": " << entry.kernelCalls << " kernel calls, weights "
        << withThousands(entry.weightBytes) << " B, activation arena "
        << withThousands(entry.arenaBytes) << " B (" << humanBytes(entry.arenaBytes) << ")\n";
  if (r.caches.empty())
    out << "KV cache: none\n";
  else
    out << kvCacheLines(r);
  out << rankLines(r);
  return out.str();
}

namespace {

std::string kvCacheLines(const CompileReport& r) {
  std::ostringstream out;
  out << "KV cache: " << withThousands(r.kvBytesPerToken) << " B/token in " << r.caches.size()
      << " caches of " << r.caches.front().rowElements << " x " << dtypeWord(r.caches.front().dtype)
      << " per token (" << r.caches.front().name << ", ...); " << withThousands(r.kvBytesAtLimits)
      << " B (" << humanBytes(r.kvBytesAtLimits) << ") at " << r.maxSeqLen << " tokens x "
      << r.maxBatch << " sequences\n";
  if (r.perHeadKvBytesPerToken > 0) {
    char ratio[32];
    std::snprintf(ratio, sizeof ratio, "%.1fx",
                  double(r.perHeadKvBytesPerToken) / double(r.kvBytesPerToken));
    out << "per-head KV cache (fathom-mla-absorption off) would need "
        << withThousands(r.perHeadKvBytesPerToken) << " B/token (" << ratio << " more)\n";
  }
  return out.str();
}

std::string rankLines(const CompileReport& r) {
  std::ostringstream out;
  const uint64_t own = r.storedWeightBytes - r.sharedWeightBytes;
  if (r.worldSize > 1)
    out << "ranks: " << r.worldSize << " (tp " << r.tp << " x ep " << r.ep << "); weights per rank "
        << withThousands(r.storedWeightBytes) << " B (" << humanBytes(r.storedWeightBytes) << ": "
        << humanBytes(r.sharedWeightBytes) << " the same on every rank, " << humanBytes(own)
        << " its own slice), " << humanBytes(r.sharedWeightBytes + own * uint64_t(r.worldSize))
        << " in the artifact\n";
  if (r.deviceMemoryBytes > 0) {
    uint64_t arena = r.bytesPerRank() - r.storedWeightBytes - r.kvBytesAtLimits;
    bool fits = r.bytesPerRank() <= r.deviceMemoryBytes;
    out << "tp" << r.tp << " x ep" << r.ep << " on " << r.worldSize << " x "
        << humanBytes(r.deviceMemoryBytes) << ": " << (fits ? "fits, " : "does not fit, needs ")
        << humanBytes(r.bytesPerRank()) << " per rank (weights " << humanBytes(r.storedWeightBytes)
        << ", KV cache " << humanBytes(r.kvBytesAtLimits) << ", activations " << humanBytes(arena)
        << ")\n";
  }
  return out.str();
}

} // namespace

nlohmann::json reportJson(const CompileReport& r) {
  nlohmann::json json;
  json["target"] = r.target;
  json["dtype"] = dtypeWord(r.compute);
  json["max_seq_len"] = r.maxSeqLen;
  json["max_batch"] = r.maxBatch;
  json["pipeline"] = r.pipeline;
  json["weights_planned_from_config"] = r.weightsPlanned;
  json["stored_weight_bytes"] = r.storedWeightBytes;
  json["entry_points"] = nlohmann::json::array();
  for (const EntryPointReport& entry : r.entryPoints)
    json["entry_points"].push_back({{"name", entry.name},
                                    {"kernel_calls", entry.kernelCalls},
                                    {"weight_bytes", entry.weightBytes},
                                    {"activation_arena_bytes", entry.arenaBytes}});
  json["kv_cache"] = {{"caches", r.caches.size()},
                      {"bytes_per_token", r.kvBytesPerToken},
                      {"bytes_at_limits", r.kvBytesAtLimits},
                      {"row_elements", r.caches.empty() ? 0 : r.caches.front().rowElements},
                      {"per_head_bytes_per_token", nullptr}};
  // Only MLA models have a smaller cache than the per-head one; elsewhere there is no second plan.
  if (r.perHeadKvBytesPerToken > 0)
    json["kv_cache"]["per_head_bytes_per_token"] = r.perHeadKvBytesPerToken;
  json["ranks"] = {{"world_size", r.worldSize},
                   {"tp", r.tp},
                   {"ep", r.ep},
                   {"weight_bytes_per_rank", r.storedWeightBytes},
                   {"shared_weight_bytes", r.sharedWeightBytes},
                   {"bytes_per_rank", r.bytesPerRank()}};
  if (r.deviceMemoryBytes > 0) {
    json["ranks"]["device_memory_bytes"] = r.deviceMemoryBytes;
    json["ranks"]["fits"] = r.bytesPerRank() <= r.deviceMemoryBytes;
  }
  return json;
}

} // namespace fathom::compiler
