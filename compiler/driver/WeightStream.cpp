#include "compiler/driver/WeightStream.h"

#include "compiler/initializer/Evaluate.h"
#include "dialects/fathom/FathomConventions.h"
#include "dialects/fathom/FathomDialect.h"
#include "fathom/runtime/Error.h"
#include "fathom/runtime/Numeric.h"

#include <cstring>

namespace fathom::compiler {
namespace fm = mlir::fathom;
namespace {

constexpr size_t kChunkElements = 1 << 20;

// The checkpoint bytes behind a source param: its tensor, or the contiguous slice of it that
// `source_offset` names (one expert of a fused expert tensor).
frontend::TensorView sourceView(const frontend::Checkpoint& checkpoint, fm::ParamOp param,
                                const std::vector<int64_t>& shape) {
  std::string source = param.getSource()->str();
  frontend::TensorView view = checkpoint.tensor(source);
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  int64_t offset = param.getSourceOffset() ? int64_t(*param.getSourceOffset()) : 0;
  if (offset < 0 || offset + count > view.numel())
    throw Error("weight " + param.getSymName().str() + " lies outside its source tensor " + source);
  view.data += offset * int64_t(dtypeSize(view.dtype));
  view.byteSize = uint64_t(count) * dtypeSize(view.dtype);
  return view;
}

// Hands the tensor to `sink` in the stored dtype: a verbatim copy when the dtypes agree, else
// widened to fp32 and rounded (RNE) to the stored type, as torch's .to() does.
void streamConverted(const frontend::TensorView& view, int64_t count, DType stored,
                     const artifact::ByteSink& sink, const std::function<void(uint64_t)>& done) {
  size_t inSize = dtypeSize(view.dtype), outSize = dtypeSize(stored);
  if (stored != view.dtype && !(isFloatingPoint(view.dtype) && isFloatingPoint(stored)))
    throw Error("tensor " + std::string(view.name) + ": cannot store " +
                std::string(dtypeName(view.dtype)) + " weights as " +
                std::string(dtypeName(stored)));
  std::vector<std::byte> chunk;
  for (int64_t begin = 0; begin < count; begin += int64_t(kChunkElements)) {
    int64_t n = std::min<int64_t>(int64_t(kChunkElements), count - begin);
    const std::byte* in = view.data + begin * int64_t(inSize);
    if (stored == view.dtype) {
      sink(in, size_t(n) * inSize);
    } else {
      chunk.resize(size_t(n) * outSize);
      for (int64_t i = 0; i < n; ++i)
        storeFloat(stored, loadFloat(view.dtype, in + i * int64_t(inSize)),
                   chunk.data() + i * int64_t(outSize));
      sink(chunk.data(), chunk.size());
    }
    done(uint64_t(n) * inSize);
  }
}

std::vector<int64_t> shapeOf(fm::ParamOp param) {
  auto shape = param.getTensorType().getShape();
  return {shape.begin(), shape.end()};
}

} // namespace

uint64_t writeWeights(mlir::ModuleOp module, const frontend::Checkpoint& checkpoint,
                      const std::vector<std::string>& stored, artifact::ArtifactWriter& writer,
                      const ProgressFn& progress, bool synthetic) {
  InitializerEvaluator evaluator(module, [&](fm::ParamOp param) {
    HostTensor tensor;
    tensor.shape = shapeOf(param);
    tensor.dtype = dtypeOfElement(param.getTensorType().getElementType());
    frontend::TensorView view = sourceView(checkpoint, param, tensor.shape);
    tensor.bytes.reserve(size_t(tensor.numel()) * dtypeSize(tensor.dtype));
    streamConverted(
        view, tensor.numel(), tensor.dtype,
        [&](const void* data, size_t size) {
          auto* bytes = static_cast<const std::byte*>(data);
          tensor.bytes.insert(tensor.bytes.end(), bytes, bytes + size);
        },
        [](uint64_t) {});
    return tensor;
  });
  const int64_t world = worldSizeOf(module);
  // Shared params (every rank reads the same bytes) and the ones each rank holds its own of.
  std::vector<std::pair<fm::ParamOp, int64_t>> shared, perRank;
  uint64_t total = 0;
  mlir::SymbolTable symbols(module);
  for (size_t i = 0; i < stored.size(); ++i) {
    auto param = symbols.lookup<fm::ParamOp>(stored[i]);
    mlir::RankedTensorType type = param.getTensorType();
    uint64_t bytes =
        param.getSource() && !synthetic
            ? sourceView(checkpoint, param, shapeOf(param)).byteSize
            : storageBytes(dtypeOfElement(type.getElementType()), uint64_t(type.getNumElements()),
                           type.getRank() ? uint64_t(type.getShape().back()) : 1);
    bool own = world > 1 && evaluator.rankDependent(param);
    (own ? perRank : shared).push_back({param, int64_t(i)});
    total += own ? bytes * uint64_t(world) : bytes;
  }
  uint64_t done = 0;
  auto advance = [&](uint64_t bytes) {
    done += bytes;
    if (progress)
      progress(done, total);
  };
  auto write = [&](fm::ParamOp param, int64_t index) {
    artifact::TensorInfo info;
    info.name = param.getSymName().str();
    info.dtype = dtypeOfElement(param.getTensorType().getElementType());
    info.shape = shapeOf(param);
    info.weight = index;
    if (auto quant = param.getQuantization()) {
      info.scale = param.getScaleAttr().getValue().str();
      info.blockRows = uint32_t(quant->getRows());
      info.blockCols = uint32_t(quant->getCols());
      if (auto zero = param.getZeroAttr())
        info.zero = zero.getValue().str();
    }
    if (synthetic) {
      writer.addTensor(info, {}); // the loader fills it
    } else if (param.getSource()) {
      frontend::TensorView view = sourceView(checkpoint, param, info.shape);
      writer.addTensor(info, [&](const artifact::ByteSink& sink) {
        streamConverted(view, param.getTensorType().getNumElements(), info.dtype, sink, advance);
      });
    } else {
      writer.addTensor(info, [&](const artifact::ByteSink& sink) {
        for (mlir::Value piece : evaluator.pieces(param)) {
          HostTensor value = evaluator.evaluate(piece);
          sink(value.bytes.data(), value.bytes.size());
          advance(value.bytes.size());
        }
      });
    }
  };

  writer.beginSection("weights", -1, synthetic);
  for (auto [param, index] : shared)
    write(param, index);
  writer.endSection();
  if (!perRank.empty())
    for (int64_t rank = 0; rank < world; ++rank) {
      evaluator.setRank(rank);
      writer.beginSection("weights.rank" + std::to_string(rank), int32_t(rank), synthetic);
      for (auto [param, index] : perRank)
        write(param, index);
      writer.endSection();
    }
  return done;
}

int64_t worldSizeOf(mlir::ModuleOp module) {
  auto world = module->getAttrOfType<mlir::IntegerAttr>(fm::kWorldSizeAttr);
  return world ? world.getInt() : 1;
}

} // namespace fathom::compiler
