#pragma once
// torch.topk(x, k, largest=True, sorted=...) on CPU, including which of several equal values it
// returns and in what order. torch (aten/src/ATen/native/cpu/SortingKernel / TopKImpl.h) runs
// libstdc++'s std::partial_sort when k * 64 <= n, else std::nth_element on (value, index) pairs
// (then std::sort of the first k - 1 if sorted), with NaN ranked highest. Running the same
// algorithms on the same pairs reproduces its output exactly; verified against torch 2.15.
#include <cstdint>
#include <utility>

namespace fathom::cpu {

using TopKEntry = std::pair<float, int64_t>;

// Writes the k selected indices (and values, if `values` is not null) in torch's order.
// `work` must hold n entries. Requires 1 <= k <= n.
void topkLikeTorch(const float* x, int64_t n, int64_t k, bool sorted, TopKEntry* work,
                   int64_t* indices, float* values = nullptr);

// torch.sort(x, descending=false) on CPU (std::sort on (value, index) pairs, NaN last): fills
// `work` with the n pairs in torch's order, ties included.
void sortAscendingLikeTorch(const float* x, int64_t n, TopKEntry* work);

// x.sum() of a contiguous fp32 row, bit-identical to single-threaded torch on CPU (its cascade
// sum; see src/TorchSum.h). HF's router renormalization divides by this.
float sumLikeTorch(const float* x, int64_t n);

} // namespace fathom::cpu
