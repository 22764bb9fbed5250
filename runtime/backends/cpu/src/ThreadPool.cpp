#include "fathom/cpu/ThreadPool.h"

#include <algorithm>
#include <chrono>

namespace fathom::cpu {
namespace {

// True while this thread runs chunks of some pool: a nested parallelFor then runs inline
// instead of waiting for workers that are busy with the outer loop (which would deadlock).
thread_local bool insideParallelRegion = false;
thread_local int threadIndex = 0;

void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

// Decode runs hundreds of small kernels per token; waking a sleeping thread costs tens of
// microseconds, so idle workers spin this long before they block.
constexpr auto kSpinBeforeSleep = std::chrono::microseconds(100);

} // namespace

ThreadPool::ThreadPool(int numThreads) {
  if (numThreads <= 0)
    numThreads = int(std::max(1u, std::thread::hardware_concurrency()));
  workers_.reserve(size_t(numThreads - 1));
  for (int i = 1; i < numThreads; ++i)
    workers_.emplace_back([this, i] {
      threadIndex = i;
      workerLoop();
    });
}

int ThreadPool::currentThreadIndex() {
  return threadIndex;
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(wakeMutex_);
    stopping_.store(true, std::memory_order_release);
  }
  wake_.notify_all();
  for (std::thread& worker : workers_)
    worker.join();
}

void ThreadPool::run(int64_t begin, int64_t end, int64_t grain, ChunkFn fn, void* context) {
  int64_t count = end - begin;
  if (count <= 0)
    return;
  grain = std::max<int64_t>(grain, 1);
  if (insideParallelRegion || workers_.empty() || count <= grain) {
    fn(context, begin, end);
    return;
  }

  std::lock_guard<std::mutex> callLock(callMutex_);
  // A few chunks per thread let fast threads take over work from slow (preempted) ones.
  int64_t chunkSize = std::max(grain, (count + 4 * numThreads() - 1) / (4 * numThreads()));
  fn_ = fn;
  context_ = context;
  begin_ = begin;
  end_ = end;
  chunkSize_ = chunkSize;
  numChunks_ = (count + chunkSize - 1) / chunkSize;
  nextChunk_.store(0, std::memory_order_relaxed);
  firstError_ = nullptr;
  busyWorkers_.store(int(workers_.size()), std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(wakeMutex_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();

  insideParallelRegion = true;
  runChunks();
  insideParallelRegion = false;

  for (int spins = 0; busyWorkers_.load(std::memory_order_acquire) != 0; ++spins) {
    if (spins < 4096)
      cpuRelax();
    else
      std::this_thread::yield();
  }
  if (firstError_)
    std::rethrow_exception(firstError_);
}

void ThreadPool::runChunks() {
  for (;;) {
    int64_t chunk = nextChunk_.fetch_add(1, std::memory_order_relaxed);
    if (chunk >= numChunks_)
      return;
    int64_t chunkBegin = begin_ + chunk * chunkSize_;
    int64_t chunkEnd = std::min(end_, chunkBegin + chunkSize_);
    try {
      fn_(context_, chunkBegin, chunkEnd);
    } catch (...) {
      std::lock_guard<std::mutex> lock(errorMutex_);
      if (!firstError_)
        firstError_ = std::current_exception();
    }
  }
}

void ThreadPool::workerLoop() {
  insideParallelRegion = true;
  uint64_t seenGeneration = 0;
  for (;;) {
    auto spinUntil = std::chrono::steady_clock::now() + kSpinBeforeSleep;
    for (int spins = 0; generation_.load(std::memory_order_acquire) == seenGeneration &&
                        !stopping_.load(std::memory_order_acquire);
         ++spins) {
      if ((spins & 255) == 255 && std::chrono::steady_clock::now() > spinUntil) {
        std::unique_lock<std::mutex> lock(wakeMutex_);
        wake_.wait(lock, [&] {
          return generation_.load(std::memory_order_acquire) != seenGeneration ||
                 stopping_.load(std::memory_order_acquire);
        });
        break;
      }
      cpuRelax();
    }
    if (stopping_.load(std::memory_order_acquire))
      return;
    seenGeneration = generation_.load(std::memory_order_acquire);
    runChunks();
    busyWorkers_.fetch_sub(1, std::memory_order_release);
  }
}

} // namespace fathom::cpu
