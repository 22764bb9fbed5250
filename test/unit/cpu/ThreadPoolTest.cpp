#include "fathom/cpu/ThreadPool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

namespace fathom::cpu {
namespace {

TEST(ThreadPool, CoversEveryIndexExactlyOnce) {
  ThreadPool pool(4);
  EXPECT_EQ(pool.numThreads(), 4);
  for (int64_t count : {0, 1, 7, 1000, 12345}) {
    std::vector<std::atomic<int>> hits(size_t(count) + 2);
    pool.parallelFor(1, count + 1, 3, [&](int64_t begin, int64_t end) {
      EXPECT_LT(begin, end);
      for (int64_t i = begin; i < end; ++i)
        hits[size_t(i)]++;
    });
    EXPECT_EQ(hits[0].load(), 0);
    for (int64_t i = 1; i <= count; ++i)
      ASSERT_EQ(hits[size_t(i)].load(), 1) << "index " << i << " of " << count;
  }
}

TEST(ThreadPool, ChunksRespectTheGrain) {
  ThreadPool pool(3);
  std::atomic<int> shortChunks{0};
  pool.parallelFor(0, 1000, 64, [&](int64_t begin, int64_t end) {
    if (end - begin < 64 && end != 1000)
      shortChunks++;
  });
  EXPECT_EQ(shortChunks.load(), 0);
}

TEST(ThreadPool, UsesSeveralThreadsAndReportsTheirIndex) {
  ThreadPool pool(4);
  std::vector<std::atomic<int>> perThread(4);
  for (int repeat = 0; repeat < 200; ++repeat)
    pool.parallelFor(0, 64, 1, [&](int64_t, int64_t) {
      int index = ThreadPool::currentThreadIndex();
      ASSERT_GE(index, 0);
      ASSERT_LT(index, 4);
      perThread[size_t(index)]++;
    });
  EXPECT_GT(perThread[0].load(), 0); // the caller works too
  int busy = 0;
  for (auto& count : perThread)
    busy += count.load() > 0;
  EXPECT_GE(busy, 2);
}

TEST(ThreadPool, NestedLoopsRunInline) {
  ThreadPool pool(4);
  std::atomic<int64_t> sum{0};
  pool.parallelFor(0, 8, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      pool.parallelFor(0, 100, 1, [&](int64_t b, int64_t e) {
        for (int64_t j = b; j < e; ++j)
          sum += j;
      });
  });
  EXPECT_EQ(sum.load(), 8 * 4950);
}

TEST(ThreadPool, RethrowsTheFirstErrorAfterAllChunksFinish) {
  ThreadPool pool(4);
  std::atomic<int> finished{0};
  EXPECT_THROW(pool.parallelFor(0, 100, 1,
                                [&](int64_t begin, int64_t end) {
                                  if (begin <= 50 && 50 < end)
                                    throw std::runtime_error("the chunk holding 50");
                                  finished++;
                                }),
               std::runtime_error);
  EXPECT_GT(finished.load(), 0);
  // The pool still works afterwards.
  std::atomic<int> after{0};
  pool.parallelFor(0, 10, 1, [&](int64_t b, int64_t e) { after += int(e - b); });
  EXPECT_EQ(after.load(), 10);
}

TEST(ThreadPool, SingleThreadPoolRunsOnTheCaller) {
  ThreadPool pool(1);
  int calls = 0;
  pool.parallelFor(0, 100, 1, [&](int64_t begin, int64_t end) {
    EXPECT_EQ(begin, 0);
    EXPECT_EQ(end, 100);
    calls++;
  });
  EXPECT_EQ(calls, 1);
}

} // namespace
} // namespace fathom::cpu
