// Backend::selectTokens on CUDA: the draws in, one DeviceChoice per row back (SelectTokens.cu),
// instead of a vocabulary of logits per row.
#include "CudaKernel.h"
#include "Launch.h"

#include <algorithm>

namespace fathom::cuda {

SelectionScratch::~SelectionScratch() {
  cudaFree(data);
}

bool selectTokensOnDevice(CudaResources& gpu, SelectionScratch& scratch, const Tensor& logits,
                          const backend::TokenChoice& choice, const double* uniforms,
                          backend::SelectedToken* selected) {
  const int64_t rows = logits.rows(), n = logits.width();
  if ((logits.type != DType::F32 && logits.type != DType::BF16) || !logits.packed() ||
      !logits.contiguousRows() || rows < 1 || n < 1 || n > INT32_MAX || rows > INT32_MAX)
    return false;
  SelectTokens args;
  args.type = logits.type;
  args.logits = logits.data;
  args.rows = rows;
  args.n = n;
  args.rowStride = logits.rowStride;
  args.sample = choice.doSample;
  if (choice.doSample) {
    // What the device does not choose (no top-k: a sort of the whole vocabulary; bad values,
    // whose errors the host sampler words) the host does.
    const int64_t k = std::min(std::max(choice.topK, choice.minTokensToKeep), n);
    if (choice.topK <= 0 || k < 1 || k > kMaxDeviceCandidates || !(choice.temperature > 0.0f) ||
        !(choice.topP >= 0.0 && choice.topP <= 1.0) || choice.minTokensToKeep < 0)
      return false;
    args.temperature = choice.temperature;
    args.k = k;
    args.topP = choice.topP;
    args.minKeep = choice.minTokensToKeep;
  }
  const size_t drawBytes = size_t(rows) * sizeof(double);
  const size_t bytes = drawBytes + size_t(rows) * sizeof(DeviceChoice);
  if (scratch.bytes < bytes) {
    cudaFree(scratch.data);
    scratch.data = nullptr;
    scratch.bytes = 0;
    check(cudaMalloc(&scratch.data, bytes), "token selection scratch");
    scratch.bytes = bytes;
  }
  auto* draws = static_cast<double*>(scratch.data);
  auto* choices =
      reinterpret_cast<DeviceChoice*>(static_cast<std::byte*>(scratch.data) + drawBytes);
  args.uniforms = draws;
  args.out = choices;
  check(cudaMemcpyAsync(draws, uniforms, drawBytes, cudaMemcpyHostToDevice, gpu.stream),
        "token selection draws");
  check(launchSelectTokens(args, gpu.stream), "select tokens");
  std::vector<DeviceChoice> host(static_cast<size_t>(rows));
  check(cudaMemcpyAsync(host.data(), choices, host.size() * sizeof(DeviceChoice),
                        cudaMemcpyDeviceToHost, gpu.stream),
        "token selection results");
  check(cudaStreamSynchronize(gpu.stream), "select tokens");
  for (const DeviceChoice& c : host)
    if (c.nonFinite < 0 && c.token == kChoiceOnHost)
      return false;
  for (size_t r = 0; r < host.size(); ++r)
    selected[r] = {host[r].token, host[r].nonFinite, host[r].nan != 0};
  return true;
}

} // namespace fathom::cuda
