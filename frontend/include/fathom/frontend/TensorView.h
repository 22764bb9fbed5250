#pragma once
// A zero-copy view of one checkpoint tensor: name, dtype, shape and a pointer into the mapped
// file. Views stay valid as long as the SafetensorsFile (or Checkpoint) that produced them.
#include "fathom/runtime/DType.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace fathom::frontend {

struct TensorView {
  std::string_view name;
  DType dtype = DType::F32;
  std::span<const int64_t> shape;
  // Little-endian, row-major, no strides (the safetensors layout).
  const std::byte* data = nullptr;
  uint64_t byteSize = 0;

  int64_t numel() const;
  size_t rank() const { return shape.size(); }
  std::span<const std::byte> bytes() const { return {data, size_t(byteSize)}; }
  // Files written before safetensors 0.3.1 may place tensors at unaligned offsets; callers
  // that reinterpret `data` as a typed pointer must check this (or copy with memcpy).
  bool isAligned() const;
};

// "[576, 7168]": the spelling every error message and the inspect output use for shapes.
std::string formatShape(std::span<const int64_t> shape);

} // namespace fathom::frontend
