// Applies rotary embeddings with HF's arithmetic (see RopeRow.h), one (token, head) row at a
// time.
#include "RopeRow.h"

#include <algorithm>
#include <limits>

namespace fathom::cpu {

void applyRope(ThreadPool& pool, const RopeApplyArgs& a) {
  RopeRotation rotation{a.layout,
                        a.dim,
                        a.tableType,
                        a.cos,
                        a.sin,
                        a.tableStride,
                        a.tableRows ? a.tableRows : std::numeric_limits<int64_t>::max()};
  detail::checkRotation(rotation, a.type, "applyRope");
  detail::withActivationType(a.type, "applyRope", "x", [&](auto tag) {
    using T = decltype(tag);
    const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(a.heads * a.dim, 1));
    pool.parallelFor(0, a.tokens, grain, [&](int64_t first, int64_t last) {
      for (int64_t t = first; t < last; ++t) {
        int64_t row = a.positionRows ? a.positionRows[t] : t;
        for (int64_t h = 0; h < a.heads; ++h) {
          const T* x = static_cast<const T*>(a.x) + t * a.xTokenStride + h * a.xHeadStride;
          T* out = static_cast<T*>(a.out) + t * a.outTokenStride + h * a.outHeadStride;
          detail::rotateRow(rotation, row, x, out);
        }
      }
    });
  });
}

} // namespace fathom::cpu
