#include "TestCheckpoint.h"

#include "fathom/frontend/ExpectedTensors.h"
#include "fathom/frontend/ModelConfig.h"
#include "fathom/runtime/Error.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace fathom::frontend::testing {

void writeFile(const std::filesystem::path& path, std::string_view contents) {
  std::ofstream stream(path, std::ios::binary | std::ios::trunc);
  stream.write(contents.data(), std::streamsize(contents.size()));
  if (!stream)
    throw std::runtime_error("cannot write " + path.string());
}

void writeJson(const std::filesystem::path& path, const nlohmann::json& json) {
  writeFile(path, json.dump(2));
}

std::string safetensorsBytes(std::string_view header, std::string_view data) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i)
    bytes[size_t(i)] = char((uint64_t(header.size()) >> (8 * i)) & 0xff);
  bytes.append(header);
  bytes.append(data);
  return bytes;
}

std::string errorOf(const std::function<void()>& action) {
  try {
    action();
  } catch (const fathom::Error& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected a fathom::Error";
  return "";
}

nlohmann::json requiredKeysOnlyV3Config() {
  return {{"model_type", "deepseek_v3"},
          {"vocab_size", 129280},
          {"hidden_size", 7168},
          {"intermediate_size", 18432},
          {"moe_intermediate_size", 2048},
          {"num_hidden_layers", 61},
          {"num_attention_heads", 128},
          {"kv_lora_rank", 512},
          {"qk_nope_head_dim", 128},
          {"qk_rope_head_dim", 64},
          {"v_head_dim", 128},
          {"n_routed_experts", 256}};
}

nlohmann::json tinyV3Config() {
  return {
      {"architectures", {"DeepseekV3ForCausalLM"}},
      {"model_type", "deepseek_v3"},
      {"vocab_size", 256},
      {"hidden_size", 64},
      {"intermediate_size", 96},
      {"moe_intermediate_size", 32},
      {"num_hidden_layers", 3},
      {"num_attention_heads", 4},
      {"num_key_value_heads", 4},
      {"q_lora_rank", 32},
      {"kv_lora_rank", 16},
      {"qk_nope_head_dim", 16},
      {"qk_rope_head_dim", 8},
      {"v_head_dim", 16},
      {"n_routed_experts", 8},
      {"n_shared_experts", 1},
      {"num_experts_per_tok", 2},
      {"n_group", 2},
      {"topk_group", 1},
      {"first_k_dense_replace", 1},
      {"max_position_embeddings", 256},
      {"rope_scaling",
       {{"type", "yarn"},
        {"factor", 4.0},
        {"original_max_position_embeddings", 64},
        {"beta_fast", 32},
        {"beta_slow", 1},
        {"mscale", 1.0},
        {"mscale_all_dim", 1.0}}},
  };
}

nlohmann::json tinyV2Config() {
  return {
      {"architectures", {"DeepseekV2ForCausalLM"}},
      {"model_type", "deepseek_v2"},
      {"vocab_size", 256},
      {"hidden_size", 64},
      {"intermediate_size", 96},
      {"moe_intermediate_size", 32},
      {"num_hidden_layers", 2},
      {"num_attention_heads", 4},
      {"q_lora_rank", nullptr},
      {"kv_lora_rank", 16},
      {"qk_nope_head_dim", 16},
      {"qk_rope_head_dim", 8},
      {"v_head_dim", 16},
      {"n_routed_experts", 8},
      {"num_experts_per_tok", 2},
      {"first_k_dense_replace", 1},
  };
}

nlohmann::json tinyVlConfig() {
  return {
      {"architectures", {"DeepseekVLForConditionalGeneration"}},
      {"model_type", "deepseek_vl"},
      {"tie_word_embeddings", false},
      {"text_config",
       {{"model_type", "llama"},
        {"vocab_size", 256},
        {"hidden_size", 64},
        {"intermediate_size", 96},
        {"num_hidden_layers", 2},
        {"num_attention_heads", 4},
        {"bos_token_id", 0},
        {"eos_token_id", 1}}},
      {"vision_config",
       {{"model_type", "siglip_vision_model"},
        {"hidden_size", 32},
        {"intermediate_size", 64},
        {"num_hidden_layers", 2},
        {"num_attention_heads", 2},
        {"image_size", 32},
        {"patch_size", 16},
        {"hidden_act", "gelu"},
        {"vision_use_head", false}}},
  };
}

std::vector<TensorSpec> tensorsFor(const nlohmann::json& config) {
  std::vector<TensorSpec> specs;
  for (const ExpectedTensor& tensor : expectedTensors(parseModelConfig(config, "config.json")))
    specs.push_back({tensor.name, DType::BF16, tensor.shape, {}});
  return specs;
}

void writeCheckpoint(const std::filesystem::path& folder, const nlohmann::json& config,
                     const std::function<void(std::vector<TensorSpec>&)>& edit) {
  std::filesystem::create_directories(folder);
  writeJson(folder / "config.json", config);
  std::vector<TensorSpec> specs = tensorsFor(config);
  if (edit)
    edit(specs);
  writeSafetensors(folder / "model.safetensors", specs);
}

std::string shardName(int index, int count) {
  char name[64];
  std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", index, count);
  return name;
}

void writeShardedCheckpoint(const std::filesystem::path& folder, const nlohmann::json& config,
                            int shards) {
  std::filesystem::create_directories(folder);
  writeJson(folder / "config.json", config);
  std::vector<TensorSpec> specs = tensorsFor(config);
  std::vector<std::vector<TensorSpec>> perShard(static_cast<size_t>(shards));
  nlohmann::json weightMap = nlohmann::json::object();
  uint64_t totalSize = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    const int shard = int(i * size_t(shards) / specs.size());
    weightMap[specs[i].name] = shardName(shard + 1, shards);
    totalSize += specs[i].byteSize();
    perShard[size_t(shard)].push_back(specs[i]);
  }
  for (int shard = 0; shard < shards; ++shard)
    writeSafetensors(folder / shardName(shard + 1, shards), perShard[size_t(shard)]);
  writeJson(folder / "model.safetensors.index.json",
            {{"metadata", {{"total_size", totalSize}}}, {"weight_map", weightMap}});
}

} // namespace fathom::frontend::testing
