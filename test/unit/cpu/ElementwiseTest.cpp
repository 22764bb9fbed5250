// Embedding, row gather, RMSNorm, residual add, SiLU*mul and softmax against scalar references
// that apply HF's rounding points one by one.
#include "fathom/cpu/Elementwise.h"
#include "TestUtil.h"
#include "fathom/runtime/Error.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <type_traits>

namespace fathom::cpu {
namespace {

using test::randomFloats;
using test::toBf16;

TEST(Embedding, GathersRowsAndConvertsDtypes) {
  ThreadPool pool(2);
  const int64_t vocab = 10, hidden = 6;
  auto table = toBf16(randomFloats(size_t(vocab * hidden), 1));
  std::vector<int64_t> ids = {3, 0, 9, 3};
  std::vector<uint16_t> out(ids.size() * hidden);
  embedding(pool, DType::BF16, table.data(), vocab, hidden, ids.data(), 4, DType::BF16, out.data());
  std::vector<float> wide(ids.size() * hidden);
  embedding(pool, DType::BF16, table.data(), vocab, hidden, ids.data(), 4, DType::F32, wide.data());
  for (size_t i = 0; i < ids.size(); ++i)
    for (int64_t d = 0; d < hidden; ++d) {
      EXPECT_EQ(out[i * hidden + d], table[size_t(ids[i] * hidden + d)]);
      EXPECT_EQ(wide[i * hidden + d], bf16ToFloat(table[size_t(ids[i] * hidden + d)]));
    }
}

TEST(Embedding, ReportsTheOffendingIdAndPosition) {
  ThreadPool pool(2);
  std::vector<float> table(20), out(8);
  for (int64_t bad : {int64_t(10), int64_t(-1)}) {
    std::vector<int64_t> ids = {1, 2, bad, 3};
    try {
      embedding(pool, DType::F32, table.data(), 10, 2, ids.data(), 4, DType::F32, out.data());
      FAIL() << "expected an error";
    } catch (const Error& e) {
      std::string message = e.what();
      EXPECT_NE(message.find("token id " + std::to_string(bad) + " at position 2"),
                std::string::npos)
          << message;
      EXPECT_NE(message.find("[0, 10)"), std::string::npos) << message;
    }
  }
}

TEST(GatherRows, CopiesTheIndexedRows) {
  ThreadPool pool(2);
  auto x = toBf16(randomFloats(5 * 8, 2));
  std::vector<int32_t> rows = {4, 4, 0, 2};
  std::vector<uint16_t> out(4 * 6, 0);
  gatherRows(pool, DType::BF16, x.data(), 8, rows.data(), 4, 5, out.data(), 6);
  for (size_t i = 0; i < rows.size(); ++i) {
    for (int64_t d = 0; d < 5; ++d)
      EXPECT_EQ(out[i * 6 + d], x[size_t(rows[i] * 8 + d)]);
    EXPECT_EQ(out[i * 6 + 5], 0);
  }
}

inline float widenOne(float v) {
  return v;
}
inline float widenOne(uint16_t v) {
  return bf16ToFloat(v);
}

// HF RMSNorm step by step; variance summed in double (the kernel uses torch's fp32 cascade).
template <class T>
std::vector<T> rmsNormReference(const std::vector<T>& x, const std::vector<T>& w, int64_t rows,
                                int64_t dim, float eps) {
  std::vector<T> out(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (int64_t i = 0; i < dim; ++i) {
      float v = widenOne(x[size_t(r * dim + i)]);
      sum += double(v * v);
    }
    float inverse = 1.0f / std::sqrt(float(sum) / float(dim) + eps);
    for (int64_t i = 0; i < dim; ++i) {
      float n = widenOne(x[size_t(r * dim + i)]) * inverse;
      if constexpr (std::is_same_v<T, uint16_t>)
        out[size_t(r * dim + i)] = floatToBf16(bf16ToFloat(w[size_t(i)]) * roundToBf16(n));
      else
        out[size_t(r * dim + i)] = w[size_t(i)] * n;
    }
  }
  return out;
}

TEST(RmsNorm, Bf16RoundsTheNormalizedRowThenTheProduct) {
  ThreadPool pool(3);
  const int64_t rows = 33, dim = 515;
  auto x = toBf16(randomFloats(size_t(rows * dim), 3, 3.0f));
  auto w = toBf16(randomFloats(size_t(dim), 4));
  std::vector<uint16_t> out(x.size());
  rmsNorm(pool, DType::BF16, x.data(), dim, DType::BF16, w.data(), 1e-6f, rows, dim, out.data(),
          dim);
  test::expectBf16MostlyExact(out, rmsNormReference(x, w, rows, dim, 1e-6f));
}

TEST(RmsNorm, MatchesTorchBitForBit) {
  // python: i = torch.arange(7168); x = (((i*i) % 1013).float() / 1013.0 - 0.5).bfloat16()
  //         w = (((i*7) % 17).float() / 8.0 - 1.0).bfloat16(); x32 = x.float()
  //         out = w * (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + 1e-6)).bfloat16()
  // (torch 2.15 CPU): first 8 bits and checksums of all 7168 bf16 bit patterns.
  ThreadPool pool(2);
  const int64_t dim = 7168;
  std::vector<uint16_t> x(dim), w(dim), out(dim);
  for (int64_t i = 0; i < dim; ++i) {
    x[size_t(i)] = floatToBf16(float((i * i) % 1013) / 1013.0f - 0.5f);
    w[size_t(i)] = floatToBf16(float((i * 7) % 17) / 8.0f - 1.0f);
  }
  rmsNorm(pool, DType::BF16, x.data(), dim, DType::BF16, w.data(), 1e-6f, 1, dim, out.data(), dim);
  const uint16_t first[8] = {0x3fdb, 0x3e5a, 0xbfa3, 0x3f56, 0xbf1f, 0x3fb6, 0x8000, 0xbfac};
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(out[size_t(i)], first[i]) << i;
  int64_t bitSum = 0, weighted = 0;
  for (int64_t i = 0; i < dim; ++i) {
    bitSum += out[size_t(i)];
    weighted += int64_t(out[size_t(i)]) * (i % 7 + 1);
  }
  EXPECT_EQ(bitSum, 225606957);
  EXPECT_EQ(weighted, 901212093);
}

TEST(RmsNorm, Fp32AndBf16WeightsInFp32Mode) {
  ThreadPool pool(2);
  const int64_t rows = 4, dim = 100;
  auto x = randomFloats(size_t(rows * dim), 5);
  auto w = randomFloats(size_t(dim), 6);
  auto wBf16 = toBf16(w);
  std::vector<float> out(x.size()), outBf16Weight(x.size());
  rmsNorm(pool, DType::F32, x.data(), dim, DType::F32, w.data(), 1e-5f, rows, dim, out.data(), dim);
  rmsNorm(pool, DType::F32, x.data(), dim, DType::BF16, wBf16.data(), 1e-5f, rows, dim,
          outBf16Weight.data(), dim);
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (int64_t i = 0; i < dim; ++i)
      sum += double(x[size_t(r * dim + i)]) * x[size_t(r * dim + i)];
    double inverse = 1.0 / std::sqrt(sum / dim + 1e-5);
    for (int64_t i = 0; i < dim; ++i) {
      size_t k = size_t(r * dim + i);
      EXPECT_NEAR(out[k], w[size_t(i)] * x[k] * inverse, 1e-6 * (1 + std::fabs(out[k])));
      EXPECT_NEAR(outBf16Weight[k], bf16ToFloat(wBf16[size_t(i)]) * x[k] * inverse,
                  1e-6 * (1 + std::fabs(out[k])));
    }
  }
  std::vector<uint16_t> xb(x.size());
  EXPECT_THROW(rmsNorm(pool, DType::BF16, xb.data(), dim, DType::F32, w.data(), 1e-5f, rows, dim,
                       xb.data(), dim),
               Error);
}

// addRmsNorm is add then rmsNorm, bit for bit: strided rows (a row's elements do not start at a
// multiple of 16), widths that leave a tail, fp32 and bf16, and a bf16 weight in fp32 mode.
template <class T>
void expectAddRmsNormIsAddThenNorm(DType type, DType weightType, int64_t rows, int64_t dim) {
  ThreadPool pool(3);
  const int64_t ld = dim + 3;
  auto fill = [&](unsigned seed, float scale) {
    std::vector<T> v(size_t(rows * ld));
    auto values = randomFloats(v.size(), seed, scale);
    for (size_t i = 0; i < v.size(); ++i)
      if constexpr (std::is_same_v<T, uint16_t>)
        v[i] = floatToBf16(values[i]);
      else
        v[i] = values[i];
    return v;
  };
  const std::vector<T> a = fill(21, 2.0f), b = fill(22, 0.5f);
  auto weights = randomFloats(size_t(dim), 23);
  std::vector<uint16_t> weightBf16 = toBf16(weights);
  const void* weight = weightType == DType::BF16 ? static_cast<const void*>(weightBf16.data())
                                                 : static_cast<const void*>(weights.data());
  std::vector<T> sum(a.size()), out(a.size()), wantSum(a.size()), wantOut(a.size());
  addRmsNorm(pool, type, a.data(), ld, b.data(), ld, weightType, weight, 1e-6f, rows, dim,
             sum.data(), ld, out.data(), ld);
  for (int64_t r = 0; r < rows; ++r)
    add(pool, type, a.data() + r * ld, b.data() + r * ld, wantSum.data() + r * ld, dim);
  rmsNorm(pool, type, wantSum.data(), ld, weightType, weight, 1e-6f, rows, dim, wantOut.data(), ld);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < dim; ++i) {
      size_t k = size_t(r * ld + i);
      ASSERT_EQ(std::memcmp(&sum[k], &wantSum[k], sizeof(T)), 0) << "sum " << r << "," << i;
      ASSERT_EQ(std::memcmp(&out[k], &wantOut[k], sizeof(T)), 0) << "out " << r << "," << i;
    }
}

