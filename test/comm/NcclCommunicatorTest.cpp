// The NCCL communicator of one rank: its self-test on the device where there is one, and the
// reason it gives where there is none (the multi-rank checks run under mpirun: NcclWorldCheck).
#include "fathom/comm/Nccl.h"
#include "fathom/cuda/Kernels.h"

#include <cuda_runtime_api.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fathom::comm {
namespace {

TEST(NcclCommunicator, WithoutADeviceTheWorldSaysWhy) {
  std::string reason;
  if (cuda::deviceAvailable(reason))
    GTEST_SKIP() << "this machine has a CUDA device; OneRankSelfTestOnTheDevice covers it";
  try {
    ncclWorld(singleProcess());
    FAIL() << "an NCCL world started without a CUDA device";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), testing::HasSubstr("nccl: no usable CUDA device: " + reason));
  }
  EXPECT_THROW(cudaDeviceCountOrThrow(), Error);
}

TEST(NcclCommunicator, OneRankSelfTestOnTheDevice) {
  std::string reason;
  if (!cuda::deviceAvailable(reason))
    GTEST_SKIP() << "no usable CUDA GPU here, so NCCL cannot start: " << reason;
  auto world = ncclWorld(singleProcess());
  EXPECT_EQ(world->transport(), "nccl");
  EXPECT_EQ(world->size(), 1);
  EXPECT_EQ(world->rank(), 0);
  EXPECT_EQ(world->device(), 0);
  EXPECT_NO_THROW(deviceSelfTest(*world));
  void* raw = nullptr;
  ASSERT_EQ(cudaMalloc(&raw, sizeof(float)), cudaSuccess);
  auto* data = static_cast<float*>(raw);
  EXPECT_THROW(world->groupAllReduceSum(std::span(data, 1), 2), Error); // 2 does not divide 1
  EXPECT_NO_THROW(world->groupAllReduceSum(std::span(data, 1), 1));
  cudaFree(raw);
}

} // namespace
} // namespace fathom::comm
