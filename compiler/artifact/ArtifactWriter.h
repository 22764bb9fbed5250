#pragma once
// Streams a Fathom artifact to disk: weight bytes go straight to the file as they are produced
// (bounded memory however big the checkpoint), checksummed on the way, and the FlatBuffer
// metadata is written last. The file appears under its name only when finish() succeeds; until
// then it is a temporary of its own (TemporaryFiles.h), removed if the writer is destroyed
// unfinished or the process is interrupted.
#include "Artifact_generated.h"
#include "compiler/artifact/TemporaryFiles.h"
#include "fathom/runtime/DType.h"

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace fathom::artifact {

struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::string scale; // block-quantized weights: name of the f32 scale tensor
  uint32_t blockRows = 0;
  uint32_t blockCols = 0;
  std::string zero; // INT4 weights: name of the U4 zero-point tensor
  // The kernel-call weight index (sharded artifacts: a rank's tensors are listed by it, its
  // shards under one index); -1: the order of addTensor.
  int64_t weight = -1;
};

struct GenerationDesc {
  int64_t bosTokenId = -1;
  std::vector<int64_t> eosTokenIds;
  int64_t padTokenId = -1;
  bool doSample = false;
  float temperature = 1.0f;
  int32_t topK = 0;
  float topP = 1.0f;
  int32_t maxNewTokens = 0;
};

struct ArtifactContents {
  std::string producer;
  std::string target;
  std::string targetArch; // empty where the target has one kind of device
  std::string modelConfigJson;
  DType computeDtype = DType::F32;
  uint32_t maxSeqLen = 0;
  uint32_t maxBatch = 0;
  // Built by the compiler's emitter (compiler/artifact/EmitEntryPoints.h).
  std::vector<std::unique_ptr<fb::EntryPointT>> entryPoints;
  std::vector<std::unique_ptr<fb::CacheT>> caches;
  std::string pipeline;
  uint64_t arenaSize = 0;
  uint64_t kvCacheBytes = 0;
  std::string tokenizerJson;
  std::string tokenizerConfigJson;
  GenerationDesc generation;
  std::string head;
  std::vector<std::string> labels;
  std::string chatTemplate;
  std::string imageProcessorJson; // empty for text models
  uint32_t worldSize = 1, tensorParallel = 1, expertParallel = 1;
};

// Receives a tensor's bytes in any number of chunks.
using ByteSink = std::function<void(const void* data, size_t size)>;

class ArtifactWriter {
public:
  explicit ArtifactWriter(std::string path);
  ~ArtifactWriter();
  ArtifactWriter(const ArtifactWriter&) = delete;
  ArtifactWriter& operator=(const ArtifactWriter&) = delete;

  // `rank` >= 0: a section only that rank maps (a sharded artifact's per-rank weights).
  // `synthetic`: its tensors are recorded without bytes (the loader fills them; benchmarks).
  void beginSection(std::string name, int32_t rank = -1, bool synthetic = false);
  // `produce` must hand exactly storageBytes(dtype, ...) bytes to the sink (it is not called in
  // a synthetic section); returns the tensor index.
  uint32_t addTensor(TensorInfo info, const std::function<void(const ByteSink&)>& produce);
  uint32_t addTensorBytes(TensorInfo info, const void* data, size_t size);
  void endSection();
  void finish(const ArtifactContents& contents);

private:
  struct SectionRecord {
    std::string name;
    uint64_t offset = 0, size = 0, checksum = 0;
    int32_t rank = -1;
    bool synthetic = false;
  };
  struct TensorRecord {
    TensorInfo info;
    uint32_t section = 0;
    uint64_t offset = 0, size = 0;
  };

  void writeRaw(const void* data, size_t size);
  void padTo(uint64_t alignment);

  std::string path_;
  std::unique_ptr<TemporaryFile> temporary_;
  std::FILE* file_ = nullptr; // the temporary's stream
  uint64_t position_ = 0;
  bool inSection_ = false;
  bool finished_ = false;
  std::vector<SectionRecord> sections_;
  std::vector<TensorRecord> tensors_;
  struct SectionHasher;
  SectionHasher* hasher_ = nullptr;
};

} // namespace fathom::artifact
