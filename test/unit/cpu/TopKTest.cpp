// topkLikeTorch / sortAscendingLikeTorch / sumLikeTorch against outputs of torch 2.15 (CPU).
#include "fathom/cpu/TopK.h"

#include <gtest/gtest.h>

#include <vector>

namespace fathom::cpu {
namespace {

std::vector<int64_t> topk(const std::vector<float>& x, int64_t k, bool sorted) {
  std::vector<TopKEntry> work(x.size());
  std::vector<int64_t> indices(static_cast<size_t>(k));
  topkLikeTorch(x.data(), int64_t(x.size()), k, sorted, work.data(), indices.data());
  return indices;
}

TEST(TopKLikeTorch, ReproducesTorchTieOrder) {
  // t = torch.tensor([0.5, 0.9, 0.5, 0.9, 0.1, 0.5, 0.9, 0.5]); torch.topk(t, k, sorted=...)
  std::vector<float> t = {0.5f, 0.9f, 0.5f, 0.9f, 0.1f, 0.5f, 0.9f, 0.5f};
  EXPECT_EQ(topk(t, 2, true), (std::vector<int64_t>{1, 6}));
  EXPECT_EQ(topk(t, 4, true), (std::vector<int64_t>{1, 6, 3, 0}));
  EXPECT_EQ(topk(t, 4, false), (std::vector<int64_t>{1, 6, 3, 0}));
  // torch.topk(torch.zeros(16), 3) and torch.topk(torch.zeros(256), 8): nth_element's order.
  EXPECT_EQ(topk(std::vector<float>(16, 0.0f), 3, true), (std::vector<int64_t>{10, 11, 12}));
  EXPECT_EQ(topk(std::vector<float>(256, 0.0f), 8, false),
            (std::vector<int64_t>{172, 169, 170, 171, 174, 175, 168, 173}));
}

TEST(TopKLikeTorch, PartialSortPathForSmallK) {
  // k * 64 <= n takes std::partial_sort. x = torch.tensor([float((i*37) % 101) for i in
  // range(1024)]); torch.topk(x, 4, sorted=False).indices -> [232, 131, 333, 30] (ties at 100).
  std::vector<float> x(1024);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = float((i * 37) % 101);
  EXPECT_EQ(topk(x, 4, false), (std::vector<int64_t>{232, 131, 333, 30}));
}

TEST(SortAscendingLikeTorch, OrdersTiesAsTorchSort) {
  // torch.sort(torch.tensor(x)).indices for a 40-element tensor of ties (values 0..3).
  std::vector<float> x = {3, 3, 0, 2, 3, 3, 2, 3, 2, 1, 1, 2, 1, 0, 2, 1, 2, 0, 0, 2,
                          3, 0, 2, 3, 2, 1, 3, 3, 2, 0, 0, 0, 3, 0, 3, 2, 1, 2, 0, 1};
  std::vector<int64_t> want = {31, 2,  30, 38, 29, 33, 21, 18, 17, 13, 39, 25, 15, 12,
                               10, 9,  36, 14, 3,  37, 28, 6,  24, 22, 8,  35, 19, 16,
                               11, 34, 32, 20, 27, 26, 23, 0,  7,  5,  4,  1};
  std::vector<TopKEntry> work(x.size());
  sortAscendingLikeTorch(x.data(), int64_t(x.size()), work.data());
  for (size_t i = 0; i < x.size(); ++i)
    EXPECT_EQ(work[i].second, want[i]) << i;
}

TEST(SumLikeTorch, MatchesTorchCascadeSum) {
  // i = torch.arange(n); x = ((i * i) % 1013).float() / 1013.0 - 0.5; x.sum().item().hex()
  struct Case {
    int64_t n;
    float sum;
  };
  const Case cases[] = {{3, -0x1.7ebc86p+0f},    {5, -0x1.3c3594p+1f},    {8, -0x1.ee4f5ap+1f},
                        {13, -0x1.76ef1p+2f},    {37, -0x1.e0205cp+2f},   {100, -0x1.774808p+2f},
                        {7168, -0x1.360c9cp+3f}, {20000, -0x1.b8fcc4p+2f}};
  for (const Case& c : cases) {
    std::vector<float> x(size_t(c.n));
    for (int64_t i = 0; i < c.n; ++i)
      x[size_t(i)] = float((i * i) % 1013) / 1013.0f - 0.5f;
    EXPECT_EQ(sumLikeTorch(x.data(), c.n), c.sum) << "n = " << c.n;
  }
}

} // namespace
} // namespace fathom::cpu
