#include "fathom/frontend/SafetensorsFile.h"

#include "fathom/frontend/Json.h"
#include "fathom/runtime/Error.h"

#include <algorithm>
#include <limits>
#include <numeric>

namespace fathom::frontend {
namespace {
using Json = nlohmann::json;

std::string supportedDTypeList() {
  std::string list;
  for (DType dtype : {DType::F64, DType::F32, DType::F16, DType::BF16, DType::F8E4M3, DType::F8E5M2,
                      DType::I64, DType::I32, DType::I16, DType::I8, DType::U8, DType::Bool})
    list += (list.empty() ? "" : ", ") + std::string(dtypeName(dtype));
  return list;
}

uint64_t readLittleEndian64(const std::byte* bytes) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i)
    value = (value << 8) | uint64_t(bytes[i]);
  return value;
}

std::string rangeText(const TensorEntry& entry) {
  return "[" + std::to_string(entry.begin) + ", " + std::to_string(entry.end) + "]";
}

// Reads one `"name": {"dtype": ..., "shape": [...], "data_offsets": [begin, end]}` entry and
// checks everything that concerns it alone; the tiling of the buffer is checked afterwards.
class EntryParser {
public:
  EntryParser(const std::string& where, uint64_t dataSize) : where_(where), dataSize_(dataSize) {}

  TensorEntry parse(const std::string& name, const Json& value) const {
    if (name.empty())
      fail(name, "empty tensor name");
    if (!value.is_object())
      fail(name, "entry must be an object with dtype, shape and data_offsets, got " +
                     describeJsonValue(value));
    TensorEntry entry;
    entry.name = name;
    entry.dtype = parseDType(name, field(name, value, "dtype"));
    entry.shape = parseShape(name, field(name, value, "shape"));
    parseOffsets(entry, field(name, value, "data_offsets"));
    checkSize(entry);
    if (entry.end > dataSize_)
      fail(name, "data_offsets " + rangeText(entry) + " run past the end of the " +
                     std::to_string(dataSize_) + "-byte data buffer (file truncated?)");
    return entry;
  }

private:
  [[noreturn]] void fail(const std::string& name, const std::string& problem) const {
    throw Error(singleLine(where_ + ": tensor \"" + name + "\": " + problem));
  }

  const Json& field(const std::string& name, const Json& entry, const char* key) const {
    auto it = entry.find(key);
    if (it == entry.end())
      fail(name, std::string("missing \"") + key + "\"");
    return *it;
  }

  DType parseDType(const std::string& name, const Json& value) const {
    if (!value.is_string())
      fail(name, "dtype must be a string, got " + describeJsonValue(value));
    const auto& text = value.get_ref<const std::string&>();
    if (auto dtype = parseSafetensorsDType(text))
      return *dtype;
    fail(name, "unsupported dtype \"" + text + "\" (supported: " + supportedDTypeList() + ")");
  }

  std::vector<int64_t> parseShape(const std::string& name, const Json& value) const {
    if (!value.is_array())
      fail(name,
           "shape must be an array of non-negative integers, got " + describeJsonValue(value));
    std::vector<int64_t> shape;
    shape.reserve(value.size());
    for (const Json& dim : value) {
      if (!isNonNegativeInteger(dim) ||
          dim.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
        fail(name,
             "shape must be an array of non-negative integers, got " + describeJsonValue(value));
      shape.push_back(dim.get<int64_t>());
    }
    return shape;
  }

  void parseOffsets(TensorEntry& entry, const Json& value) const {
    if (!value.is_array() || value.size() != 2 || !isNonNegativeInteger(value[0]) ||
        !isNonNegativeInteger(value[1]))
      fail(entry.name, "data_offsets must be [begin, end] with non-negative integers, got " +
                           describeJsonValue(value));
    entry.begin = value[0].get<uint64_t>();
    entry.end = value[1].get<uint64_t>();
    if (entry.begin > entry.end)
      fail(entry.name, "data_offsets " + rangeText(entry) + " end before they begin");
  }

  void checkSize(const TensorEntry& entry) const {
    uint64_t bytes = dtypeSize(entry.dtype);
    for (int64_t dim : entry.shape)
      if (__builtin_mul_overflow(bytes, uint64_t(dim), &bytes))
        fail(entry.name, "shape " + formatShape(entry.shape) + " overflows a 64-bit byte count");
    if (entry.end - entry.begin != bytes)
      fail(entry.name, "data_offsets " + rangeText(entry) + " hold " +
                           std::to_string(entry.end - entry.begin) + " bytes but shape " +
                           formatShape(entry.shape) + " of " + std::string(dtypeName(entry.dtype)) +
                           " needs " + std::to_string(bytes));
  }

  const std::string& where_;
  uint64_t dataSize_;
};

std::map<std::string, std::string> parseMetadata(const std::string& where, const Json& value) {
  if (!value.is_object())
    throw Error(singleLine(where + ": __metadata__ must be an object of strings, got " +
                           describeJsonValue(value)));
  std::map<std::string, std::string> metadata;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string())
      throw Error(singleLine(where + ": __metadata__ value for \"" + key +
                             "\" must be a string, got " + describeJsonValue(item)));
    metadata.emplace(key, item.get<std::string>());
  }
  return metadata;
}

