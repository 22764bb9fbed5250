// FP8 block dequantization against values worked out by hand from the e4m3 bit layout
// (sign, 4 exponent bits with bias 7, 3 mantissa bits) and the block rule
// W[i, j] = W8[i, j] * S[i / 128, j / 128].
#include "TestCheckpoint.h"

#include "fathom/frontend/Fp8Dequant.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

namespace {
using namespace fathom;
using namespace fathom::frontend;
namespace ft = fathom::frontend::testing;
using ::testing::HasSubstr;

struct Fp8Fixture {
  std::vector<int64_t> weightShape;
  std::vector<uint8_t> codes;
  std::vector<int64_t> scaleShape;
  std::vector<float> scales;

  TensorView weight() const {
    return {"w.weight", DType::F8E4M3, weightShape,
            reinterpret_cast<const std::byte*>(codes.data()), codes.size()};
  }
  TensorView scale() const {
    return {"w.weight_scale_inv", DType::F32, scaleShape,
            reinterpret_cast<const std::byte*>(scales.data()), scales.size() * 4};
  }
};

// 130 x 129: four blocks, three of them partial (rows 128-129, column 128).
Fp8Fixture edgeBlocks() {
  Fp8Fixture fixture{
      {130, 129}, std::vector<uint8_t>(130 * 129, 0x38), {2, 2}, {0.5f, 3.0f, 0.25f, 10.0f}};
  auto at = [&](int row, int column) -> uint8_t& {
    return fixture.codes[size_t(row * 129 + column)];
  };
  at(0, 0) = 0x40;     // 0.1000.000 = 2^(8-7) = 2
  at(0, 128) = 0xb8;   // 1.0111.000 = -1
  at(129, 0) = 0x3c;   // 0.0111.100 = 1.5
  at(129, 128) = 0x7e; // 0.1111.110 = 1.75 * 2^8 = 448
  at(127, 127) = 0x01; // subnormal: 1/8 * 2^-6 = 2^-9
  at(128, 1) = 0x00;   // +0
  return fixture;
}

TEST(Fp8Dequant, HandComputedValuesIncludingPartialEdgeBlocks) {
  Fp8Fixture fixture = edgeBlocks();
  std::vector<float> out(130 * 129);
  dequantizeFp8(fixture.weight(), fixture.scale(), {128, 128}, out);
  auto at = [&](int row, int column) { return out[size_t(row * 129 + column)]; };
  EXPECT_EQ(at(0, 0), 1.0f);     // 2 * S[0,0] 0.5
  EXPECT_EQ(at(0, 1), 0.5f);     // 1 * 0.5
  EXPECT_EQ(at(0, 128), -3.0f);  // -1 * S[0,1] 3
  EXPECT_EQ(at(127, 128), 3.0f); // last row of the first row-block
  EXPECT_EQ(at(129, 0), 0.375f); // 1.5 * S[1,0] 0.25
  EXPECT_EQ(at(128, 1), 0.0f);
  EXPECT_EQ(at(129, 128), 4480.0f);       // 448 * S[1,1] 10
  EXPECT_EQ(at(128, 128), 10.0f);         // the partial corner block uses S[1,1]
  EXPECT_EQ(at(127, 127), 0.5f / 512.0f); // 2^-9 * 0.5
}

TEST(Fp8Dequant, Bf16RoundsToNearestEven) {
  // Weight 1.0 everywhere; each scale lands on or between bf16 values (8 significant bits).
  Fp8Fixture fixture{{1, 4}, {0x38, 0x38, 0x38, 0x38}, {1, 1}, {1.00390625f}};
  auto run = [&](float scale) {
    fixture.scales = {scale};
    std::vector<uint16_t> out(4);
    dequantizeFp8ToBf16(fixture.weight(), fixture.scale(), {128, 128}, out);
    return out[0];
  };
  EXPECT_EQ(run(1.0f), 0x3f80);         // exactly 1.0
  EXPECT_EQ(run(1.00390625f), 0x3f80);  // 1 + 2^-8: halfway, ties to even (1.0)
  EXPECT_EQ(run(1.01171875f), 0x3f82);  // 1 + 3 * 2^-8: halfway, ties to even (1 + 2^-6)
  EXPECT_EQ(run(1.0078125f), 0x3f81);   // 1 + 2^-7: exact
  EXPECT_EQ(run(1.005859375f), 0x3f81); // 1 + 1.5 * 2^-8: above halfway, rounds up
  EXPECT_EQ(run(-2.0f), 0xc000);
}

TEST(Fp8Dequant, BatchedFusedExpertsUseOneGridPerExpert) {
  // [E=2, 2, 2] with scales [2, 1, 1]: expert 1's values scale by its own entry.
  Fp8Fixture fixture{
      {2, 2, 2}, {0x38, 0x40, 0x38, 0x38, 0x38, 0x40, 0x38, 0xb8}, {2, 1, 1}, {2.0f, -0.5f}};
  std::vector<float> out(8);
  dequantizeFp8(fixture.weight(), fixture.scale(), {128, 128}, out);
  EXPECT_THAT(out, ::testing::ElementsAre(2.0f, 4.0f, 2.0f, 2.0f, -0.5f, -1.0f, -0.5f, 0.5f));
}

TEST(Fp8Dequant, ScaleShapeRules) {
  // V3's kv_a_proj_with_mqa: 576 rows, not a multiple of 128.
  EXPECT_EQ(fp8ScaleShape(std::vector<int64_t>{576, 7168}, {128, 128}),
            (std::vector<int64_t>{5, 56}));
  EXPECT_EQ(fp8ScaleShape(std::vector<int64_t>{256, 320, 64}, {128, 128}),
            (std::vector<int64_t>{256, 3, 1}));
  // A fused gate_up [E, 2 * 160, H] may carry a grid per half: 2 * ceil(160 / 128) = 4 rows.
  std::vector<int64_t> gateUp{4, 320, 64};
  EXPECT_TRUE(isFp8ScaleShapeValid("mlp.experts.gate_up_proj", gateUp,
                                   std::vector<int64_t>{4, 4, 1}, {128, 128}));
  EXPECT_TRUE(isFp8ScaleShapeValid("mlp.experts.gate_up_proj", gateUp,
                                   std::vector<int64_t>{4, 3, 1}, {128, 128}));
  EXPECT_FALSE(isFp8ScaleShapeValid("mlp.experts.down_proj", gateUp, std::vector<int64_t>{4, 4, 1},
                                    {128, 128}));
  EXPECT_EQ(fp8ScaleName("model.layers.0.mlp.down_proj.weight"),
            "model.layers.0.mlp.down_proj.weight_scale_inv");
}

TEST(Fp8Dequant, PerHalfGridOfAFusedGateUp) {
  // gate_up [1, 4, 1] with 2-row blocks... rows 0-1 are gate, 2-3 up; block rows = 4 would
  // give one grid row, per-half grids give two: S = [[2], [3]].
  std::vector<uint8_t> codes(4, 0x38);
  std::vector<float> scales{2.0f, 3.0f};
  std::vector<int64_t> weightShape{1, 4, 1};
  std::vector<int64_t> scaleShape{1, 2, 1};
  TensorView weight{"mlp.experts.gate_up_proj", DType::F8E4M3, weightShape,
                    reinterpret_cast<const std::byte*>(codes.data()), 4};
  TensorView scale{"mlp.experts.gate_up_proj_scale_inv", DType::F32, scaleShape,
                   reinterpret_cast<const std::byte*>(scales.data()), 8};
  std::vector<float> out(4);
  dequantizeFp8(weight, scale, {4, 4}, out);
  EXPECT_THAT(out, ::testing::ElementsAre(2.0f, 2.0f, 3.0f, 3.0f));
}

TEST(Fp8Dequant, RejectsAScaleOfTheWrongShape) {
  Fp8Fixture fixture = edgeBlocks();
  fixture.scaleShape = {1, 4};
  std::vector<float> out(130 * 129);
  EXPECT_THAT(ft::errorOf([&] {
                dequantizeFp8(fixture.weight(), fixture.scale(), {128, 128}, out);
              }),
              HasSubstr("scale \"w.weight_scale_inv\" (F32 [1, 4]) does not fit weight "
                        "\"w.weight\" (F8_E4M3 [130, 129]) with blocks of 128x128 (expected "
                        "[2, 2])"));
}

TEST(Fp8Dequant, RejectsAScaleOfTheWrongDType) {
  Fp8Fixture fixture = edgeBlocks();
  TensorView scale = fixture.scale();
  scale.dtype = DType::BF16;
  std::vector<float> out(130 * 129);
  EXPECT_THAT(ft::errorOf([&] {
                dequantizeFp8(fixture.weight(), scale, {128, 128}, out);
              }),
              HasSubstr("scale \"w.weight_scale_inv\" (BF16 [2, 2]) must be F32"));
}

TEST(Fp8Dequant, RejectsAWrongOutputSize) {
  Fp8Fixture fixture = edgeBlocks();
  std::vector<float> out(10);
  EXPECT_THAT(ft::errorOf([&] {
                dequantizeFp8(fixture.weight(), fixture.scale(), {128, 128}, out);
              }),
              HasSubstr("holds 10 values, expected 16770"));
}

} // namespace
