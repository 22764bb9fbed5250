#pragma once
// Element types shared by the frontend (safetensors dtypes), the artifact and the kernels.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace fathom {

enum class DType : uint8_t {
  F32,
  F16,
  BF16,
  F8E4M3,
  F8E5M2,
  F64,
  I64,
  I32,
  I16,
  I8,
  U8,
  Bool,
};

// Size of one element in bytes.
size_t dtypeSize(DType dtype);
// The safetensors spelling ("F32", "BF16", "F8_E4M3", ...).
std::string_view dtypeName(DType dtype);
// Parses a safetensors dtype string; nullopt for strings Fathom does not support.
std::optional<DType> parseSafetensorsDType(std::string_view name);
bool isFloatingPoint(DType dtype);

} // namespace fathom
