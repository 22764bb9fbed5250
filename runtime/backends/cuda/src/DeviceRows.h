#pragma once
// A backend::Tensor as kernels on the device read it: the same addressing (strided rows and
// heads, or rows in the KV pool's blocks), callable from host and device code.
#include <cstddef>
#include <cstdint>

#ifdef __CUDACC__
#define FATHOM_HOST_DEVICE __host__ __device__
#else
#define FATHOM_HOST_DEVICE
#endif

namespace fathom::cuda {

struct DeviceRows {
  std::byte* data = nullptr;
  int64_t batches = 1, rowsPerBatch = 0;
  int64_t rowStride = 0, batchStride = 0;
  int64_t heads = 1, headDim = 0, headStride = 0;
  const int64_t* blockTable = nullptr; // device memory; null: not paged
  int64_t blockRows = 0, blocksPerBatch = 0;

  FATHOM_HOST_DEVICE int64_t rows() const { return batches * rowsPerBatch; }
  FATHOM_HOST_DEVICE int64_t width() const { return heads == 1 ? headDim : heads * headDim; }
  // Element offset of row (b, t) from data (Backend.h's Tensor::rowOffset).
  FATHOM_HOST_DEVICE int64_t rowOffset(int64_t b, int64_t t) const {
    if (!blockTable)
      return b * batchStride + t * rowStride;
    const int64_t block = blockTable[b * blocksPerBatch + t / blockRows];
    return (block * blockRows + t % blockRows) * rowStride;
  }
  // Element offset of flat row i (b = i / rowsPerBatch) and column c of the row's heads.
  FATHOM_HOST_DEVICE int64_t offset(int64_t i, int64_t c) const {
    const int64_t head = heads == 1 ? 0 : c / headDim;
    return rowOffset(i / rowsPerBatch, i % rowsPerBatch) + head * headStride + (c - head * headDim);
  }
  template <class T> FATHOM_HOST_DEVICE T* at(int64_t i, int64_t c) const {
    return reinterpret_cast<T*>(data) + offset(i, c);
  }
  // Head h of row t of sequence b (rows of one sequence: t < rowsPerBatch, or a cache's keys).
  template <class T> FATHOM_HOST_DEVICE T* head(int64_t b, int64_t t, int64_t h) const {
    return reinterpret_cast<T*>(data) + rowOffset(b, t) + h * headStride;
  }
};

// Errors kernels find in data the host never sees (an id or row index out of range): a kernel
// sets one of these bits in the backend's device error word; synchronize() reports them.
enum DeviceError : unsigned {
  kIdOutOfRange = 1u << 0,
  kRowOutOfRange = 1u << 1,
  kPositionOutOfRange = 1u << 2, // a RoPE position past the tables
  kCacheFull = 1u << 3,          // an append past a sequence's cache capacity
  kQueriesOutsideKeys = 1u << 4, // query_start puts queries past the cached keys
  kExpertOutOfRange = 1u << 5,   // a routed expert id outside the experts
  kBadExpertRanges = 1u << 6,    // expert row offsets that do not ascend within the rows
  kImageRowsMismatch = 1u << 7,  // image tokens in the prompts != image embedding rows given
};

} // namespace fathom::cuda
