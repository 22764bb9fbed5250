// LayerNorm, exact GELU and patchify against references computed independently in double
// precision (one rounding to the activation type at the end, as torch's CPU kernels round).
#include "fathom/cpu/Vision.h"
#include "TestUtil.h"
#include "fathom/runtime/Error.h"
#include "fathom/runtime/Numeric.h"

#include <gtest/gtest.h>

#include <cmath>

namespace fathom::cpu {
namespace {

using test::randomFloats;
using test::toBf16;

std::vector<double> layerNormReference(const std::vector<float>& x, const std::vector<float>& w,
                                       const std::vector<float>& b, double eps, int64_t rows,
                                       int64_t dim) {
  std::vector<double> out(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0, variance = 0;
    for (int64_t i = 0; i < dim; ++i)
      mean += x[size_t(r * dim + i)];
    mean /= double(dim);
    for (int64_t i = 0; i < dim; ++i)
      variance += std::pow(x[size_t(r * dim + i)] - mean, 2);
    variance /= double(dim);
    for (int64_t i = 0; i < dim; ++i)
      out[size_t(r * dim + i)] =
          (x[size_t(r * dim + i)] - mean) / std::sqrt(variance + eps) * w[size_t(i)] + b[size_t(i)];
  }
  return out;
}

TEST(LayerNorm, MatchesTheDoubleReferenceInFp32) {
  ThreadPool pool(2);
  const int64_t rows = 7, dim = 48, ld = 56;
  std::vector<float> x = randomFloats(size_t(rows * ld), 3, 4.0f);
  for (float& v : x)
    v += 3.0f; // a mean far from zero, as residual streams have
  std::vector<float> w = randomFloats(size_t(dim), 4), b = randomFloats(size_t(dim), 5);
  std::vector<float> packed(size_t(rows * dim));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < dim; ++i)
      packed[size_t(r * dim + i)] = x[size_t(r * ld + i)];
  std::vector<float> out(size_t(rows * dim));
  layerNorm(pool, DType::F32, x.data(), ld, DType::F32, w.data(), b.data(), 1e-6f, rows, dim,
            out.data(), dim);
  std::vector<double> expected = layerNormReference(packed, w, b, 1e-6, rows, dim);
  for (size_t i = 0; i < out.size(); ++i)
    EXPECT_NEAR(out[i], expected[i], 2e-6 * (1 + std::fabs(expected[i]))) << i;
}

TEST(LayerNorm, RoundsOnceInBf16) {
  ThreadPool pool(2);
  const int64_t rows = 5, dim = 40;
  std::vector<uint16_t> x = toBf16(randomFloats(size_t(rows * dim), 6, 3.0f));
  std::vector<uint16_t> w = toBf16(randomFloats(size_t(dim), 7)),
                        b = toBf16(randomFloats(size_t(dim), 8));
  std::vector<float> xf(x.size()), wf(w.size()), bf(b.size());
  for (size_t i = 0; i < x.size(); ++i)
    xf[i] = bf16ToFloat(x[i]);
  for (size_t i = 0; i < w.size(); ++i)
    wf[i] = bf16ToFloat(w[i]), bf[i] = bf16ToFloat(b[i]);
  std::vector<uint16_t> out(x.size());
  layerNorm(pool, DType::BF16, x.data(), dim, DType::BF16, w.data(), b.data(), 1e-6f, rows, dim,
            out.data(), dim);
  std::vector<double> expected = layerNormReference(xf, wf, bf, 1e-6, rows, dim);
  int differing = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    // One rounding: at most one bf16 step from the exact value, and usually on it.
    float exact = float(expected[i]);
    EXPECT_NEAR(bf16ToFloat(out[i]), exact, std::fabs(exact) * (1.0 / 128) + 1e-6) << i;
    differing += out[i] != floatToBf16(exact);
  }
  EXPECT_LE(differing, int(out.size()) / 50);
}

TEST(LayerNorm, RefusesFp32ParametersForBf16Activations) {
  ThreadPool pool(1);
  std::vector<uint16_t> x(4), out(4);
  std::vector<float> w(4), b(4);
  EXPECT_THROW(layerNorm(pool, DType::BF16, x.data(), 4, DType::F32, w.data(), b.data(), 1e-6f, 1,
                         4, out.data(), 4),
               Error);
}

