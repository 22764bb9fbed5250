// A step's launches captured into a CUDA graph on the backend's stream and replayed with one
// cudaGraphLaunch: the per-kernel launch cost (a few microseconds each, hundreds per decode
// step) paid once per bucket instead of once per token.
#include "CudaKernel.h"

namespace fathom::cuda {
namespace {

class GraphRecording final : public backend::Recording {
public:
  GraphRecording(cudaGraphExec_t graph, cudaStream_t stream) : graph_(graph), stream_(stream) {}
  ~GraphRecording() override { cudaGraphExecDestroy(graph_); }
  void replay() override { check(cudaGraphLaunch(graph_, stream_), "graph replay"); }

private:
  cudaGraphExec_t graph_;
  cudaStream_t stream_;
};

} // namespace

std::unique_ptr<backend::Recording> recordGraph(cudaStream_t stream,
                                                const std::function<void()>& launches) {
  // Thread-local mode: another thread's unrelated CUDA calls neither join nor break the capture.
  check(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), "graph capture");
  cudaGraph_t graph = nullptr;
  try {
    launches();
  } catch (...) {
    cudaStreamEndCapture(stream, &graph);
    if (graph)
      cudaGraphDestroy(graph);
    cudaGetLastError(); // the failed capture's error is the exception's, not the next call's
    throw;
  }
  const cudaError_t ended = cudaStreamEndCapture(stream, &graph);
  if (ended != cudaSuccess || !graph) {
    // Something in the launches cannot be captured (an unrecordable call slipped through): the
    // caller runs them eagerly instead.
    if (graph)
      cudaGraphDestroy(graph);
    cudaGetLastError();
    return nullptr;
  }
  cudaGraphExec_t exec = nullptr;
  const cudaError_t instantiated = cudaGraphInstantiate(&exec, graph, 0);
  cudaGraphDestroy(graph);
  if (instantiated != cudaSuccess) {
    cudaGetLastError();
    return nullptr;
  }
  return std::make_unique<GraphRecording>(exec, stream);
}

} // namespace fathom::cuda
