#include "fathom/frontend/TensorStore.h"

#include "fathom/frontend/Json.h"
#include "fathom/runtime/Error.h"

#include <algorithm>
#include <map>

namespace fathom::frontend {
namespace {
using Json = nlohmann::json;

// Shard names come from a file we do not trust: they must name a file in the checkpoint
// folder, never a path that leaves it.
bool isPlainFileName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_of("/\\") == std::string::npos;
}

struct IndexContents {
  // Shard file name -> names of the tensors the index puts in it (views of the index's keys,
  // so a 100k-tensor index is not copied).
  std::map<std::string, std::vector<std::string_view>> tensorsByShard;
  const Json* weightMap = nullptr;
  std::optional<uint64_t> totalSize;
};

IndexContents readIndex(const Json& index, const std::string& where) {
  if (!index.is_object())
    throw Error(where + ": must be a JSON object with a \"weight_map\", got " +
                describeJsonValue(index));
  IndexContents contents;
  auto weightMap = index.find("weight_map");
  if (weightMap == index.end())
    throw Error(where + ": missing \"weight_map\" (tensor name -> shard file)");
  if (!weightMap->is_object())
    throw Error(where + ": \"weight_map\" must be an object of tensor name -> shard file, got " +
                describeJsonValue(*weightMap));
  if (weightMap->empty())
    throw Error(where + ": \"weight_map\" is empty");
  contents.weightMap = &*weightMap;
  for (auto entry = weightMap->begin(); entry != weightMap->end(); ++entry) {
    const Json& shard = entry.value();
    if (!shard.is_string() || !isPlainFileName(shard.get_ref<const std::string&>()))
      throw Error(singleLine(where + ": weight_map entry for \"" + entry.key() +
                             "\" must be a file name in the checkpoint folder, got " +
                             describeJsonValue(shard)));
    contents.tensorsByShard[shard.get<std::string>()].push_back(entry.key());
  }
  if (auto metadata = index.find("metadata"); metadata != index.end() && !metadata->is_null()) {
    if (!metadata->is_object())
      throw Error(where + ": \"metadata\" must be an object, got " + describeJsonValue(*metadata));
    if (auto totalSize = metadata->find("total_size"); totalSize != metadata->end()) {
      if (!isNonNegativeInteger(*totalSize))
        throw Error(where + ": metadata.total_size must be a non-negative integer, got " +
                    describeJsonValue(*totalSize));
      contents.totalSize = totalSize->get<uint64_t>();
    }
  }
  return contents;
}

void checkShardsExist(const IndexContents& contents, const std::filesystem::path& folder,
                      const std::string& where) {
  std::vector<const std::string*> missing;
  for (const auto& [shard, tensors] : contents.tensorsByShard) {
    std::error_code error;
    if (!std::filesystem::exists(folder / shard, error))
      missing.push_back(&shard);
  }
  if (missing.empty())
    return;
  const std::string& first = *missing.front();
  const auto& tensors = contents.tensorsByShard.at(first);
  std::string message = where + ": shard \"" + first + "\" does not exist (the index puts " +
                        std::to_string(tensors.size()) + " tensors in it, e.g. \"" +
                        std::string(tensors.front()) + "\")";
  if (missing.size() > 1)
    message += " and " + std::to_string(missing.size() - 1) + " more shards are missing";
  throw Error(singleLine(message));
}

// The index and the shard must agree both ways: every tensor the index puts here is here, and
// everything here is indexed here. A tensor the index does not list is an error, not a
// warning: lookups go through the index, so such a tensor would be silently invisible, and
// it usually means a shard from another checkpoint or a half-rewritten index.
void checkShardAgainstIndex(const SafetensorsFile& file, const std::string& shard,
                            const std::vector<std::string_view>& indexed, const Json& weightMap,
                            const std::string& indexName, const std::string& where) {
  for (std::string_view tensor : indexed)
    if (!file.find(tensor))
      throw Error(singleLine(where + ": tensor \"" + std::string(tensor) +
                             "\" is mapped to shard \"" + shard + "\", which does not contain it"));
  for (const TensorEntry& entry : file.entries()) {
    auto mapped = weightMap.find(entry.name);
    if (mapped == weightMap.end())
      throw Error(singleLine(file.path().string() + ": tensor \"" + entry.name +
                             "\" is not listed in " + indexName));
    if (mapped->get_ref<const std::string&>() != shard)
      throw Error(singleLine(file.path().string() + ": tensor \"" + entry.name +
                             "\" is stored here but " + indexName + " maps it to \"" +
                             mapped->get<std::string>() + "\""));
  }
}
} // namespace

TensorStore TensorStore::openSingleFile(const std::filesystem::path& file) {
  TensorStore store;
  store.source_ = file;
  store.addFile(std::make_unique<SafetensorsFile>(SafetensorsFile::open(file)));
  store.finish();
  return store;
}

TensorStore TensorStore::openIndex(const std::filesystem::path& indexFile) {
  const std::string where = indexFile.string();
  const std::string indexName = indexFile.filename().string();
  Json index = loadJsonFile(indexFile);
  IndexContents contents = readIndex(index, where);
  const std::filesystem::path folder = indexFile.parent_path();
  checkShardsExist(contents, folder, where);

  TensorStore store;
  store.source_ = indexFile;
  for (const auto& [shard, tensors] : contents.tensorsByShard) {
    auto file = std::make_unique<SafetensorsFile>(SafetensorsFile::open(folder / shard));
    checkShardAgainstIndex(*file, shard, tensors, *contents.weightMap, indexName, where);
    store.addFile(std::move(file));
  }
  store.finish();
  if (contents.totalSize && *contents.totalSize != store.totalTensorBytes_)
    store.warnings_.push_back(where + ": metadata.total_size is " +
                              std::to_string(*contents.totalSize) + " but the shards hold " +
                              std::to_string(store.totalTensorBytes_) + " bytes of tensors");
  return store;
}

void TensorStore::addFile(std::unique_ptr<SafetensorsFile> file) {
  const auto fileIndex = uint32_t(files_.size());
  std::span<const TensorEntry> entries = file->entries();
  for (size_t i = 0; i < entries.size(); ++i) {
    auto [it, inserted] = byName_.emplace(entries[i].name, Location{fileIndex, uint32_t(i)});
    if (!inserted)
      throw Error(singleLine(file->path().string() + ": tensor \"" + entries[i].name +
                             "\" is also in " + files_[it->second.file]->path().string()));
    totalTensorBytes_ += entries[i].end - entries[i].begin;
  }
  files_.push_back(std::move(file));
}

void TensorStore::finish() {
  names_.reserve(byName_.size());
  for (const auto& [name, location] : byName_)
    names_.push_back(name);
  std::sort(names_.begin(), names_.end());
}

std::optional<TensorView> TensorStore::find(std::string_view name) const {
  auto it = byName_.find(name);
  if (it == byName_.end())
    return std::nullopt;
  const SafetensorsFile& file = *files_[it->second.file];
  return file.view(file.entries()[it->second.entry]);
}

TensorView TensorStore::get(std::string_view name) const {
  if (auto view = find(name))
    return *view;
  throw Error(singleLine(source_.string() + ": no tensor named \"" + std::string(name) + "\""));
}

const SafetensorsFile* TensorStore::fileOf(std::string_view name) const {
  auto it = byName_.find(name);
  return it == byName_.end() ? nullptr : files_[it->second.file].get();
}

uint64_t TensorStore::totalHeaderBytes() const {
  uint64_t total = 0;
  for (const auto& file : files_)
    total += file->headerSize();
  return total;
}

} // namespace fathom::frontend
