#pragma once
// One .safetensors file, mapped and validated before any tensor is handed out: header length
// against the file size and a 100 MB cap, well-formed JSON without duplicate names, every
// dtype supported, every byte range inside the data buffer and sized shape x dtype, and the
// ranges tiling the buffer with no hole or overlap (the rules of safetensors' own validate).
#include "fathom/frontend/MappedFile.h"
#include "fathom/frontend/TensorView.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace fathom::frontend {

// safetensors' MAX_HEADER_SIZE: a larger header is treated as a corrupt length, not read.
inline constexpr uint64_t kMaxSafetensorsHeaderSize = 100'000'000;

// A tensor's header entry. Offsets are relative to the data buffer that follows the header.
struct TensorEntry {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

class SafetensorsFile {
public:
  // Maps and validates `path`; throws fathom::Error naming the file, the tensor and the rule.
  static SafetensorsFile open(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return file_.path(); }
  // Entries sorted by name.
  std::span<const TensorEntry> entries() const { return entries_; }
  std::optional<TensorView> find(std::string_view name) const;
  TensorView view(const TensorEntry& entry) const;
  // The optional "__metadata__" map ({"format": "pt"} from torch writers).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  uint64_t headerSize() const { return headerSize_; }
  uint64_t dataSize() const { return file_.size() - 8 - headerSize_; }

private:
  MappedFile file_;
  uint64_t headerSize_ = 0;
  std::vector<TensorEntry> entries_;
  std::map<std::string, std::string> metadata_;
};

} // namespace fathom::frontend