TEST(AddRmsNorm, IsTheAddThenTheNormBitForBit) {
  expectAddRmsNormIsAddThenNorm<uint16_t>(DType::BF16, DType::BF16, 9, 517);
  expectAddRmsNormIsAddThenNorm<uint16_t>(DType::BF16, DType::BF16, 1, 7168);
  expectAddRmsNormIsAddThenNorm<float>(DType::F32, DType::F32, 5, 130);
  expectAddRmsNormIsAddThenNorm<float>(DType::F32, DType::BF16, 3, 64);
}

TEST(AddRmsNorm, RejectsAnFp32WeightForBf16Activations) {
  ThreadPool pool(1);
  std::vector<uint16_t> x(8), sum(8), out(8);
  std::vector<float> w(8);
  try {
    addRmsNorm(pool, DType::BF16, x.data(), 8, x.data(), 8, DType::F32, w.data(), 1e-6f, 1, 8,
               sum.data(), 8, out.data(), 8);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("addRmsNorm: weight has dtype F32"), std::string::npos)
        << e.what();
  }
}

TEST(Add, Bf16RoundsTheSumAndMayWriteInPlace) {
  ThreadPool pool(3);
  const int64_t n = 40000;
  auto a = toBf16(randomFloats(size_t(n), 7));
  auto b = toBf16(randomFloats(size_t(n), 8, 0.01f));
  std::vector<uint16_t> want(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    want[size_t(i)] = floatToBf16(bf16ToFloat(a[size_t(i)]) + bf16ToFloat(b[size_t(i)]));
  add(pool, DType::BF16, a.data(), b.data(), a.data(), n);
  test::expectBitsEqual(a, want);

  auto af = randomFloats(100, 9), bf = randomFloats(100, 10);
  std::vector<float> sum(100);
  add(pool, DType::F32, af.data(), bf.data(), sum.data(), 100);
  for (size_t i = 0; i < 100; ++i)
    EXPECT_EQ(sum[i], af[i] + bf[i]);
}

TEST(SiluMul, Bf16RoundsTheActivationThenTheProduct) {
  ThreadPool pool(2);
  const int64_t rows = 5, width = 37;
  // A fused gate_up output [rows, 2 * width]: gate first, then up.
  auto gateUp = toBf16(randomFloats(size_t(rows * 2 * width), 11, 3.0f));
  std::vector<uint16_t> out(size_t(rows * width));
  siluMul(pool, DType::BF16, gateUp.data(), 2 * width, gateUp.data() + width, 2 * width, rows,
          width, out.data(), width);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < width; ++i) {
      float g = bf16ToFloat(gateUp[size_t(r * 2 * width + i)]);
      float u = bf16ToFloat(gateUp[size_t(r * 2 * width + width + i)]);
      float activated = roundToBf16(g / (1.0f + std::exp(-g)));
      ASSERT_EQ(out[size_t(r * width + i)], floatToBf16(activated * u)) << r << "," << i;
    }
}

