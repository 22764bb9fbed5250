#include "fathom/runtime/DType.h"

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

constexpr std::array<DTypeInfo, 12> kDTypes = {{
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
}};

const DTypeInfo& info(DType dtype) { return kDTypes[static_cast<size_t>(dtype)]; }
} // namespace

size_t dtypeSize(DType dtype) { return info(dtype).size; }
std::string_view dtypeName(DType dtype) { return info(dtype).name; }
bool isFloatingPoint(DType dtype) { return info(dtype).floating; }

std::optional<DType> parseSafetensorsDType(std::string_view name) {
  for (const DTypeInfo& entry : kDTypes)
    if (entry.name == name)
      return entry.dtype;
  return std::nullopt;
}

} // namespace fathom
