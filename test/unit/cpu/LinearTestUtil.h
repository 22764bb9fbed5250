#pragma once
// What the linear() tests share: the double-precision reference, one call with its scratch, and
// the fixture that pins the GEMM ISA.
#include "fathom/cpu/Isa.h"
#include "fathom/cpu/Linear.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace fathom::cpu::test {

struct LinearShape {
  int64_t rows, in, out;
};

// Products and sums in double (x, w already widened), + bias.
inline std::vector<double> linearReference(const std::vector<float>& x, const std::vector<float>& w,
                                           const std::vector<float>* bias, const LinearShape& s) {
  std::vector<double> y(size_t(s.rows * s.out));
  for (int64_t r = 0; r < s.rows; ++r)
    for (int64_t o = 0; o < s.out; ++o) {
      double acc = bias ? (*bias)[size_t(o)] : 0.0;
      for (int64_t i = 0; i < s.in; ++i)
        acc += double(x[size_t(r * s.in + i)]) * double(w[size_t(o * s.in + i)]);
      y[size_t(r * s.out + o)] = acc;
    }
  return y;
}

// y within `relative` x sum |x||w| (plus `absolute`) of the double reference: what fp32
// accumulation of exact products guarantees whatever the summation order.
inline void expectNearReference(const std::vector<float>& y, const std::vector<float>& x,
                                const std::vector<float>& w, const LinearShape& s, double relative,
                                double absolute, const std::string& what) {
  std::vector<float> absX(x.size()), absW(w.size());
  for (size_t i = 0; i < x.size(); ++i)
    absX[i] = std::fabs(x[i]);
  for (size_t i = 0; i < w.size(); ++i)
    absW[i] = std::fabs(w[i]);
  std::vector<double> exact = linearReference(x, w, nullptr, s);
  std::vector<double> magnitude = linearReference(absX, absW, nullptr, s);
  for (size_t i = 0; i < y.size(); ++i)
    ASSERT_NEAR(y[i], exact[i], relative * magnitude[i] + absolute) << what << " output " << i;
}

template <class Y> std::vector<Y> runLinear(LinearArgs args, ThreadPool& pool) {
  std::vector<Y> y(size_t(args.rows * args.outFeatures));
  args.y = y.data();
  ScratchBuffer scratch(linearScratchBytes(args, pool));
  linear(args, pool, scratch.span());
  return y;
}

// The decode kernels' sum, emulated: lane k % 16 sums w * x over k in increasing order with
// fused multiply-adds, then the 16 lanes are added in sumLanes' fixed tree.
inline float laneTreeDot(const float* w, const float* x, int64_t in) {
  float lanes[16] = {};
  for (int64_t k = 0; k < in; ++k)
    lanes[k % 16] = std::fma(w[k], x[k], lanes[k % 16]);
  for (int width = 8; width >= 1; width /= 2)
    for (int i = 0; i < width; ++i)
      lanes[i] += lanes[i + width];
  return lanes[0];
}

// Parameterized by ISA; skipped where the CPU lacks it.
class OnEveryGemmIsa : public ::testing::TestWithParam<Isa> {
protected:
  void SetUp() override {
    if (setGemmIsa(GetParam()) != GetParam())
      GTEST_SKIP() << "this CPU lacks " << isaName(GetParam());
  }
  void TearDown() override { setGemmIsa(detectedIsa()); }
  ThreadPool pool{3};
};

} // namespace fathom::cpu::test