TEST(SiluMul, Fp32MatchesDoubleReference) {
  ThreadPool pool(2);
  auto gate = randomFloats(300, 12, 4.0f), up = randomFloats(300, 13);
  std::vector<float> out(300);
  siluMul(pool, DType::F32, gate.data(), 100, up.data(), 100, 3, 100, out.data(), 100);
  for (size_t i = 0; i < 300; ++i) {
    double g = gate[i];
    EXPECT_NEAR(out[i], g / (1 + std::exp(-g)) * up[i], 1e-6 * (1 + std::fabs(out[i])));
  }
}

TEST(Softmax, MatchesDoubleReferenceAndHandlesMinusInfinity) {
  ThreadPool pool(2);
  auto x = randomFloats(3 * 50, 14, 5.0f);
  x[7] = -INFINITY;
  std::vector<float> y = x;
  softmaxRows(pool, y.data(), 3, 50, 50);
  for (int r = 0; r < 3; ++r) {
    double max = -INFINITY, sum = 0;
    for (int i = 0; i < 50; ++i)
      max = std::max(max, double(x[size_t(r * 50 + i)]));
    for (int i = 0; i < 50; ++i)
      sum += std::exp(double(x[size_t(r * 50 + i)]) - max);
    for (int i = 0; i < 50; ++i)
      EXPECT_NEAR(y[size_t(r * 50 + i)], std::exp(double(x[size_t(r * 50 + i)]) - max) / sum, 1e-7);
  }
  EXPECT_EQ(y[7], 0.0f);
}

} // namespace
} // namespace fathom::cpu
