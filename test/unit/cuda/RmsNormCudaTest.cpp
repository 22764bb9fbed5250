// Runs the CUDA RMSNorm on a GPU and checks it bit for bit against HF's bf16 arithmetic done on
// the host. Without a GPU every test skips and says why.
#include "fathom/cuda/Kernels.h"
#include "fathom/runtime/Numeric.h"

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace fathom {
namespace {

class CudaTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string reason;
    if (!cuda::deviceAvailable(reason))
      GTEST_SKIP() << "no usable CUDA GPU here, so the kernel cannot run: " << reason;
  }
};

std::vector<uint16_t> randomBf16(size_t count, std::mt19937& rng, float scale) {
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<uint16_t> values(count);
  for (uint16_t& value : values)
    value = floatToBf16(normal(rng));
  return values;
}

std::vector<uint16_t> hostRmsNorm(const std::vector<uint16_t>& x, const std::vector<uint16_t>& w,
                                  int64_t rows, int64_t cols, float eps) {
  std::vector<uint16_t> out(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (int64_t c = 0; c < cols; ++c) {
      float v = bf16ToFloat(x[r * cols + c]);
      sum += double(v) * v;
    }
    float inverse = 1.0f / std::sqrt(float(sum / double(cols)) + eps);
    for (int64_t c = 0; c < cols; ++c) {
      float normalized = roundToBf16(bf16ToFloat(x[r * cols + c]) * inverse);
      out[r * cols + c] = floatToBf16(bf16ToFloat(w[c]) * normalized);
    }
  }
  return out;
}

TEST_F(CudaTest, RmsNormBf16MatchesHfRounding) {
  std::mt19937 rng(7);
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1, 64}, {17, 7168}, {5, 513}}) {
    std::vector<uint16_t> x = randomBf16(size_t(rows * cols), rng, 2.0f);
    std::vector<uint16_t> w = randomBf16(size_t(cols), rng, 1.0f);
    uint16_t *dx, *dw, *dout;
    ASSERT_EQ(cudaMalloc(&dx, x.size() * 2), cudaSuccess);
    ASSERT_EQ(cudaMalloc(&dw, w.size() * 2), cudaSuccess);
    ASSERT_EQ(cudaMalloc(&dout, x.size() * 2), cudaSuccess);
    cudaMemcpy(dx, x.data(), x.size() * 2, cudaMemcpyHostToDevice);
    cudaMemcpy(dw, w.data(), w.size() * 2, cudaMemcpyHostToDevice);
    ASSERT_EQ(cuda::rmsNormBf16(dx, dw, dout, rows, cols, 1e-6f, nullptr), cudaSuccess);
    std::vector<uint16_t> out(x.size());
    ASSERT_EQ(cudaMemcpy(out.data(), dout, out.size() * 2, cudaMemcpyDeviceToHost), cudaSuccess);
    cudaFree(dx);
    cudaFree(dw);
    cudaFree(dout);
    std::vector<uint16_t> expected = hostRmsNorm(x, w, rows, cols, 1e-6f);
    // The block reduction sums in a different order than the host, which can move the inverse
    // RMS by an ulp of fp32 and flip a rounding: allow 1 bf16 ulp, require exact on 99%.
    size_t exact = 0;
    for (size_t i = 0; i < out.size(); ++i) {
      EXPECT_LE(std::abs(int(out[i]) - int(expected[i])), 1) << "element " << i;
      exact += out[i] == expected[i];
    }
    EXPECT_GE(double(exact), 0.99 * double(out.size())) << rows << "x" << cols;
  }
}

} // namespace
} // namespace fathom
