#pragma once
// Loads a Fathom artifact: maps the file, checks the header, the metadata checksum, the
// FlatBuffer, every section's checksum and every tensor's bounds before anything is used.
#include "fathom/artifact/ArtifactFile.h"
#include "fathom/runtime/DType.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace fathom::artifact {
namespace fb {
struct Artifact;
struct EntryPoint;
struct Tensor;
} // namespace fb

struct WeightView {
  std::string_view name;
  DType dtype;
  std::vector<int64_t> shape;
  const uint8_t* data;
  uint64_t size;
};

class Artifact {
public:
  enum class Verify { Everything, MetadataOnly };
  // Called while the section checksums are verified (reading every weight byte: minutes for a
  // checkpoint of hundreds of GB): bytes checked so far and in all, ending with done == total.
  using Progress = std::function<void(uint64_t done, uint64_t total)>;

  // Throws fathom::Error naming `path` and the problem when the file is not a valid artifact.
  // A sharded artifact holds one weight section per rank: `rank` picks whose weights this view
  // holds (only its own sections and the shared ones are verified and listed).
  static std::unique_ptr<Artifact> open(const std::string& path, Verify verify = Verify::Everything,
                                        const Progress& progress = {}, int64_t rank = 0);
  ~Artifact();
  Artifact(const Artifact&) = delete;
  Artifact& operator=(const Artifact&) = delete;

  const fb::Artifact& metadata() const { return *metadata_; }
  const std::string& path() const { return path_; }
  int64_t rank() const { return rank_; }
  // The weights of this rank (kernel calls index them), their metadata and bytes.
  size_t tensorCount() const;
  const fb::Tensor& tensorMetadata(size_t index) const;
  WeightView tensor(size_t index) const;
  // nullptr-free lookup: throws fathom::Error naming the tensor when absent.
  WeightView tensor(std::string_view name) const;
  const fb::EntryPoint* entryPoint(std::string_view name) const;

private:
  Artifact(std::string path, const uint8_t* base, size_t size, int64_t rank);
  void verifyLayout(Verify verify, const Progress& progress);
  void makeSyntheticSections(const std::vector<bool>& mine);

  std::string path_;
  const uint8_t* base_;
  size_t size_;
  const fb::Artifact* metadata_ = nullptr;
  int64_t rank_ = 0;
  std::vector<uint32_t> visible_; // this rank's tensors, as indices of the tensor table
  // Synthetic sections' bytes, made at open (anonymous mappings; null for file-backed ones).
  std::vector<uint8_t*> synthetic_;
  std::vector<size_t> syntheticBytes_;
  std::unordered_map<std::string_view, size_t> tensorIndex_;
};

} // namespace fathom::artifact
