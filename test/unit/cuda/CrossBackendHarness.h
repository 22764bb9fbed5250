#pragma once
// The cross-backend harness (in the spirit of ggml's test-backend-ops): one KernelCall of the
// kernel ABI, its operand buffers filled with random values and its weights, run through the
// Backend interface on two backends; the test compares what each wrote. The harness resolves
// each View over its buffer's stated rows, as the executor does for packed, unpaged buffers.
#include "fathom/backend/Backend.h"

#include <flatbuffers/flatbuffers.h>

#include <cstddef>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace fathom::testing {

namespace fb = artifact::fb;

struct HarnessBuffer {
  DType type = DType::F32;
  int64_t batches = 1, rowsPerBatch = 0, rowStride = 0; // the rows every view of it follows
  std::vector<std::byte> host;                          // initial contents (all of it)
};

struct HarnessWeight {
  std::string name;
  DType type = DType::F32;
  std::vector<int64_t> shape;
  std::vector<std::byte> data;
  std::vector<float> scales; // FP8 block scales, [ceil(rows / blockRows), ceil(cols / blockCols)]
  int64_t blockRows = 0, blockCols = 0;
};

struct HarnessCase {
  std::string label;
  std::vector<HarnessBuffer> buffers;
  std::vector<HarnessWeight> weights;
  fb::KernelCallT call;
};

// Every buffer's bytes after running `kase` once on `backend` (planning pass first).
std::vector<std::vector<std::byte>> runCase(backend::Backend& backend, const HarnessCase& kase);

// A view of `buffer`: rows `rowStride` apart, `heads` groups of `headDim` `headStride` apart.
std::unique_ptr<fb::View> view(int32_t buffer, uint64_t rowStride, uint32_t headDim,
                               uint32_t heads = 1, uint64_t headStride = 0, uint64_t offset = 0,
                               uint64_t batchStride = 0);

// Buffers of `rows` x `width` elements (rowStride = width unless given) with random contents:
// normal(0, scale) for floats, uniform in [0, bound) for I64.
HarnessBuffer randomBuffer(std::mt19937& rng, DType type, int64_t batches, int64_t rowsPerBatch,
                           int64_t width, float scale = 1.0f, int64_t rowStride = 0);
HarnessBuffer indexBuffer(const std::vector<int64_t>& values, int64_t batches);
HarnessBuffer maskBuffer(const std::vector<uint8_t>& values, int64_t batches); // Bool
// f32 or bf16 values of one table [rows, cols] (RoPE's cos / sin), as a weight.
HarnessWeight tableWeight(const std::string& name, DType type, int64_t rows, int64_t cols,
                          float phase);
HarnessWeight randomWeight(std::mt19937& rng, const std::string& name, DType type,
                           std::vector<int64_t> shape, float scale = 1.0f);
// DeepSeek's FP8 recipe over a random matrix: 128x128 (or the given) blocks, scale = amax / 448.
HarnessWeight randomFp8Weight(std::mt19937& rng, const std::string& name, int64_t rows,
                              int64_t cols, int64_t blockRows = 128, int64_t blockCols = 128);

// Element i of a buffer as a float (F32, BF16) or an integer value (I64).
double elementAt(const std::vector<std::byte>& bytes, DType type, size_t i);

} // namespace fathom::testing
