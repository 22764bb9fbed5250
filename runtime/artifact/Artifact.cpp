#include "fathom/artifact/Artifact.h"

#include "Artifact_generated.h"
#include "SyntheticWeights.h"
#include "fathom/artifact/Checksum.h"
#include "fathom/runtime/Error.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace fathom::artifact {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw Error(path + ": " + problem);
}

uint64_t elementCount(const flatbuffers::Vector<int64_t>* shape) {
  uint64_t count = 1;
  if (shape)
    for (int64_t dim : *shape) {
      if (dim < 0 || __builtin_mul_overflow(count, uint64_t(dim), &count))
        return UINT64_MAX;
    }
  return count;
}

} // namespace

std::unique_ptr<Artifact> Artifact::open(const std::string& path, Verify verify,
                                         const Progress& progress, int64_t rank) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    fail(path, std::string("cannot open artifact: ") + std::strerror(errno));
  struct stat info {};
  if (fstat(fd, &info) != 0) {
    ::close(fd);
    fail(path, std::string("cannot stat artifact: ") + std::strerror(errno));
  }
  size_t size = size_t(info.st_size);
  if (size < kHeaderSize) {
    ::close(fd);
    fail(path, "not a Fathom artifact: " + std::to_string(size) +
                   " bytes, shorter than the 64-byte header (truncated?)");
  }
  void* mapping = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (mapping == MAP_FAILED)
    fail(path, std::string("cannot map artifact: ") + std::strerror(errno));
  std::unique_ptr<Artifact> artifact(
      new Artifact(path, static_cast<const uint8_t*>(mapping), size, rank));
  artifact->verifyLayout(verify, progress);
  return artifact;
}

Artifact::Artifact(std::string path, const uint8_t* base, size_t size, int64_t rank)
    : path_(std::move(path)), base_(base), size_(size), rank_(rank) {}

Artifact::~Artifact() {
  for (size_t i = 0; i < synthetic_.size(); ++i)
    if (synthetic_[i])
      munmap(synthetic_[i], syntheticBytes_[i]);
  munmap(const_cast<uint8_t*>(base_), size_);
}

void Artifact::verifyLayout(Verify verify, const Progress& progress) {
  ArtifactHeader header;
  std::memcpy(&header, base_, sizeof header);
  if (std::memcmp(header.magic, kMagic, sizeof kMagic) != 0)
    fail(path_, "not a Fathom artifact (bad magic bytes)");
  if (header.formatVersion != kFormatVersion)
    fail(path_, "artifact format version " + std::to_string(header.formatVersion) +
                    ", but this runtime reads version " + std::to_string(kFormatVersion) +
                    "; recompile the checkpoint with a matching fathom-compile");
  if (header.metadataOffset < kHeaderSize || header.metadataOffset > size_ ||
      header.metadataSize > size_ - header.metadataOffset)
    fail(path_, "metadata range [" + std::to_string(header.metadataOffset) + ", +" +
                    std::to_string(header.metadataSize) + ") lies outside the " +
                    std::to_string(size_) + "-byte file (truncated?)");
  const uint8_t* metadataBytes = base_ + header.metadataOffset;
  if (xxh64(metadataBytes, header.metadataSize) != header.metadataXxh64)
    fail(path_, "metadata checksum mismatch: the file is corrupted");
  flatbuffers::Verifier verifier(metadataBytes, header.metadataSize);
  if (!fb::VerifyArtifactBuffer(verifier))
    fail(path_, "metadata does not verify as a Fathom artifact FlatBuffer");
  metadata_ = fb::GetArtifact(metadataBytes);

  const int64_t world = metadata_->world_size();
  if (world < 1 || rank_ < 0 || rank_ >= world)
    fail(path_, "rank " + std::to_string(rank_) + " of an artifact compiled for " +
                    std::to_string(world) + " rank(s)");
  const auto* sections = metadata_->sections();
  size_t sectionCount = sections ? sections->size() : 0;
  uint64_t sectionBytes = 0;
  std::vector<bool> mine(sectionCount);
  for (size_t i = 0; i < sectionCount; ++i) {
    const fb::Section* section = sections->Get(i);
    if (section->rank() < -1 || section->rank() >= world)
      fail(path_, "section '" + section->name()->str() + "' belongs to rank " +
                      std::to_string(section->rank()) + " of a " + std::to_string(world) +
                      "-rank artifact");
    mine[i] = section->rank() == -1 || section->rank() == rank_;
    if (section->synthetic()) { // no bytes in the file: made when the artifact is opened to run
      if (section->offset() != 0)
        fail(path_, "synthetic section '" + section->name()->str() + "' has offset " +
                        std::to_string(section->offset()) + "; synthetic sections have none (0)");
      continue;
    }
    if (section->offset() % kAlignment != 0 || section->offset() < kHeaderSize ||
        section->offset() > header.metadataOffset ||
        section->size() > header.metadataOffset - section->offset())
      fail(path_,
           "section '" + section->name()->str() + "' range is misaligned or outside the data area");
    if (mine[i])
      sectionBytes += section->size();
  }
  if (verify == Verify::Everything) {
    // Hashed in pieces so that progress moves during one big section.
    constexpr uint64_t kPiece = uint64_t(64) << 20;
    uint64_t verified = 0;
    for (size_t i = 0; i < sectionCount; ++i) {
      const fb::Section* section = sections->Get(i);
      if (!mine[i] || section->synthetic())
        continue;
      Xxh64 hash;
      for (uint64_t at = 0; at < section->size(); at += kPiece) {
        const uint64_t piece = std::min(kPiece, section->size() - at);
        hash.update(base_ + section->offset() + at, piece);
        verified += piece;
        if (progress)
          progress(verified, sectionBytes);
      }
      if (hash.digest() != section->xxh64())
        fail(path_,
             "section '" + section->name()->str() + "' checksum mismatch: the file is corrupted");
    }
    if (progress && verified == 0)
      progress(0, 0);
  }
  const auto* tensors = metadata_->tensors();
  size_t tensorCount = tensors ? tensors->size() : 0;
  for (size_t i = 0; i < tensorCount; ++i) {
    const fb::Tensor* tensor = tensors->Get(i);
    std::string name = tensor->name()->str();
    if (tensor->section() >= sectionCount)
      fail(path_, "tensor '" + name + "' names section " + std::to_string(tensor->section()) +
                      " of " + std::to_string(sectionCount));
    const fb::Section* section = sections->Get(tensor->section());
    if (tensor->offset() % kAlignment != 0 || tensor->offset() > section->size() ||
        tensor->size() > section->size() - tensor->offset())
      fail(path_, "tensor '" + name + "' lies outside its section or is misaligned");
    if (uint8_t(tensor->dtype()) > uint8_t(fb::ElementType::MAX))
      fail(path_, "tensor '" + name + "' has an unknown element type");
    uint64_t count = elementCount(tensor->shape());
    uint64_t rowLength = tensor->shape() && tensor->shape()->size() > 0
                             ? uint64_t(tensor->shape()->Get(tensor->shape()->size() - 1))
                             : 1;
    if (count == UINT64_MAX || count > (UINT64_MAX >> 4) ||
        storageBytes(static_cast<DType>(tensor->dtype()), count, rowLength) != tensor->size())
      fail(path_, "tensor '" + name + "' size " + std::to_string(tensor->size()) +
                      " does not match its shape and dtype");
    if (!mine[tensor->section()])
      continue;
    if (!tensorIndex_.emplace(tensor->name()->string_view(), visible_.size()).second)
      fail(path_, "tensor '" + name + "' appears twice" +
                      (world > 1 ? " among rank " + std::to_string(rank_) + "'s weights" : ""));
    visible_.push_back(uint32_t(i));
  }
  synthetic_.assign(sectionCount, nullptr);
  syntheticBytes_.assign(sectionCount, 0);
  if (verify == Verify::Everything) // a metadata-only view never reads weight bytes
    makeSyntheticSections(mine);
}