TEST(Gelu, IsTheExactErfForm) {
  ThreadPool pool(2);
  std::vector<float> x = randomFloats(40000, 9, 6.0f);
  x[0] = 0.0f, x[1] = -10.0f, x[2] = 10.0f;
  std::vector<float> out(x.size());
  gelu(pool, DType::F32, x.data(), out.data(), int64_t(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    double v = x[i], exact = v * 0.5 * (1 + std::erf(v / std::sqrt(2.0)));
    EXPECT_NEAR(out[i], exact, 4e-7 * (1 + std::fabs(exact))) << x[i];
  }
  std::vector<uint16_t> xb = toBf16(x), ob(x.size());
  gelu(pool, DType::BF16, xb.data(), ob.data(), int64_t(x.size()));
  for (size_t i = 0; i < x.size(); i += 97) {
    float v = bf16ToFloat(xb[i]);
    float exact = float(double(v) * 0.5 * (1 + std::erf(double(v) / std::sqrt(2.0))));
    EXPECT_NEAR(bf16ToFloat(ob[i]), exact, std::fabs(exact) / 128 + 1e-7) << v;
  }
}

TEST(Gelu, TanhIsTorchsApproximateTanhInFp32) {
  ThreadPool pool(2);
  std::vector<float> x = randomFloats(40000, 12, 6.0f);
  x[0] = 0.0f, x[1] = -10.0f, x[2] = 10.0f;
  std::vector<float> fused(x.size()), unfused(x.size());
  gelu(pool, DType::F32, x.data(), fused.data(), int64_t(x.size()), GeluApproximation::Tanh);
  gelu(pool, DType::F32, x.data(), unfused.data(), int64_t(x.size()),
       GeluApproximation::TanhUnfused);
  for (size_t i = 0; i < x.size(); ++i) {
    double v = x[i];
    double tanhForm = 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
    EXPECT_NEAR(fused[i], tanhForm, 1e-6 * (1 + std::fabs(tanhForm))) << x[i];
    EXPECT_NEAR(unfused[i], tanhForm, 1e-6 * (1 + std::fabs(tanhForm))) << x[i];
  }
  // Not the erf form: the approximation is off by up to ~5e-4 near |x| = 2.
  std::vector<float> exact(x.size());
  gelu(pool, DType::F32, x.data(), exact.data(), int64_t(x.size()));
  float largest = 0;
  for (size_t i = 0; i < x.size(); ++i)
    largest = std::max(largest, std::fabs(exact[i] - fused[i]));
  EXPECT_GT(largest, 1e-4f);
}

// bf16 inputs where gelu_new (HF's NewGELUActivation, every op rounded to bf16) and
// gelu(approximate="tanh") (one rounding) differ; the bits are what torch 2.15 gives.
TEST(Gelu, TanhUnfusedRoundsEveryStepLikeHfsGeluNew) {
  ThreadPool pool(1);
  const std::vector<uint16_t> x = {0xc092, 0xc010, 0xbffb, 0xc09b, 0xbe9a, 0xbfea, 0xc03c, 0xc09a};
  const std::vector<uint16_t> geluNew = {0x8000, 0xbcd8, 0xbd4c, 0x8000,
                                         0xbdec, 0xbd79, 0xbbbc, 0x8000};
  const std::vector<uint16_t> geluTanh = {0xb66d, 0xbcdf, 0xbd48, 0xb51b,
                                          0xbdeb, 0xbd7d, 0xbb91, 0xb540};
  std::vector<uint16_t> unfused(x.size()), fused(x.size());
  gelu(pool, DType::BF16, x.data(), unfused.data(), int64_t(x.size()),
       GeluApproximation::TanhUnfused);
  gelu(pool, DType::BF16, x.data(), fused.data(), int64_t(x.size()), GeluApproximation::Tanh);
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(unfused[i], geluNew[i]) << "x = " << bf16ToFloat(x[i]);
    EXPECT_EQ(fused[i], geluTanh[i]) << "x = " << bf16ToFloat(x[i]);
  }
}

// Patches through a linear equal the strided convolution Conv2d(stride = patch) computes.
TEST(Patchify, OrdersPatchesAndValuesLikeAStridedConvolution) {
  ThreadPool pool(2);
  const int64_t images = 2, channels = 3, height = 12, width = 8, patch = 4, out = 5;
  std::vector<float> pixels = randomFloats(size_t(images * channels * height * width), 10);
  std::vector<float> kernel = randomFloats(size_t(out * channels * patch * patch), 11);
  const int64_t across = width / patch, patches = across * (height / patch);
  const int64_t values = channels * patch * patch;
  std::vector<float> cut(size_t(images * patches * values));
  patchify(pool, pixels.data(), images, channels, height, width, patch, DType::F32, cut.data());
  for (int64_t n = 0; n < images; ++n)
    for (int64_t py = 0; py < height / patch; ++py)
      for (int64_t px = 0; px < across; ++px)
        for (int64_t o = 0; o < out; ++o) {
          double conv = 0, viaPatches = 0;
          for (int64_t c = 0; c < channels; ++c)
            for (int64_t ky = 0; ky < patch; ++ky)
              for (int64_t kx = 0; kx < patch; ++kx)
                conv += double(kernel[size_t(((o * channels + c) * patch + ky) * patch + kx)]) *
                        pixels[size_t(((n * channels + c) * height + py * patch + ky) * width +
                                      px * patch + kx)];
          const float* row = cut.data() + (n * patches + py * across + px) * values;
          for (int64_t k = 0; k < values; ++k)
            viaPatches += double(kernel[size_t(o * values + k)]) * row[k];
          EXPECT_DOUBLE_EQ(viaPatches, conv) << n << " " << py << " " << px << " " << o;
        }
  std::vector<uint16_t> rounded(cut.size());
  patchify(pool, pixels.data(), images, channels, height, width, patch, DType::BF16,
           rounded.data());
  for (size_t i = 0; i < cut.size(); ++i)
    EXPECT_EQ(rounded[i], floatToBf16(cut[i]));
}

TEST(Patchify, RefusesImagesThatDoNotSplit) {
  ThreadPool pool(1);
  std::vector<float> pixels(3 * 10 * 8), out(3 * 10 * 8);
  try {
    patchify(pool, pixels.data(), 1, 3, 10, 8, 4, DType::F32, out.data());
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "patchify: a 10x8 image does not split into patches of 4");
  }
}

} // namespace
} // namespace fathom::cpu
