// The artifact's tensors as Weights over the mapped file, with their block scales and zero
// points attached and checked: what every backend starts from (a GPU then uploads them).
#include "fathom/artifact/Artifact.h"
#include "fathom/backend/Backend.h"
#include "fathom/runtime/Error.h"

namespace fathom::backend {

std::vector<Weight> describeWeights(const artifact::Artifact& file) {
  std::vector<Weight> weights;
  for (size_t i = 0; i < file.tensorCount(); ++i) {
    artifact::WeightView view = file.tensor(i);
    Weight weight{std::string(view.name), view.dtype, view.shape, view.data};
    const artifact::fb::Tensor* tensor = &file.tensorMetadata(i);
    // FP8 weights, and INT4 weights (U4 with a scale; a U4 zero-point tensor has none).
    if (view.dtype == DType::F8E4M3 || (view.dtype == DType::U4 && tensor->scale())) {
      if (!tensor->scale())
        throw Error(file.path() + ": FP8 tensor " + weight.name + " has no scale tensor");
      artifact::WeightView scale = file.tensor(tensor->scale()->string_view());
      // One grid per matrix: [leading..., ceil(rows / blockRows), ceil(cols / blockCols)].
      int64_t blockRows = tensor->block_rows(), blockCols = tensor->block_cols();
      size_t rank = view.shape.size();
      std::vector<int64_t> grid;
      if (rank >= 2 && blockRows > 0 && blockCols > 0) {
        grid.assign(view.shape.begin(), view.shape.end() - 2);
        grid.push_back((view.shape[rank - 2] + blockRows - 1) / blockRows);
        grid.push_back((view.shape[rank - 1] + blockCols - 1) / blockCols);
      }
      if (scale.dtype != DType::F32 || grid.empty() || scale.shape != grid)
        throw Error(file.path() + ": scale tensor " + std::string(scale.name) +
                    " does not hold one f32 per block of " + weight.name);
      weight.scales = reinterpret_cast<const float*>(scale.data);
      weight.blockRows = blockRows;
      weight.blockCols = blockCols;
      if (view.dtype == DType::U4) {
        if (blockRows != 1 || !tensor->zero())
          throw Error(file.path() + ": INT4 tensor " + weight.name +
                      " needs 1-row groups and a zero-point tensor");
        artifact::WeightView zero = file.tensor(tensor->zero()->string_view());
        if (zero.dtype != DType::U4 || zero.shape != grid)
          throw Error(file.path() + ": zero-point tensor " + std::string(zero.name) +
                      " does not hold one U4 per group of " + weight.name);
        weight.zeros = reinterpret_cast<const uint8_t*>(zero.data);
      }
    }
    weights.push_back(std::move(weight));
  }
  return weights;
}

} // namespace fathom::backend
