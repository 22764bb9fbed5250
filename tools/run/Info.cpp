// fathom-run MODEL --info: what an artifact holds, read from its metadata alone (no weight is
// checked or loaded): the model, target and dtype, entry points and limits, sizes, tokenizer and
// chat format, sampling defaults and the pipeline that made it.
#include "Commands.h"
#include "Generation.h"

#include "Artifact_generated.h"
#include "fathom/artifact/Artifact.h"
#include "fathom/runtime/DType.h"
#include "fathom/runtime/Error.h"
#include "fathom/tokenizer/ChatFormat.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>

namespace fathom::run {
namespace fb = artifact::fb;
using nlohmann::json;

int printInfo(const std::string& path, bool asJson) {
  auto file = artifact::Artifact::open(path, artifact::Artifact::Verify::MetadataOnly);
  const fb::Artifact& meta = file->metadata();
  auto text = [](const flatbuffers::String* s) { return s ? s->str() : std::string(); };
  const json config = json::parse(text(meta.model_config_json()), nullptr, false);
  auto configString = [&](const char* key) {
    if (config.is_object() && config.contains(key) && config[key].is_string())
      return config[key].get<std::string>();
    if (config.is_object() && config.contains(key) && config[key].is_array() &&
        !config[key].empty() && config[key][0].is_string())
      return config[key][0].get<std::string>();
    return std::string("?");
  };
  json out;
  out["path"] = path;
  out["file_bytes"] = std::filesystem::file_size(path);
  out["producer"] = text(meta.producer());
  out["model_type"] = configString("model_type");
  out["architecture"] = configString("architectures");
  out["head"] = meta.head() ? meta.head()->str() : "causal_lm";
  out["target"] = text(meta.target());
  if (meta.target_arch())
    out["target_arch"] = text(meta.target_arch());
  out["compute_dtype"] = std::string(dtypeName(static_cast<DType>(meta.compute_dtype())));
  out["max_batch"] = meta.max_batch();
  out["max_seq_len"] = meta.max_seq_len();
  bool synthetic = false;
  if (meta.sections())
    for (const fb::Section* section : *meta.sections())
      synthetic = synthetic || section->synthetic();
  out["synthetic_weights"] = synthetic;
  json entries = json::array();
  if (meta.entry_points())
    for (const fb::EntryPoint* entry : *meta.entry_points())
      entries.push_back({{"name", text(entry->name())},
                         {"max_tokens", entry->max_tokens()},
                         {"calls", entry->calls() ? entry->calls()->size() : 0}});
  out["entry_points"] = entries;
  out["tensors"] = file->tensorCount(); // rank 0's
  out["ranks"] = {{"world_size", meta.world_size()},
                  {"tp", meta.tensor_parallel()},
                  {"ep", meta.expert_parallel()}};
  const fb::MemoryPlan* plan = meta.memory_plan();
  const uint64_t kv = plan ? plan->kv_cache_bytes() : 0;
  out["arena_bytes"] = plan ? plan->arena_size() : 0;
  out["kv_cache_bytes"] = kv;
  out["kv_cache_bytes_per_token"] = meta.max_batch() && meta.max_seq_len()
                                        ? kv / (uint64_t(meta.max_batch()) * meta.max_seq_len())
                                        : 0;
  out["caches"] = meta.caches() ? meta.caches()->size() : 0;
  const bool hasTokenizer = meta.tokenizer_json() && meta.tokenizer_json()->size() > 0;
  out["tokenizer"] = hasTokenizer;
  out["chat_format"] = nullptr;
  if (hasTokenizer) {
    try {
      auto tok = loadTokenizer(*file);
      out["chat_format"] =
          std::string(tokenizer::chatFormatName(tokenizer::selectChatFormat(tok->config(), {})));
    } catch (const Error&) {
      // No template, or one that is not recognised: --chat-format names it.
    }
  }
  if (const fb::GenerationDefaults* g = meta.generation()) {
    json eos = json::array();
    if (g->eos_token_ids())
      for (int64_t id : *g->eos_token_ids())
        eos.push_back(id);
    out["generation"] = {
        {"do_sample", g->do_sample()},           {"temperature", decimalValue(g->temperature())},
        {"top_p", decimalValue(g->top_p())},     {"top_k", g->top_k()},
        {"max_new_tokens", g->max_new_tokens()}, {"eos_token_ids", eos}};
  }
  out["vision"] = meta.image_processor_json() && meta.image_processor_json()->size() > 0;
  out["pipeline"] = text(meta.pipeline());
  if (asJson) {
    std::cout << out.dump() << "\n";
    return 0;
  }
  auto mb = [](uint64_t bytes) {
    char size[32];
    if (bytes < 1000000)
      std::snprintf(size, sizeof(size), "%.1f kB", double(bytes) / 1e3);
    else
      std::snprintf(size, sizeof(size), "%.1f MB", double(bytes) / 1e6);
    return std::string(size);
  };
  std::printf("%s\n", path.c_str());
  std::printf("  model         %s (%s), head %s%s\n", out["model_type"].get<std::string>().c_str(),
              out["architecture"].get<std::string>().c_str(),
              out["head"].get<std::string>().c_str(),
              out["vision"].get<bool>() ? ", with a vision tower" : "");
  std::string target = out["target"].get<std::string>();
  if (out.contains("target_arch"))
    target += ":" + out["target_arch"].get<std::string>();
  std::printf("  target        %s, compute %s\n", target.c_str(),
              out["compute_dtype"].get<std::string>().c_str());
  std::printf("  limits        max batch %u, max sequence %u tokens\n", meta.max_batch(),
              meta.max_seq_len());
  if (out["synthetic_weights"].get<bool>())
    std::printf("  weights       synthetic (made at load for benchmarks; outputs mean nothing)\n");
  std::string names;
  for (const json& entry : entries)
    names += (names.empty() ? "" : ", ") + entry["name"].get<std::string>() + " (" +
             std::to_string(entry["max_tokens"].get<uint32_t>()) + " tokens/call)";
  std::printf("  entry points  %s\n", names.c_str());
  if (meta.world_size() > 1)
    std::printf("  ranks         %u (tp %u x ep %u): mpirun -np %u fathom-run ...\n",
                meta.world_size(), meta.tensor_parallel(), meta.expert_parallel(),
                meta.world_size());
  std::printf("  file          %s, %zu tensors\n", mb(out["file_bytes"]).c_str(),
              file->tensorCount());
  std::printf("  memory        arena %s; KV cache %llu bytes per token, %s at the limits\n",
              mb(out["arena_bytes"]).c_str(),
              static_cast<unsigned long long>(out["kv_cache_bytes_per_token"].get<uint64_t>()),
              mb(kv).c_str());
  std::printf("  tokenizer     %s, chat format %s\n", hasTokenizer ? "embedded" : "none",
              out["chat_format"].is_null() ? "none recognised"
                                           : out["chat_format"].get<std::string>().c_str());
  if (out.contains("generation")) {
    const json& g = out["generation"];
    std::printf("  generation    %s, temperature %g, top_p %g, top_k %lld\n",
                g["do_sample"].get<bool>() ? "samples" : "greedy", g["temperature"].get<double>(),
                g["top_p"].get<double>(), static_cast<long long>(g["top_k"].get<int64_t>()));
  }
  std::printf("  pipeline      %s\n", out["pipeline"].get<std::string>().c_str());
  std::printf("  producer      %s\n", out["producer"].get<std::string>().c_str());
  return 0;
}

} // namespace fathom::run
