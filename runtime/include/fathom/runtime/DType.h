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
  // Packed unsigned 4-bit codes (INT4 weights and their zero points): two per byte, the even
  // index in the low nibble, and every row (the last dimension) starts on a byte.
  U4,
};

// Size of one element in bytes; throws fathom::Error for U4, whose elements are half a byte
// (storageBytes sizes it).
size_t dtypeSize(DType dtype);
// Bytes of a row-major tensor of `numel` elements in rows of `rowLength` (its last dimension,
// 1 for a scalar): numel * dtypeSize, or for U4 ceil(rowLength / 2) per row.
uint64_t storageBytes(DType dtype, uint64_t numel, uint64_t rowLength);
// The safetensors spelling ("F32", "BF16", "F8_E4M3", ...).
std::string_view dtypeName(DType dtype);
// Parses a safetensors dtype string; nullopt for strings Fathom does not support.
std::optional<DType> parseSafetensorsDType(std::string_view name);
bool isFloatingPoint(DType dtype);

} // namespace fathom
