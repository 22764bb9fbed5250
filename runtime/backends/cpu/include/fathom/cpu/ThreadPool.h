#pragma once
// A fixed set of worker threads that every CPU kernel shares. Threads are created once; each
// parallelFor wakes them, splits a range into chunks they claim from an atomic counter, and
// returns when all chunks are done. The calling thread works too, so a pool of N threads has
// N-1 workers.
//
// Kernels are written so that an output element's arithmetic never depends on which chunk or
// thread computed it: results are bit-identical for every thread count. Call kernels from outside
// parallel regions: kernels with scratch give each thread of the pool its own slot.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace fathom::cpu {

class ThreadPool {
public:
  // numThreads <= 0 means one thread per hardware thread.
  explicit ThreadPool(int numThreads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Threads that run a parallelFor, the caller included.
  int numThreads() const { return int(workers_.size()) + 1; }

  // Which thread of the running parallelFor this is: 0 for the caller (and for any thread
  // outside a parallel region), 1..numThreads()-1 for workers. Kernels index per-thread scratch
  // with it.
  static int currentThreadIndex();

  // Calls body(chunkBegin, chunkEnd) over [begin, end) in chunks of at least `grain` elements
  // (the last may be shorter) and waits for all of them. The first exception a chunk throws is
  // rethrown here after every chunk has finished. Called from inside a chunk (nested), it runs
  // the whole range on the current thread.
  template <class Body> void parallelFor(int64_t begin, int64_t end, int64_t grain, Body&& body) {
    using Fn = std::remove_reference_t<Body>;
    run(
        begin, end, grain,
        [](void* context, int64_t chunkBegin, int64_t chunkEnd) {
          (*static_cast<Fn*>(context))(chunkBegin, chunkEnd);
        },
        const_cast<void*>(static_cast<const void*>(&body)));
  }

private:
  using ChunkFn = void (*)(void* context, int64_t begin, int64_t end);

  void run(int64_t begin, int64_t end, int64_t grain, ChunkFn fn, void* context);
  void workerLoop();
  void runChunks();

  std::vector<std::thread> workers_;
  std::mutex callMutex_; // one parallel region at a time when several threads share the pool

  // The job workers pick up when `generation_` changes.
  ChunkFn fn_ = nullptr;
  void* context_ = nullptr;
  int64_t begin_ = 0, end_ = 0, chunkSize_ = 1;
  std::atomic<int64_t> nextChunk_{0};
  int64_t numChunks_ = 0;
  std::atomic<int> busyWorkers_{0};
  std::exception_ptr firstError_;
  std::mutex errorMutex_;

  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stopping_{false};
  std::mutex wakeMutex_;
  std::condition_variable wake_;
};

} // namespace fathom::cpu
