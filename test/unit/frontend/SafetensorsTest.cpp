// Reading safetensors files: every dtype checkpoints use, zero-copy views, and each way a
// file can be malformed, with the message naming the file and the problem.
#include "TestCheckpoint.h"

#include "fathom/frontend/SafetensorsFile.h"
#include "fathom/runtime/Numeric.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

namespace {
using namespace fathom;
using namespace fathom::frontend;
namespace ft = fathom::frontend::testing;
using ::testing::AllOf;
using ::testing::HasSubstr;

template <typename T> std::span<const std::byte> bytesOf(const std::vector<T>& values) {
  return std::as_bytes(std::span(values));
}

template <typename T> T load(const TensorView& view, size_t index) {
  T value;
  std::memcpy(&value, view.data + index * sizeof(T), sizeof(T));
  return value;
}

TEST(Safetensors, ReadsEveryCheckpointDTypeWithoutCopying) {
  ft::TempDir dir;
  const std::vector<float> f32 = {1.5f, -2.0f, 3.25f, 0.0f, 8.0f, -0.5f};
  const std::vector<double> f64 = {1e300, -2.5};
  const std::vector<uint16_t> bf16 = {floatToBf16(1.0f), floatToBf16(-3.0f)};
  const std::vector<uint16_t> f16 = {0x3c00, 0xc000};   // 1.0, -2.0
  const std::vector<uint8_t> e4m3 = {0x38, 0x7e, 0xb8}; // 1.0, 448, -1.0
  const std::vector<uint8_t> e5m2 = {0x3c, 0x7b};       // 1.0, 57344
  const std::vector<int64_t> i64 = {-(int64_t(1) << 40), 7};
  const std::vector<int32_t> i32 = {-5, 123456};
  const std::vector<int16_t> i16 = {-300, 300};
  const std::vector<int8_t> i8 = {-128, 127};
  const std::vector<uint8_t> u8 = {0, 255};
  const std::vector<uint8_t> boolean = {1, 0, 1};
  writeSafetensors(dir / "all.safetensors", {{"f32", DType::F32, {2, 3}, bytesOf(f32)},
                                             {"f64", DType::F64, {2}, bytesOf(f64)},
                                             {"bf16", DType::BF16, {2}, bytesOf(bf16)},
                                             {"f16", DType::F16, {2}, bytesOf(f16)},
                                             {"e4m3", DType::F8E4M3, {3}, bytesOf(e4m3)},
                                             {"e5m2", DType::F8E5M2, {2}, bytesOf(e5m2)},
                                             {"i64", DType::I64, {2}, bytesOf(i64)},
                                             {"i32", DType::I32, {2}, bytesOf(i32)},
                                             {"i16", DType::I16, {2}, bytesOf(i16)},
                                             {"i8", DType::I8, {2}, bytesOf(i8)},
                                             {"u8", DType::U8, {2}, bytesOf(u8)},
                                             {"bool", DType::Bool, {3}, bytesOf(boolean)}});
  SafetensorsFile file = SafetensorsFile::open(dir / "all.safetensors");
  ASSERT_EQ(file.entries().size(), 12u);
  EXPECT_EQ(file.metadata().at("format"), "pt");

  TensorView view = *file.find("f32");
  EXPECT_EQ(view.dtype, DType::F32);
  EXPECT_EQ(std::vector<int64_t>(view.shape.begin(), view.shape.end()),
            (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(view.numel(), 6);
  EXPECT_EQ(view.byteSize, 24u);
  EXPECT_TRUE(view.isAligned());
  EXPECT_EQ(load<float>(view, 2), 3.25f);
  EXPECT_EQ(load<double>(*file.find("f64"), 0), 1e300);
  EXPECT_EQ(bf16ToFloat(load<uint16_t>(*file.find("bf16"), 1)), -3.0f);
  EXPECT_EQ(f16ToFloat(load<uint16_t>(*file.find("f16"), 1)), -2.0f);
  EXPECT_EQ(f8e4m3ToFloat(load<uint8_t>(*file.find("e4m3"), 1)), 448.0f);
  EXPECT_EQ(f8e5m2ToFloat(load<uint8_t>(*file.find("e5m2"), 1)), 57344.0f);
  EXPECT_EQ(load<int64_t>(*file.find("i64"), 0), -(int64_t(1) << 40));
  EXPECT_EQ(load<int32_t>(*file.find("i32"), 1), 123456);
  EXPECT_EQ(load<int16_t>(*file.find("i16"), 0), -300);
  EXPECT_EQ(load<int8_t>(*file.find("i8"), 0), -128);
  EXPECT_EQ(load<uint8_t>(*file.find("u8"), 1), 255);
  EXPECT_EQ(file.find("bool")->dtype, DType::Bool);
  EXPECT_FALSE(file.find("absent"));
}

TEST(Safetensors, AcceptsScalarsEmptyTensorsPaddingAndUnalignedOffsets) {
  ft::TempDir dir;
  // A 0-d scalar, a tensor with a zero dimension, a header padded with spaces, and an F32
  // at an odd offset (older writers did not align).
  std::string header = R"({"u":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                       R"("s":{"dtype":"F32","shape":[],"data_offsets":[1,5]},)"
                       R"("e":{"dtype":"BF16","shape":[0,4],"data_offsets":[5,5]}}   )";
  std::string data = "\x07";
  float scalar = 2.5f;
  data.append(reinterpret_cast<const char*>(&scalar), 4);
  ft::writeFile(dir / "odd.safetensors", ft::safetensorsBytes(header, data));
  SafetensorsFile file = SafetensorsFile::open(dir / "odd.safetensors");
  TensorView s = *file.find("s");
  EXPECT_EQ(s.rank(), 0u);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(load<float>(s, 0), 2.5f);
  EXPECT_EQ(file.find("e")->numel(), 0);
  EXPECT_EQ(file.find("e")->byteSize, 0u);
  // The header is 8-byte aligned only by chance here; what matters is that the reader reports
  // alignment instead of assuming it.
  EXPECT_EQ(s.isAligned(), reinterpret_cast<uintptr_t>(s.data) % 4 == 0);
}

// Each malformed file: the message names the file and the specific problem.
class MalformedSafetensors : public ::testing::Test {
protected:
  std::string openBytes(const std::string& bytes) {
    ft::writeFile(path(), bytes);
    return ft::errorOf([&] { SafetensorsFile::open(path()); });
  }
  std::string openHeader(const std::string& header, const std::string& data) {
    return openBytes(ft::safetensorsBytes(header, data));
  }
  std::filesystem::path path() const { return dir_ / "broken.safetensors"; }
  ft::TempDir dir_;
};

TEST_F(MalformedSafetensors, FileTooShortForTheHeaderLength) {
  EXPECT_THAT(openBytes("abc"),
              AllOf(HasSubstr("broken.safetensors"), HasSubstr("too short"), HasSubstr("3 bytes")));
}

TEST_F(MalformedSafetensors, HeaderLengthPastTheEnd) {
  std::string bytes = ft::safetensorsBytes(R"({"a":{}})", "");
  bytes[0] = char(200); // claims 200 header bytes, the file has 16
  EXPECT_THAT(openBytes(bytes), AllOf(HasSubstr("broken.safetensors"),
                                      HasSubstr("header length 200 runs past the end")));
}

TEST_F(MalformedSafetensors, HeaderLengthOverTheCap) {
  std::string bytes = ft::safetensorsBytes("{}", "");
  bytes[4] = char(1); // 2^32 + 2 header bytes
  EXPECT_THAT(openBytes(bytes), AllOf(HasSubstr("broken.safetensors"),
                                      HasSubstr("exceeds the 100000000-byte limit")));
}

TEST_F(MalformedSafetensors, HeaderNotAnObject) {
  EXPECT_THAT(openHeader("[1, 2]", ""),
              AllOf(HasSubstr("broken.safetensors"), HasSubstr("does not start with '{'")));
}

TEST_F(MalformedSafetensors, BadJson) {
  std::string message = openHeader(R"({"a": {"dtype": "F32",)", "");
  EXPECT_THAT(message, AllOf(HasSubstr("broken.safetensors: header: invalid JSON"),
                             HasSubstr("parse error")));
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST_F(MalformedSafetensors, EntryNotAnObject) {
  EXPECT_THAT(openHeader(R"({"w": [1, 2]})", ""),
              AllOf(HasSubstr("broken.safetensors"), HasSubstr("tensor \"w\""),
                    HasSubstr("entry must be an object")));
}

TEST_F(MalformedSafetensors, MissingDataOffsets) {
  EXPECT_THAT(openHeader(R"({"w": {"dtype": "F32", "shape": [1]}})", "abcd"),
              AllOf(HasSubstr("broken.safetensors"), HasSubstr("tensor \"w\""),
                    HasSubstr("missing \"data_offsets\"")));
}

TEST_F(MalformedSafetensors, OffsetsOutOfRange) {
  // A truncated file: the header promises 16 bytes, 8 are there.
  EXPECT_THAT(openHeader(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
                         std::string(8, '\0')),
              AllOf(HasSubstr("broken.safetensors"), HasSubstr("tensor \"w\""),
                    HasSubstr("run past the end of the 8-byte data buffer")));
}

TEST_F(MalformedSafetensors, OverlappingOffsets) {
  EXPECT_THAT(openHeader(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                         R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                         std::string(12, '\0')),
              AllOf(HasSubstr("broken.safetensors"), HasSubstr("tensor \"b\""),
                    HasSubstr("overlap tensor \"a\" [0, 8]")));
}

TEST_F(MalformedSafetensors, HoleBetweenTensors) {
  EXPECT_THAT(openHeader(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                         R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                         std::string(12, '\0')),
              AllOf(HasSubstr("broken.safetensors"),
                    HasSubstr("hole in the data buffer: bytes [4, 8) before tensor \"b\"")));
}

TEST_F(MalformedSafetensors, TrailingBytesAfterTheLastTensor) {
  EXPECT_THAT(
      openHeader(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", std::string(6, '\0')),
      AllOf(HasSubstr("broken.safetensors"), HasSubstr("holds 6 bytes"),
            HasSubstr("cover only 4")));
}

TEST_F(MalformedSafetensors, SizeDoesNotMatchShapeAndDType) {
  EXPECT_THAT(openHeader(R"({"w":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,8]}})",
                         std::string(8, '\0')),
              AllOf(HasSubstr("broken.safetensors"), HasSubstr("tensor \"w\""),
                    HasSubstr("hold 8 bytes but shape [2, 3] of BF16 needs 12")));
}

TEST_F(MalformedSafetensors, UnsupportedDType) {
  EXPECT_THAT(
      openHeader(R"({"w":{"dtype":"F4","shape":[2],"data_offsets":[0,1]}})", std::string(1, '\0')),
      AllOf(HasSubstr("broken.safetensors"), HasSubstr("tensor \"w\""),
            HasSubstr("unsupported dtype \"F4\""), HasSubstr("F8_E4M3")));
}

TEST_F(MalformedSafetensors, DuplicateTensorName) {
  EXPECT_THAT(openHeader(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                         R"("w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                         std::string(2, '\0')),
              AllOf(HasSubstr("broken.safetensors"), HasSubstr("duplicate tensor name \"w\"")));
}

TEST_F(MalformedSafetensors, MetadataValueNotAString) {
  EXPECT_THAT(openHeader(R"({"__metadata__":{"format":"pt","step":3}})", ""),
              AllOf(HasSubstr("broken.safetensors"),
                    HasSubstr("__metadata__ value for \"step\" must be a string, got 3")));
}

TEST_F(MalformedSafetensors, NegativeDimension) {
  EXPECT_THAT(openHeader(R"({"w":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}})", ""),
              AllOf(HasSubstr("broken.safetensors"), HasSubstr("tensor \"w\""),
                    HasSubstr("shape must be an array of non-negative integers, got [-1]")));
}

TEST_F(MalformedSafetensors, ShapeOverflowingSixtyFourBits) {
  EXPECT_THAT(openHeader(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],)"
                         R"("data_offsets":[0,0]}})",
                         ""),
              AllOf(HasSubstr("broken.safetensors"), HasSubstr("overflows a 64-bit byte count")));
}

TEST_F(MalformedSafetensors, OffsetsEndBeforeTheyBegin) {
  EXPECT_THAT(
      openHeader(R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}})", std::string(4, '\0')),
      AllOf(HasSubstr("broken.safetensors"), HasSubstr("end before they begin")));
}

TEST_F(MalformedSafetensors, MissingFile) {
  EXPECT_THAT(ft::errorOf([&] { SafetensorsFile::open(dir_ / "absent.safetensors"); }),
              AllOf(HasSubstr("absent.safetensors"), HasSubstr("cannot open")));
}

} // namespace
