#pragma once
// All tensors of a checkpoint, from one model.safetensors or from a
// model.safetensors.index.json and its shards, looked up by name. Opening validates every
// shard header and the index against them (each indexed tensor is in the shard the index
// names; each tensor in a shard is indexed to that shard) and maps the shards: memory grows
// with the headers, never with the weights.
#include "fathom/frontend/SafetensorsFile.h"

#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace fathom::frontend {

class TensorStore {
public:
  static TensorStore openSingleFile(const std::filesystem::path& file);
  static TensorStore openIndex(const std::filesystem::path& indexFile);

  std::optional<TensorView> find(std::string_view name) const;
  // Throws fathom::Error naming the tensor and the checkpoint when it is absent.
  TensorView get(std::string_view name) const;
  // Every tensor name, sorted.
  std::span<const std::string_view> names() const { return names_; }
  size_t size() const { return names_.size(); }
  // The shard a tensor lives in (for messages and for writers that copy tensors verbatim).
  const SafetensorsFile* fileOf(std::string_view name) const;

  // The index file, or the single weights file.
  const std::filesystem::path& source() const { return source_; }
  size_t fileCount() const { return files_.size(); }
  const SafetensorsFile& file(size_t index) const { return *files_[index]; }
  uint64_t totalTensorBytes() const { return totalTensorBytes_; }
  uint64_t totalHeaderBytes() const;
  // Non-fatal findings (an index total_size that disagrees with the shards).
  std::span<const std::string> warnings() const { return warnings_; }

private:
  struct Location {
    uint32_t file;
    uint32_t entry;
  };
  void addFile(std::unique_ptr<SafetensorsFile> file);
  void finish();

  std::filesystem::path source_;
  // unique_ptr keeps each file, and so the entry names the views below point into, at a fixed
  // address while the store itself moves.
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::unordered_map<std::string_view, Location> byName_;
  std::vector<std::string_view> names_;
  uint64_t totalTensorBytes_ = 0;
  std::vector<std::string> warnings_;
};

} // namespace fathom::frontend
