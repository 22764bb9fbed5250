#pragma once
// Helpers for frontend tests: temporary folders, hand-made safetensors bytes (to corrupt them
// precisely) and tiny but complete checkpoints.
#include "../support/TempDir.h"
#include "fathom/frontend/SafetensorsWriter.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace fathom::frontend::testing {

using fathom::testing::TempDir;

void writeFile(const std::filesystem::path& path, std::string_view contents);
void writeJson(const std::filesystem::path& path, const nlohmann::json& json);

// A safetensors file from a literal header and data: 8-byte little-endian length, header,
// data. No validation, so tests can write every kind of broken file.
std::string safetensorsBytes(std::string_view header, std::string_view data);

// The message of the fathom::Error `action` throws; a test failure when it throws nothing.
std::string errorOf(const std::function<void()>& action);

// Only the keys the frontend requires for deepseek_v3 (the shapes), at V3's real values.
nlohmann::json requiredKeysOnlyV3Config();
// hidden 64, vocab 256, 3 layers (layer 0 dense, 1-2 MoE with 8 experts, top-2, 2 groups),
// q_lora 32, kv_lora 16, qk 16 nope + 8 rope, v 16, yarn.
nlohmann::json tinyV3Config();
// V2-Lite-shaped: no q LoRA, softmax greedy routing, 2 shared experts.
nlohmann::json tinyV2Config();
// DeepSeek-VL: llama text (hidden 64, 2 layers) + SigLIP (hidden 32, image 32 / patch 16).
nlohmann::json tinyVlConfig();

// Every tensor `config` needs, as BF16 zeros-by-hole specs (the test may edit the list).
std::vector<TensorSpec> tensorsFor(const nlohmann::json& config);

// Writes config.json and model.safetensors holding `tensors` (tensorsFor(config) by default).
void writeCheckpoint(const std::filesystem::path& folder, const nlohmann::json& config,
                     const std::function<void(std::vector<TensorSpec>&)>& edit = {});

// Writes config.json, `shards` shards named model-0000K-of-0000N.safetensors and the index.
void writeShardedCheckpoint(const std::filesystem::path& folder, const nlohmann::json& config,
                            int shards);

std::string shardName(int index, int count);

} // namespace fathom::frontend::testing
