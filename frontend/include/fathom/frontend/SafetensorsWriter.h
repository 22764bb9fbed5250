#pragma once
// Writes safetensors files the way safetensors >= 0.3.1 does (tensors ordered by descending
// dtype size then name, header padded with spaces to a multiple of 8, so every tensor is
// naturally aligned). Tests, benchmarks and tools use it to make checkpoints.
#include "fathom/runtime/DType.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace fathom::frontend {

struct TensorSpec {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  // Exactly byteSize() bytes, or empty: the tensor's bytes are then left as a hole in the file
  // (zeros when read, no disk blocks), which lets a benchmark write a 700 GB checkpoint for
  // the price of its headers.
  std::span<const std::byte> data;

  uint64_t byteSize() const;
};

// Writes `tensors` to `path`; throws fathom::Error when the file cannot be written or a
// tensor's data does not match its shape. Returns the header length.
uint64_t writeSafetensors(const std::filesystem::path& path, std::vector<TensorSpec> tensors,
                          const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

} // namespace fathom::frontend
