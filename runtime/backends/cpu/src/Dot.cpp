#include "Dot.h"

#include "Simd.h"

#include "fathom/runtime/Numeric.h"

namespace fathom::cpu::detail {

FATHOM_CPU_CLONES
float dot(const float* a, const float* b, int64_t n) {
  Vec16 acc = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    acc += loadVec(a + i) * loadVec(b + i);
  float sum = sumLanes(acc);
  for (; i < n; ++i)
    sum += a[i] * b[i];
  return sum;
}

FATHOM_CPU_CLONES
float dot(const float* a, const uint16_t* bf16, int64_t n) {
  Vec16 acc = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    acc += loadVec(a + i) * loadBf16Vec(bf16 + i);
  float sum = sumLanes(acc);
  for (; i < n; ++i)
    sum += a[i] * bf16ToFloat(bf16[i]);
  return sum;
}

FATHOM_CPU_CLONES
void axpy(float alpha, const float* x, float* acc, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    storeVec(acc + i, loadVec(acc + i) + loadVec(x + i) * alpha);
  for (; i < n; ++i)
    acc[i] += alpha * x[i];
}

FATHOM_CPU_CLONES
void axpy(float alpha, const uint16_t* bf16, float* acc, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    storeVec(acc + i, loadVec(acc + i) + loadBf16Vec(bf16 + i) * alpha);
  for (; i < n; ++i)
    acc[i] += alpha * bf16ToFloat(bf16[i]);
}

} // namespace fathom::cpu::detail
