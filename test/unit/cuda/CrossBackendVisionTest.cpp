// The vision-language kernels, CUDA against the CPU (label gpu): layer_norm, the three GELU
// forms, patchify and masked_scatter (the image embeddings placed at the image tokens), in both
// activation types; and image tokens that do not match the rows given are an error on both.
#include "CrossBackendFixture.h"

namespace fathom::testing {
namespace {

TEST_F(CrossBackend, LayerNormWithF32AndBf16Parameters) {
  struct Types {
    DType activations, parameters;
  };
  for (Types types : {Types{DType::F32, DType::F32}, Types{DType::F32, DType::BF16},
                      Types{DType::BF16, DType::BF16}})
    for (int64_t width : {64, 1152})
      for (int64_t rows : {1, 9}) {
        HarnessCase kase{"layer_norm " + std::string(dtypeName(types.activations)) + "/" +
                         std::string(dtypeName(types.parameters)) + " " + std::to_string(rows) +
                         "x" + std::to_string(width)};
        kase.buffers.push_back(randomBuffer(rng_, types.activations, 1, rows, width, 2.0f));
        kase.buffers.push_back(randomBuffer(rng_, types.activations, 1, rows, width));
        kase.weights.push_back(randomWeight(rng_, "weight", types.parameters, {width}, 0.5f));
        kase.weights.push_back(randomWeight(rng_, "bias", types.parameters, {width}, 0.5f));
        fb::LayerNormCallT call;
        call.x = view(0, uint64_t(width), uint32_t(width));
        call.out = view(1, uint64_t(width), uint32_t(width));
        call.weight = 0;
        call.bias = 1;
        call.epsilon = 1e-6f;
        kase.call.params.Set(std::move(call));
        // The mean and variance are sums in another order than torch's cascade.
        expectSame(kase, types.activations == DType::F32 ? Tolerance{1e-5, 1e-6} : kBf16Ulp);
      }
}

TEST_F(CrossBackend, GeluInItsThreeForms) {
  for (DType type : {DType::F32, DType::BF16})
    for (fb::GeluApproximation form : {fb::GeluApproximation::Erf, fb::GeluApproximation::Tanh,
                                       fb::GeluApproximation::TanhUnfused}) {
      HarnessCase kase{"gelu " + std::string(fb::EnumNameGeluApproximation(form)) + " " +
                       std::string(dtypeName(type))};
      kase.buffers.push_back(randomBuffer(rng_, type, 1, 7, 1152, 3.0f));
      kase.buffers.push_back(randomBuffer(rng_, type, 1, 7, 1152));
      fb::GeluCallT call;
      call.x = view(0, 1152, 1152);
      call.out = view(1, 1152, 1152);
      call.approximation = form;
      kase.call.params.Set(std::move(call));
      // erff / tanhf may differ from glibc's by an ulp; in bf16 that can flip a rounding, and
      // gelu_new rounds five times.
      expectSame(kase, type == DType::F32 ? Tolerance{1e-6, 1e-7} : Tolerance{2.0 / 128, 1e-6});
    }
}

TEST_F(CrossBackend, PatchifyCutsImagesIntoConvOrderedPatches) {
  for (DType type : {DType::F32, DType::BF16}) {
    HarnessCase kase{"patchify " + std::string(dtypeName(type))};
    kase.buffers.push_back(randomBuffer(rng_, DType::F32, 1, 2, 3 * 32 * 48));
    kase.buffers.push_back(randomBuffer(rng_, type, 1, 2 * 6, 3 * 16 * 16));
    fb::PatchifyCallT call;
    call.images = view(0, 3 * 32 * 48, 3 * 32 * 48);
    call.out = view(1, 3 * 16 * 16, 3 * 16 * 16);
    call.channels = 3;
    call.height = 32;
    call.width = 48;
    call.patch = 16;
    kase.call.params.Set(std::move(call));
    expectSame(kase, kExact);
  }
}

HarnessCase scatterCase(std::mt19937& rng, DType type, int64_t sourceRows) {
  HarnessCase kase{"masked_scatter " + std::string(dtypeName(type)) + " from " +
                   std::to_string(sourceRows) + " rows"};
  kase.buffers.push_back(randomBuffer(rng, type, 2, 6, 64));
  kase.buffers.push_back(indexBuffer({1, 7, 7, 4, 5, 6, 7, 9, 9, 9, 9, 2}, 2)); // three 7s
  kase.buffers.push_back(randomBuffer(rng, DType::F32, 1, sourceRows, 64));
  kase.buffers.push_back(randomBuffer(rng, type, 2, 6, 64));
  fb::MaskedScatterCallT call;
  call.x = view(0, 64, 64);
  call.ids = view(1, 1, 1);
  call.source = view(2, 64, 64);
  call.out = view(3, 64, 64);
  call.token_id = 7;
  kase.call.params.Set(std::move(call));
  return kase;
}

TEST_F(CrossBackend, MaskedScatterPlacesSourceRowsAtTheTokens) {
  for (DType type : {DType::F32, DType::BF16}) {
    expectSame(scatterCase(rng_, type, 3), kExact);
    expectSame(scatterCase(rng_, type, 0), kExact); // no image rows: out = x
  }
}

TEST_F(CrossBackend, ImageTokensThatDoNotMatchTheRowsAreAnErrorOnBoth) {
  const HarnessCase kase = scatterCase(rng_, DType::F32, 2);
  EXPECT_THROW(runCase(*cpu_, kase), Error);
  try {
    runCase(*cuda_, kase);
    ADD_FAILURE() << "the " << cuda_->name() << " masked_scatter took 2 rows for 3 image tokens";
  } catch (const Error& error) {
    if (cuda_->name() == "cuda") { // the device error word's message
      EXPECT_NE(std::string(error.what()).find("image tokens"), std::string::npos) << error.what();
    }
  }
}

} // namespace
} // namespace fathom::testing