void Artifact::makeSyntheticSections(const std::vector<bool>& mine) {
  const auto* sections = metadata_->sections();
  for (size_t i = 0; i < synthetic_.size(); ++i) {
    const fb::Section* section = sections->Get(flatbuffers::uoffset_t(i));
    if (!mine[i] || !section->synthetic())
      continue;
    const uint64_t physical = uint64_t(sysconf(_SC_PHYS_PAGES)) * uint64_t(sysconf(_SC_PAGESIZE));
    if (section->size() > physical)
      fail(path_, "synthetic section '" + section->name()->str() + "' needs " +
                      std::to_string(section->size()) + " bytes, more than this machine's " +
                      std::to_string(physical) + " bytes of memory");
    const size_t bytes = std::max<size_t>(size_t(section->size()), 1);
    void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED)
      fail(path_, "cannot allocate the " + std::to_string(bytes) + " bytes of synthetic section '" +
                      section->name()->str() + "': " + std::strerror(errno));
    synthetic_[i] = static_cast<uint8_t*>(memory);
    syntheticBytes_[i] = bytes;
  }
  // Tensors are independent: the machine's threads share them (tens of GB for a real shape).
  std::atomic<size_t> next{0};
  auto fill = [&] {
    for (size_t i = next++; i < visible_.size(); i = next++) {
      const fb::Tensor* tensor = metadata_->tensors()->Get(visible_[i]);
      if (uint8_t* base = synthetic_[tensor->section()])
        fillSynthetic(static_cast<DType>(tensor->dtype()), visible_[i], base + tensor->offset(),
                      tensor->size());
    }
  };
  std::vector<std::thread> threads(std::max(1u, std::thread::hardware_concurrency()) - 1);
  for (std::thread& thread : threads)
    thread = std::thread(fill);
  fill();
  for (std::thread& thread : threads)
    thread.join();
}

size_t Artifact::tensorCount() const {
  return visible_.size();
}

const fb::Tensor& Artifact::tensorMetadata(size_t index) const {
  return *metadata_->tensors()->Get(visible_.at(index));
}

WeightView Artifact::tensor(size_t index) const {
  const fb::Tensor* tensor = &tensorMetadata(index);
  const fb::Section* section = metadata_->sections()->Get(tensor->section());
  if (section->synthetic() && !synthetic_[tensor->section()])
    fail(path_, "tensor '" + tensor->name()->str() +
                    "' is synthetic, and its values are made only when the artifact is opened "
                    "for running (Verify::Everything)");
  const uint8_t* sectionBase =
      section->synthetic() ? synthetic_[tensor->section()] : base_ + section->offset();
  WeightView view{tensor->name()->string_view(),
                  static_cast<DType>(tensor->dtype()),
                  {},
                  sectionBase + tensor->offset(),
                  tensor->size()};
  if (tensor->shape())
    view.shape.assign(tensor->shape()->begin(), tensor->shape()->end());
  return view;
}

WeightView Artifact::tensor(std::string_view name) const {
  auto found = tensorIndex_.find(name);
  if (found == tensorIndex_.end())
    fail(path_, "artifact has no tensor '" + std::string(name) + "'");
  return tensor(found->second);
}

const fb::EntryPoint* Artifact::entryPoint(std::string_view name) const {
  if (const auto* entries = metadata_->entry_points())
    for (const fb::EntryPoint* entry : *entries)
      if (entry->name()->string_view() == name)
        return entry;
  return nullptr;
}

} // namespace fathom::artifact