// The ranges, in offset order, must tile [0, dataSize) exactly: a hole is unaccounted data,
// an overlap makes two tensors alias, and trailing bytes mean the header and file disagree.
void checkTiling(const std::string& where, std::span<const TensorEntry> entries,
                 uint64_t dataSize) {
  std::vector<size_t> order(entries.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::pair(entries[a].begin, entries[a].end) <
           std::pair(entries[b].begin, entries[b].end);
  });
  uint64_t covered = 0;
  const TensorEntry* previous = nullptr;
  for (size_t index : order) {
    const TensorEntry& entry = entries[index];
    if (entry.begin > covered)
      throw Error(singleLine(where + ": hole in the data buffer: bytes [" +
                             std::to_string(covered) + ", " + std::to_string(entry.begin) +
                             ") before tensor \"" + entry.name + "\" belong to no tensor"));
    if (entry.begin < covered)
      throw Error(singleLine(where + ": tensor \"" + entry.name + "\" data_offsets " +
                             rangeText(entry) + " overlap tensor \"" + previous->name + "\" " +
                             rangeText(*previous)));
    covered = entry.end;
    previous = &entry;
  }
  if (covered != dataSize)
    throw Error(where + ": data buffer holds " + std::to_string(dataSize) +
                " bytes but the tensors cover only " + std::to_string(covered) +
                " (trailing bytes after the last tensor)");
}
} // namespace

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  SafetensorsFile result;
  result.file_ = MappedFile::open(path);
  const std::string where = path.string();
  std::span<const std::byte> bytes = result.file_.bytes();

  if (bytes.size() < 8)
    throw Error(where + ": file is " + std::to_string(bytes.size()) +
                " bytes, too short for the 8-byte header length (truncated?)");
  uint64_t headerSize = readLittleEndian64(bytes.data());
  if (headerSize > kMaxSafetensorsHeaderSize)
    throw Error(where + ": header length " + std::to_string(headerSize) + " exceeds the " +
                std::to_string(kMaxSafetensorsHeaderSize) + "-byte limit (corrupt length?)");
  if (headerSize > bytes.size() - 8)
    throw Error(where + ": header length " + std::to_string(headerSize) +
                " runs past the end of the file (8 + " + std::to_string(headerSize) +
                " bytes needed, the file has " + std::to_string(bytes.size()) + ")");
  std::string_view header(reinterpret_cast<const char*>(bytes.data() + 8), size_t(headerSize));
  if (header.empty() || header.front() != '{')
    throw Error(where + ": header does not start with '{' (not a safetensors file?)");
  result.headerSize_ = headerSize;
  const uint64_t dataSize = result.dataSize();

  Json json = parseJsonStrict(header, where + ": header", "tensor name");
  EntryParser parser(where, dataSize);
  result.entries_.reserve(json.size());
  for (const auto& [name, value] : json.items()) {
    if (name == "__metadata__")
      result.metadata_ = parseMetadata(where, value);
    else
      result.entries_.push_back(parser.parse(name, value));
  }
  checkTiling(where, result.entries_, dataSize);
  std::sort(result.entries_.begin(), result.entries_.end(),
            [](const TensorEntry& a, const TensorEntry& b) { return a.name < b.name; });
  return result;
}

std::optional<TensorView> SafetensorsFile::find(std::string_view name) const {
  auto it = std::lower_bound(
      entries_.begin(), entries_.end(), name,
      [](const TensorEntry& entry, std::string_view key) { return entry.name < key; });
  if (it == entries_.end() || it->name != name)
    return std::nullopt;
  return view(*it);
}

TensorView SafetensorsFile::view(const TensorEntry& entry) const {
  const std::byte* data = file_.bytes().data() + 8 + headerSize_ + entry.begin;
  return TensorView{entry.name, entry.dtype, entry.shape, data, entry.end - entry.begin};
}

} // namespace fathom::frontend
