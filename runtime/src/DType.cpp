#include "fathom/runtime/DType.h"

#include "fathom/runtime/Error.h"

#include <array>
#include <utility>

namespace fathom {
namespace {
struct DTypeInfo {
  DType dtype;
  std::string_view name;
  size_t size;
  bool floating;
};

constexpr std::array<DTypeInfo, 13> kDTypes = {{
    {DType::F32, "F32", 4, true},
    {DType::F16, "F16", 2, true},
    {DType::BF16, "BF16", 2, true},
    {DType::F8E4M3, "F8_E4M3", 1, true},
    {DType::F8E5M2, "F8_E5M2", 1, true},
    {DType::F64, "F64", 8, true},
    {DType::I64, "I64", 8, false},
    {DType::I32, "I32", 4, false},
    {DType::I16, "I16", 2, false},
    {DType::I8, "I8", 1, false},
    {DType::U8, "U8", 1, false},
    {DType::Bool, "BOOL", 1, false},
    {DType::U4, "U4", 0, false}, // not a safetensors dtype: only quantization writes it
}};

const DTypeInfo& info(DType dtype) {
  return kDTypes[static_cast<size_t>(dtype)];
}
} // namespace

size_t dtypeSize(DType dtype) {
  if (dtype == DType::U4)
    throw Error("U4 packs two elements per byte: it has no per-element size");
  return info(dtype).size;
}

uint64_t storageBytes(DType dtype, uint64_t numel, uint64_t rowLength) {
  if (dtype != DType::U4)
    return numel * info(dtype).size;
  if (numel == 0 || rowLength == 0)
    return 0;
  return numel / rowLength * ((rowLength + 1) / 2);
}
std::string_view dtypeName(DType dtype) {
  return info(dtype).name;
}
bool isFloatingPoint(DType dtype) {
  return info(dtype).floating;
}

std::optional<DType> parseSafetensorsDType(std::string_view name) {
  for (const DTypeInfo& entry : kDTypes)
    if (entry.name == name && entry.dtype != DType::U4)
      return entry.dtype;
  return std::nullopt;
}

} // namespace fathom
