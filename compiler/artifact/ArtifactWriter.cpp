#include "compiler/artifact/ArtifactWriter.h"

#include "Artifact_generated.h"
#include "fathom/artifact/ArtifactFile.h"
#include "fathom/artifact/Checksum.h"
#include "fathom/runtime/Error.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace fathom::artifact {

struct ArtifactWriter::SectionHasher {
  Xxh64 hash;
};

ArtifactWriter::ArtifactWriter(std::string path)
    : path_(std::move(path)), temporary_(std::make_unique<TemporaryFile>(path_)),
      file_(temporary_->stream()) {
  ArtifactHeader placeholder{};
  writeRaw(&placeholder, sizeof placeholder);
}

ArtifactWriter::~ArtifactWriter() {
  delete hasher_;
}

void ArtifactWriter::writeRaw(const void* data, size_t size) {
  if (size > 0 && std::fwrite(data, 1, size, file_) != size)
    throw Error(temporary_->path() + ": write failed: " + std::strerror(errno));
  position_ += size;
  if (inSection_)
    hasher_->hash.update(data, size);
}

void ArtifactWriter::padTo(uint64_t alignment) {
  static const uint8_t zeros[kAlignment] = {};
  uint64_t target = alignUp(position_, alignment);
  writeRaw(zeros, target - position_);
}

void ArtifactWriter::beginSection(std::string name, int32_t rank, bool synthetic) {
  if (inSection_)
    throw Error(path_ + ": section '" + name + "' begun inside section '" + sections_.back().name +
                "'");
  padTo(kAlignment);
  sections_.push_back({std::move(name), synthetic ? 0 : position_, 0, 0, rank, synthetic});
  hasher_ = new SectionHasher();
  inSection_ = true;
}

uint32_t ArtifactWriter::addTensor(TensorInfo info,
                                   const std::function<void(const ByteSink&)>& produce) {
  if (!inSection_)
    throw Error(path_ + ": tensor '" + info.name + "' written outside a section");
  padTo(kAlignment);
  uint64_t count = 1;
  for (int64_t dim : info.shape)
    count *= uint64_t(dim);
  uint64_t expected = storageBytes(info.dtype, count, info.shape.empty() ? 1 : info.shape.back());
  if (sections_.back().synthetic) {
    SectionRecord& section = sections_.back();
    const uint64_t offset = (section.size + kAlignment - 1) / kAlignment * kAlignment;
    section.size = offset + expected;
    tensors_.push_back({std::move(info), uint32_t(sections_.size() - 1), offset, expected});
    return uint32_t(tensors_.size() - 1);
  }
  uint64_t start = position_;
  produce([this](const void* data, size_t size) { writeRaw(data, size); });
  if (position_ - start != expected)
    throw Error(path_ + ": tensor '" + info.name + "' produced " +
                std::to_string(position_ - start) + " bytes, expected " + std::to_string(expected));
  tensors_.push_back(
      {std::move(info), uint32_t(sections_.size() - 1), start - sections_.back().offset, expected});
  return uint32_t(tensors_.size() - 1);
}

uint32_t ArtifactWriter::addTensorBytes(TensorInfo info, const void* data, size_t size) {
  return addTensor(std::move(info), [&](const ByteSink& sink) { sink(data, size); });
}

void ArtifactWriter::endSection() {
  SectionRecord& section = sections_.back();
  if (!section.synthetic) {
    section.size = position_ - section.offset;
    section.checksum = hasher_->hash.digest();
  }
  delete hasher_;
  hasher_ = nullptr;
  inSection_ = false;
}

void ArtifactWriter::finish(const ArtifactContents& contents) {
  if (inSection_)
    throw Error(path_ + ": finish() inside section '" + sections_.back().name + "'");
  flatbuffers::FlatBufferBuilder builder(1 << 16);
  std::vector<flatbuffers::Offset<fb::Section>> sections;
  for (const SectionRecord& s : sections_)
    sections.push_back(fb::CreateSectionDirect(builder, s.name.c_str(), s.offset, s.size,
                                               s.checksum, s.rank, s.synthetic));
  // Table order is the weight order every rank sees; a param's per-rank shards, written one
  // rank section after another, stay in rank order under their one index.
  std::vector<TensorRecord> ordered = tensors_;
  std::stable_sort(
      ordered.begin(), ordered.end(),
      [](const TensorRecord& a, const TensorRecord& b) { return a.info.weight < b.info.weight; });
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
  for (const TensorRecord& t : ordered)
    tensors.push_back(fb::CreateTensorDirect(
        builder, t.info.name.c_str(), static_cast<fb::ElementType>(t.info.dtype), &t.info.shape,
        t.section, t.offset, t.size, t.info.scale.empty() ? nullptr : t.info.scale.c_str(),
        t.info.blockRows, t.info.blockCols, t.info.zero.empty() ? nullptr : t.info.zero.c_str()));
  std::vector<flatbuffers::Offset<fb::EntryPoint>> entries;
  for (const auto& entry : contents.entryPoints)
    entries.push_back(fb::EntryPoint::Pack(builder, entry.get()));
  std::vector<flatbuffers::Offset<fb::Cache>> caches;
  for (const auto& cache : contents.caches)
    caches.push_back(fb::Cache::Pack(builder, cache.get()));
  auto plan = fb::CreateMemoryPlan(builder, contents.arenaSize, contents.kvCacheBytes);
  const GenerationDesc& g = contents.generation;
  auto generation =
      fb::CreateGenerationDefaultsDirect(builder, g.bosTokenId, &g.eosTokenIds, g.padTokenId,
                                         g.doSample, g.temperature, g.topK, g.topP, g.maxNewTokens);
  std::vector<flatbuffers::Offset<flatbuffers::String>> labels;
  for (const std::string& label : contents.labels)
    labels.push_back(builder.CreateString(label));
  auto root = fb::CreateArtifactDirect(
      builder, contents.producer.c_str(), contents.target.c_str(), contents.modelConfigJson.c_str(),
      static_cast<fb::ElementType>(contents.computeDtype), contents.maxSeqLen, contents.maxBatch,
      &entries, plan, &caches, contents.pipeline.c_str(), &tensors, &sections,
      contents.tokenizerJson.c_str(), contents.tokenizerConfigJson.c_str(), generation,
      contents.head.c_str(), &labels, contents.chatTemplate.c_str(),
      contents.imageProcessorJson.empty() ? nullptr : contents.imageProcessorJson.c_str(),
      contents.worldSize, contents.tensorParallel, contents.expertParallel,
      contents.targetArch.empty() ? nullptr : contents.targetArch.c_str());
  fb::FinishArtifactBuffer(builder, root);

  padTo(kAlignment);
  ArtifactHeader header{};
  std::memcpy(header.magic, kMagic, sizeof kMagic);
  header.formatVersion = kFormatVersion;
  header.metadataOffset = position_;
  header.metadataSize = builder.GetSize();
  header.metadataXxh64 = xxh64(builder.GetBufferPointer(), builder.GetSize());
  writeRaw(builder.GetBufferPointer(), builder.GetSize());
  if (std::fseek(file_, 0, SEEK_SET) != 0 || std::fwrite(&header, sizeof header, 1, file_) != 1)
    throw Error(temporary_->path() + ": cannot finish artifact: " + std::strerror(errno));
  file_ = nullptr;
  temporary_->commit();
  finished_ = true;
}

} // namespace fathom::artifact
