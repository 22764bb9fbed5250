#pragma once
// The generic executor: an artifact's entry points bound to a backend. Loading maps and verifies
// the file, binds the weights, allocates the activation arena and the caches the plan sized,
// and prepares every kernel call through the backend's kernel table. Running an entry point
// copies its inputs in, runs its calls in order and returns its output. Nothing here knows what
// model it runs.
#include "fathom/artifact/Artifact.h"
#include "fathom/backend/Backend.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace fathom::executor {

namespace fb = artifact::fb;

struct LoadOptions {
  int threads = 0; // CPU: 0 = every hardware thread
  // Reports the weight checksum verification, the long part of loading a big artifact.
  artifact::Artifact::Progress progress;
  // Runs the artifact on this backend instead of the one registered for its target.
  std::shared_ptr<backend::Backend> backend;
  // Bytes of activations and caches the plan may ask for; 0 = the machine's physical memory.
  // A plan that needs more is refused before anything is allocated.
  uint64_t memoryLimit = 0;
  // The KV caches are one pool of blocks of kvBlockTokens tokens (0: 64, or max_seq_len when
  // shorter) that every sequence draws from. kvCacheTokens: the pool's size in tokens, rounded
  // up to whole blocks (0: max_batch sequences of max_seq_len, each in whole blocks).
  int64_t kvBlockTokens = 0;
  int64_t kvCacheTokens = 0;
  // The ranks this process runs beside (mpirun's world; it outlives the program), over which a
  // sharded artifact's collectives run and whose rank picks the weights this process maps. An
  // artifact compiled for another number of ranks is refused. Null: this process alone.
  comm::Communicator* communicator = nullptr;
  // Decode steps replayed from recordings where the backend records (CUDA graphs; the CPU does
  // not): each step runs at its bucket, the batch and keys rounded up (StepBuckets.h), keys to
  // a multiple of recordKeyGranule (0: 256). Off: every step launches each call (--eager).
  bool recordDecode = true;
  int64_t recordKeyGranule = 0;
};

// Host data of one call, by input kind; an entry point reads the ones it declares.
struct EntryInputs {
  const int64_t* ids = nullptr;           // [batch, tokens]
  const int64_t* positions = nullptr;     // [batch, tokens]
  const uint8_t* keyMask = nullptr;       // [batch, keys]
  const int64_t* cacheStart = nullptr;    // [batch]
  const int64_t* headRows = nullptr;      // [head rows]
  const float* pixelValues = nullptr;     // [batch] images, channels-first (encode_image)
  const float* imageEmbeddings = nullptr; // [image rows] rows for the image tokens, in order
  // [batch, blocksPerSequence()]: the cache blocks holding each sequence's tokens in order
  // (entries past what a sequence holds may name any block of the pool). Null: sequence b owns
  // blocks b * blocksPerSequence() onwards, which needs a pool of max_batch full sequences.
  const int64_t* blockTable = nullptr;
};

class Program {
public:
  // Throws fathom::Error naming the file and the problem (corrupt, wrong version, a target no
  // backend runs, a call the backend cannot bind).
  static std::unique_ptr<Program> load(const std::string& path, const LoadOptions& options = {});
  ~Program();

  const artifact::Artifact& artifact() const;
  backend::Backend& backend();
  DType computeDtype() const;
  int64_t maxBatch() const;
  int64_t maxSeqLen() const;

  bool has(fb::EntryKind kind) const;
  // Elements per row of the entry point's output.
  int64_t outputWidth(fb::EntryKind kind) const;
  // Tokens per sequence one call of the entry point takes at most (encode_image: the patches).
  int64_t maxTokens(fb::EntryKind kind) const;
  // Elements per row of an input the entry point declares (0 when it has none of that kind).
  int64_t inputWidth(fb::EntryKind kind, fb::InputKind input) const;
  // Bytes of caches the runtime holds (every cache's pool of blocks).
  uint64_t cacheBytes() const;
  // The cache pool: tokens per block, blocks in all, and the table entries per sequence
  // (max_seq_len in blocks).
  int64_t blockTokens() const;
  int64_t cacheBlocks() const;
  int64_t blocksPerSequence() const;

  // Runs an entry point and returns its output as fp32 [rows, width]. Throws fathom::Error when
  // the step exceeds the plan or an input is out of range (a token id past the vocabulary).
  std::vector<float> run(fb::EntryKind kind, const backend::StepShape& step,
                         const EntryInputs& inputs);
  // run() whose output rows the backend turns into one token each on the device
  // (Backend::selectTokens), uniforms[r] being row r's draw: `selected` gets one entry per row
  // and true is returned. False where the backend cannot; `logits` then holds run()'s output.
  bool runSelecting(fb::EntryKind kind, const backend::StepShape& step, const EntryInputs& inputs,
                    const backend::TokenChoice& choice, const std::vector<double>& uniforms,
                    std::vector<backend::SelectedToken>& selected, std::vector<float>& logits);

  // Per-call wall time, collected while profiling is on (off by default: timing every call
  // costs two clock reads per kernel). One entry per entry point and call, in call order.
  struct CallProfile {
    fb::EntryKind entry;
    const char* kernel; // the KernelParams member, e.g. "LinearCall"
    std::string op;     // the IR op the call came from
    int64_t runs = 0;
    double seconds = 0;
  };
  void setProfiling(bool on);
  std::vector<CallProfile> profile() const;

private:
  struct Impl;
  explicit Program(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace fathom::executor
