// Every CUDA kernel against the CPU kernel on the same random operands (label gpu): each case is
// one KernelCall run through the Backend interface on both backends, every buffer compared
// afterwards. Without a usable GPU each test skips and says why.
#include "CrossBackendFixture.h"
#include "Registry.h"
#include "fathom/runtime/Error.h"
#include "fathom/runtime/Numeric.h"

namespace fathom::testing {
namespace {

TEST_F(CrossBackend, AddAndSiluMulInBothTypesOverStridedRows) {
  for (DType type : {DType::F32, DType::BF16})
    for (int64_t stride : {300, 320}) {
      HarnessCase add{"add " + std::string(dtypeName(type)) + " stride " + std::to_string(stride)};
      for (int i = 0; i < 3; ++i)
        add.buffers.push_back(randomBuffer(rng_, type, 2, 7, 300, 1.0f, stride));
      fb::AddCallT call;
      call.a = view(0, stride, 300);
      call.b = view(1, stride, 300);
      call.out = view(2, stride, 300);
      add.call.params.Set(std::move(call));
      expectSame(add, kExact);

      HarnessCase silu{"silu_mul " + std::string(dtypeName(type))};
      for (int i = 0; i < 3; ++i)
        silu.buffers.push_back(randomBuffer(rng_, type, 1, 5, 1408, 3.0f));
      fb::SiluMulCallT gated;
      gated.gate = view(0, 1408, 1408);
      gated.up = view(1, 1408, 1408);
      gated.out = view(2, 1408, 1408);
      silu.call.params.Set(std::move(gated));
      // expf may differ from glibc's by an ulp; in bf16 that can flip one rounding.
      expectSame(silu, type == DType::F32 ? Tolerance{1e-6, 1e-7} : kBf16Ulp);
    }
}

TEST_F(CrossBackend, CopyPacksStridedHeads) {
  HarnessCase kase{"copy"};
  kase.buffers.push_back(randomBuffer(rng_, DType::BF16, 1, 6, 128)); // 4 heads of 32, use 24
  kase.buffers.push_back(randomBuffer(rng_, DType::BF16, 1, 6, 96));
  fb::CopyCallT call;
  call.x = view(0, 128, 24, 4, 32);
  call.out = view(1, 96, 96);
  kase.call.params.Set(std::move(call));
  expectSame(kase, kExact);
}

TEST_F(CrossBackend, RmsNormAndTheFusedResidualAdd) {
  for (DType type : {DType::F32, DType::BF16})
    for (int64_t width : {64, 2048, 7168})
      for (int64_t rows : {1, 9}) {
        const std::string label =
            std::string(dtypeName(type)) + " " + std::to_string(rows) + "x" + std::to_string(width);
        HarnessCase norm{"rms_norm " + label};
        norm.buffers.push_back(randomBuffer(rng_, type, 1, rows, width, 2.0f));
        norm.buffers.push_back(randomBuffer(rng_, type, 1, rows, width));
        norm.weights.push_back(randomWeight(rng_, "norm", type, {width}, 0.5f));
        fb::RmsNormCallT call;
        call.x = view(0, uint64_t(width), uint32_t(width));
        call.out = view(1, uint64_t(width), uint32_t(width));
        call.weight = 0;
        call.epsilon = 1e-6f;
        norm.call.params.Set(std::move(call));
        expectSame(norm, type == DType::F32 ? Tolerance{1e-5, 1e-6} : kBf16Ulp);

        HarnessCase fused{"add_rms_norm " + label};
        for (int i = 0; i < 4; ++i)
          fused.buffers.push_back(randomBuffer(rng_, type, 1, rows, width));
        fused.weights.push_back(randomWeight(rng_, "norm", type, {width}, 0.5f));
        fb::AddRmsNormCallT add;
        add.a = view(0, uint64_t(width), uint32_t(width));
        add.b = view(1, uint64_t(width), uint32_t(width));
        add.sum = view(2, uint64_t(width), uint32_t(width));
        add.out = view(3, uint64_t(width), uint32_t(width));
        add.weight = 0;
        add.epsilon = 1e-6f;
        fused.call.params.Set(std::move(add));
        expectSame(fused, type == DType::F32 ? Tolerance{1e-5, 1e-6} : kBf16Ulp);
      }
}

TEST_F(CrossBackend, EmbeddingSelectRowsAndLastTokenRows) {
  HarnessCase lookup{"embedding"};
  lookup.buffers.push_back(randomBuffer(rng_, DType::I64, 1, 13, 1, 1000.0f));
  lookup.buffers.push_back(randomBuffer(rng_, DType::BF16, 1, 13, 256));
  lookup.weights.push_back(randomWeight(rng_, "table", DType::BF16, {1000, 256}));
  fb::EmbeddingCallT embed;
  embed.ids = view(0, 1, 1);
  embed.out = view(1, 256, 256);
  embed.table = 0;
  lookup.call.params.Set(std::move(embed));
  expectSame(lookup, kExact);

  HarnessCase select{"select_rows"};
  select.buffers.push_back(randomBuffer(rng_, DType::F32, 2, 5, 64));
  select.buffers.push_back(indexBuffer({9, 0, 3}, 1));
  select.buffers.push_back(randomBuffer(rng_, DType::F32, 1, 3, 64));
  fb::SelectRowsCallT rows;
  rows.x = view(0, 64, 64);
  rows.rows = view(1, 1, 1);
  rows.out = view(2, 64, 64);
  select.call.params.Set(std::move(rows));
  expectSame(select, kExact);

  HarnessCase last{"last_token_rows"};
  last.buffers.push_back(indexBuffer({5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 2));
  last.buffers.push_back(indexBuffer({-1, -1}, 1));
  fb::LastTokenRowsCallT pool;
  pool.ids = view(0, 1, 1);
  pool.out = view(1, 1, 1);
  pool.pad_id = 0;
  last.call.params.Set(std::move(pool));
  expectSame(last, kExact);
}

// An id outside the vocabulary: the CPU refuses it at once, CUDA at the next synchronize; both
// say what they met.
TEST_F(CrossBackend, AnIdOutsideTheVocabularyIsAnErrorOnBoth) {
  HarnessCase lookup{"embedding out of range"};
  lookup.buffers.push_back(indexBuffer({3, 1000}, 1));
  lookup.buffers.push_back(randomBuffer(rng_, DType::F32, 1, 2, 16));
  lookup.weights.push_back(randomWeight(rng_, "table", DType::F32, {1000, 16}));
  fb::EmbeddingCallT embed;
  embed.ids = view(0, 1, 1);
  embed.out = view(1, 16, 16);
  embed.table = 0;
  lookup.call.params.Set(std::move(embed));
  EXPECT_THROW(runCase(*cpu_, lookup), Error);
  try {
    runCase(*cuda_, lookup);
    ADD_FAILURE() << "the " << cuda_->name() << " embedding accepted id 1000 of a 1000-row table";
  } catch (const Error& error) {
    if (cuda_->name() == "cuda") { // the device error word's message
      EXPECT_NE(std::string(error.what()).find("token id outside the vocabulary"),
                std::string::npos)
          << error.what();
    }
  }
}

HarnessCase linearCase(std::mt19937& rng, const std::string& label, DType type, int64_t rows,
                       HarnessWeight weight, bool bias) {
  const int64_t out = weight.shape[0], in = weight.shape[1];
  HarnessCase kase{label};
  kase.buffers.push_back(randomBuffer(rng, type, 1, rows, in));
  kase.buffers.push_back(randomBuffer(rng, type, 1, rows, out));
  kase.weights.push_back(std::move(weight));
  fb::LinearCallT call;
  call.x = view(0, uint64_t(in), uint32_t(in));
  call.out = view(1, uint64_t(out), uint32_t(out));
  call.weight = 0;
  if (bias) {
    kase.weights.push_back(randomWeight(rng, "bias", type, {out}));
    call.bias = 1;
  }
  kase.call.params.Set(std::move(call));
  return kase;
}

TEST_F(CrossBackend, LinearDenseAndFp8) {
  for (DType type : {DType::F32, DType::BF16})
    for (int64_t rows : {1, 17, 70}) {
      const std::string label = std::string(dtypeName(type)) + " rows " + std::to_string(rows);
      // Products of N(0, 1) x N(0, 0.05) over 256 inputs: sums near 1; fp32 to 1e-5.
      const Tolerance tolerance = type == DType::F32 ? Tolerance{1e-5, 1e-5} : kBf16Ulp;
      expectSame(linearCase(rng_, "linear " + label, type, rows,
                            randomWeight(rng_, "w", type, {96, 256}, 0.05f), false),
                 tolerance);
      expectSame(linearCase(rng_, "linear+bias " + label, type, rows,
                            randomWeight(rng_, "w", type, {96, 256}, 0.05f), true),
                 tolerance);
      // FP8 in 128x128 blocks, the edge blocks partial (200 x 300).
      expectSame(linearCase(rng_, "linear fp8 " + label, type, rows,
                            randomFp8Weight(rng_, "w8", 200, 300), false),
                 tolerance);
    }
}

// linear_fp8 (sm_90a artifacts) has no CPU kernel: the CUDA result is held to DeepSeek's W8A8
// block recipe computed here, per row per 128-column block.
// linear_fp8 against DeepSeek's recipe computed here. With a bias the reference kernel runs
// (fp32 products, summed as here but for the order); without, on Hopper, cuBLASLt's block-scaled
// FP8 GEMM, whose tensor cores accumulate each 128-wide block in less than fp32: a looser bound.
// 256 inputs give two scale blocks per row, padded for cuBLASLt; 512 give four, DeepSeek's own.
TEST_F(CrossBackend, LinearFp8FollowsDeepSeeksBlockRecipe) {
  if (cuda_->name() != "cuda")
    GTEST_SKIP() << "linear_fp8 runs only where FP8 math is (the CPU refuses it)";
  for (DType type : {DType::F32, DType::BF16})
    for (bool bias : {true, false})
      for (int64_t in : {int64_t(256), int64_t(512)})
        for (int64_t rows : {1, 13}) {
          const int64_t out = 160, blocks = in / 128;
          HarnessCase kase = linearCase(rng_,
                                        "linear_fp8 " + std::string(dtypeName(type)) + " in " +
                                            std::to_string(in) + (bias ? " with bias" : ""),
                                        type, rows, randomFp8Weight(rng_, "w8", out, in), bias);
          kase.call.params.AsLinearCall()->fp8_activations = true;
          SCOPED_TRACE(kase.label);
          const auto result = runCase(*cuda_, kase);
          const HarnessWeight& w = kase.weights[0];
          for (int64_t r = 0; r < rows; ++r) {
            std::vector<float> xScale(static_cast<size_t>(blocks));
            std::vector<uint8_t> codes(static_cast<size_t>(in));
            for (int64_t kb = 0; kb < blocks; ++kb) {
              float amax = 0.0f;
              for (int64_t k = kb * 128; k < (kb + 1) * 128; ++k)
                amax = std::max(amax, float(std::fabs(elementAt(kase.buffers[0].host, type,
                                                                size_t(r * in + k)))));
              xScale[size_t(kb)] = amax > 0.0f ? amax / 448.0f : 1.0f;
              for (int64_t k = kb * 128; k < (kb + 1) * 128; ++k)
                codes[size_t(k)] =
                    floatToF8e4m3(float(elementAt(kase.buffers[0].host, type, size_t(r * in + k))) /
                                  xScale[size_t(kb)]);
            }
            for (int64_t o = 0; o < out; ++o) {
              double acc = 0, magnitude = 0;
              for (int64_t kb = 0; kb < blocks; ++kb) {
                double partial = 0, size = 0;
                for (int64_t k = kb * 128; k < (kb + 1) * 128; ++k) {
                  const double product = double(f8e4m3ToFloat(codes[size_t(k)])) *
                                         f8e4m3ToFloat(uint8_t(w.data[size_t(o * in + k)]));
                  partial += product;
                  size += std::fabs(product);
                }
                const double scale =
                    double(xScale[size_t(kb)]) * w.scales[size_t((o / 128) * blocks + kb)];
                acc += partial * scale;
                magnitude += size * scale;
              }
              if (bias)
                acc += elementAt(kase.weights[1].data, type, size_t(o));
              const double got = elementAt(result[1], type, size_t(r * out + o));
              // bf16: one rounding of the output; tensor cores: 2^-13 of the products' size.
              const double bound = 1e-5 + (type == DType::BF16 ? std::fabs(acc) / 128 : 1e-5) +
                                   (bias ? 0.0 : magnitude / 8192);
              EXPECT_NEAR(got, acc, bound) << "row " << r << " output " << o;
            }
          }
        }
}

// The harness itself, where no GPU is needed: a call run on the CPU backend writes what the
// host computes (views, weights and the planning pass all go through the interface).
TEST(CrossBackendHarness, RunsACallThroughTheCpuBackend) {
  std::mt19937 rng(5);
  HarnessCase kase = linearCase(rng, "linear on the cpu", DType::F32, 3,
                                randomWeight(rng, "w", DType::F32, {4, 8}), true);
  const auto cpu = backend::createBackend("cpu", {});
  const auto result = runCase(*cpu, kase);
  for (int64_t r = 0; r < 3; ++r)
    for (int64_t o = 0; o < 4; ++o) {
      double sum = elementAt(kase.weights[1].data, DType::F32, size_t(o));
      for (int64_t k = 0; k < 8; ++k)
        sum += elementAt(kase.buffers[0].host, DType::F32, size_t(r * 8 + k)) *
               elementAt(kase.weights[0].data, DType::F32, size_t(o * 8 + k));
      EXPECT_NEAR(elementAt(result[1], DType::F32, size_t(r * 4 + o)), sum, 1e-5);
    }
  EXPECT_EQ(result[0], kase.buffers[0].host); // the input is left as it was
}

} // namespace
} // namespace fathom::testing
