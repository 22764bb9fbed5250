#include "compiler/initializer/Evaluate.h"

#include "compiler/initializer/RopeTables.h"
#include "fathom/runtime/BlockQuant.h"
#include "fathom/runtime/Error.h"
#include "fathom/runtime/Numeric.h"
#include "passes/Layout.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace fathom::compiler {
namespace fm = mlir::fathom;
namespace {

std::string nameOf(mlir::Operation* op) {
  return op->getName().getStringRef().str();
}

// Bytes of `elements` whole rows of a tensor of `shape` (U4 packs each row).
size_t bytesOf(DType dtype, int64_t elements, const std::vector<int64_t>& shape) {
  return size_t(
      storageBytes(dtype, uint64_t(elements), shape.empty() ? 1 : uint64_t(shape.back())));
}

HostTensor allocate(mlir::Type type) {
  auto ranked = llvm::cast<mlir::RankedTensorType>(type);
  HostTensor tensor;
  tensor.dtype = dtypeOfElement(ranked.getElementType());
  tensor.shape.assign(ranked.getShape().begin(), ranked.getShape().end());
  tensor.bytes.resize(bytesOf(tensor.dtype, tensor.numel(), tensor.shape));
  return tensor;
}

// Copies blocks: the tensor as [outer, extent, inner] elements along `dim`.
struct Strides {
  int64_t outer = 1, extent = 1, inner = 1;
};
Strides stridesAround(const std::vector<int64_t>& shape, int64_t dim) {
  Strides s;
  for (int64_t i = 0; i < dim; ++i)
    s.outer *= shape[size_t(i)];
  s.extent = shape[size_t(dim)];
  for (size_t i = size_t(dim) + 1; i < shape.size(); ++i)
    s.inner *= shape[i];
  return s;
}

// The range [offset, offset + size) of dimension `dim`, as `type`.
HostTensor sliceRange(const HostTensor& input, mlir::Type type, int64_t dim, int64_t offset,
                      int64_t size) {
  HostTensor out = allocate(type);
  Strides s = stridesAround(input.shape, dim);
  if (input.dtype == DType::U4 && dim == int64_t(input.shape.size()) - 1) {
    // Codes move one by one: a packed row (low nibble first) may start mid-byte in the input.
    const int64_t inRow = int64_t(bytesOf(input.dtype, s.extent, input.shape));
    const int64_t outRow = int64_t(bytesOf(out.dtype, size, out.shape));
    for (int64_t o = 0; o < s.outer; ++o)
      for (int64_t i = 0; i < size; ++i) {
        const int64_t from = offset + i;
        auto code = uint8_t(uint8_t(input.bytes[size_t(o * inRow + from / 2)]) >> (4 * (from % 2)));
        auto& to = out.bytes[size_t(o * outRow + i / 2)];
        to = std::byte(uint8_t(to) | uint8_t((code & 0xF) << (4 * (i % 2))));
      }
    return out;
  }
  // Whole rows move.
  auto bytes = [&](int64_t elements) { return bytesOf(input.dtype, elements, input.shape); };
  size_t chunk = bytes(size * s.inner);
  for (int64_t o = 0; o < s.outer; ++o)
    std::memcpy(out.bytes.data() + size_t(o) * chunk,
                input.bytes.data() + bytes((o * s.extent + offset) * s.inner), chunk);
  return out;
}

HostTensor slice(const HostTensor& input, fm::WeightSliceOp op) {
  // The verifier keeps ui4 slices off the last dimension.
  return sliceRange(input, op.getType(), op.getDimAttr().getInt(), op.getOffsetAttr().getInt(),
                    op.getSizeAttr().getInt());
}

// A rank's index in a group of `parts` consecutive ranks.
int64_t shardIndex(int64_t rank, mlir::IntegerAttr parts) {
  return rank % parts.getInt();
}

HostTensor shard(const HostTensor& input, fm::WeightShardOp op, int64_t rank) {
  const int64_t dim = op.getDimAttr().getInt();
  const int64_t size = input.shape[size_t(dim)] / op.getPartsAttr().getInt();
  return sliceRange(input, op.getType(), dim, shardIndex(rank, op.getPartsAttr()) * size, size);
}

HostTensor concat(const std::vector<HostTensor>& inputs, fm::WeightConcatOp op) {
  HostTensor out = allocate(op.getType());
  Strides total = stridesAround(out.shape, op.getDim());
  auto bytes = [&](int64_t elements) { return bytesOf(out.dtype, elements, out.shape); };
  int64_t at = 0;
  for (const HostTensor& input : inputs) {
    Strides s = stridesAround(input.shape, op.getDim());
    size_t chunk = bytes(s.extent * s.inner);
    for (int64_t o = 0; o < s.outer; ++o)
      std::memcpy(out.bytes.data() + bytes((o * total.extent + at) * total.inner),
                  input.bytes.data() + size_t(o) * chunk, chunk);
    at += s.extent;
  }
  return out;
}

HostTensor transpose(const HostTensor& input, fm::WeightTransposeOp op) {
  HostTensor out = allocate(op.getType());
  size_t rank = input.shape.size();
  int64_t rows = input.shape[rank - 2], cols = input.shape[rank - 1];
  int64_t batch = input.numel() / (rows * cols);
  size_t element = dtypeSize(input.dtype);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        std::memcpy(out.bytes.data() + size_t((b * cols + c) * rows + r) * element,
                    input.bytes.data() + size_t((b * rows + r) * cols + c) * element, element);
  return out;
}

HostTensor deinterleaveRows(const HostTensor& input, fm::WeightDeinterleaveRowsOp op) {
  HostTensor out = input;
  size_t rowBytes = input.bytes.size() / size_t(input.shape[0]);
  int64_t size = op.getSize(), half = size / 2;
  for (int64_t start = op.getOffset(); start + size <= input.shape[0]; start += op.getPeriod())
    for (int64_t j = 0; j < size; ++j) {
      // Row j of the window comes from row 2j (first half) or 2(j - half) + 1 (second half).
      int64_t from = j < half ? 2 * j : 2 * (j - half) + 1;
      std::memcpy(out.bytes.data() + size_t(start + j) * rowBytes,
                  input.bytes.data() + size_t(start + from) * rowBytes, rowBytes);
    }
  return out;
}

HostTensor convert(const HostTensor& input, mlir::Type type) {
  HostTensor out = allocate(type);
  size_t from = dtypeSize(input.dtype), to = dtypeSize(out.dtype);
  for (int64_t i = 0; i < input.numel(); ++i)
    storeFloat(out.dtype, loadFloat(input.dtype, input.bytes.data() + size_t(i) * from),
               out.bytes.data() + size_t(i) * to);
  return out;
}

HostTensor dequantize(const HostTensor& data, const HostTensor& scale, const HostTensor* zero,
                      fm::WeightDequantizeOp op) {
  HostTensor out = allocate(op.getType());
  if (zero) {
    dequantizeInt4Matrix(reinterpret_cast<const uint8_t*>(data.bytes.data()), data.shape[0],
                         data.shape[1], scale.bytes.data(),
                         reinterpret_cast<const uint8_t*>(zero->bytes.data()),
                         op.getBlockColsAttr().getInt(), out.dtype, out.bytes.data());
    return out;
  }
  dequantizeBlockMatrix(data.dtype, reinterpret_cast<const uint8_t*>(data.bytes.data()),
                        data.shape[0], data.shape[1], scale.bytes.data(), scale.shape[1],
                        op.getBlockRowsAttr().getInt(), op.getBlockColsAttr().getInt(), out.dtype,
                        out.bytes.data());
  return out;
}

// DeepSeek's quantizer: per block scale = amax / 448, q = e4m3(w / scale).
std::pair<HostTensor, HostTensor> quantize(const HostTensor& input, fm::WeightQuantizeOp op) {
  HostTensor data = allocate(op.getData().getType());
  HostTensor scale = allocate(op.getScale().getType());
  int64_t rows = input.shape[0], cols = input.shape[1];
  int64_t blockRows = op.getBlockRowsAttr().getInt(), blockCols = op.getBlockColsAttr().getInt();
  int64_t scaleRows = scale.shape[0], scaleCols = scale.shape[1];
  size_t from = dtypeSize(input.dtype);
  auto at = [&](int64_t r, int64_t c) {
    return loadFloat(input.dtype, input.bytes.data() + size_t(r * cols + c) * from);
  };
  auto* scales = reinterpret_cast<float*>(scale.bytes.data());
  for (int64_t br = 0; br < scaleRows; ++br)
    for (int64_t bc = 0; bc < scaleCols; ++bc) {
      float amax = 0;
      for (int64_t r = br * blockRows; r < std::min(rows, (br + 1) * blockRows); ++r)
        for (int64_t c = bc * blockCols; c < std::min(cols, (bc + 1) * blockCols); ++c)
          amax = std::max(amax, std::fabs(at(r, c)));
      float s = amax > 0 ? amax / 448.0f : 1.0f;
      scales[br * scaleCols + bc] = s;
      for (int64_t r = br * blockRows; r < std::min(rows, (br + 1) * blockRows); ++r)
        for (int64_t c = bc * blockCols; c < std::min(cols, (bc + 1) * blockCols); ++c)
          storeFloat(DType::F8E4M3, at(r, c) / s, data.bytes.data() + size_t(r * cols + c));
    }
  return {std::move(data), std::move(scale)};
}

std::vector<HostTensor> groupQuantize(const HostTensor& input, fm::WeightGroupQuantizeOp op) {
  std::vector<HostTensor> results;
  for (mlir::Value result : op->getResults())
    results.push_back(allocate(result.getType()));
  quantizeInt4Matrix(input.dtype, input.bytes.data(), input.shape[0], input.shape[1],
                     op.getGroupAttr().getInt(),
                     reinterpret_cast<uint8_t*>(results[0].bytes.data()),
                     reinterpret_cast<float*>(results[1].bytes.data()),
                     reinterpret_cast<uint8_t*>(results[2].bytes.data()));
  return results;
}

HostTensor matmul(const HostTensor& lhs, const HostTensor& rhs, fm::WeightMatmulOp op) {
  HostTensor out = allocate(op.getType());
  size_t rank = lhs.shape.size();
  int64_t m = lhs.shape[rank - 2], k = lhs.shape[rank - 1], n = rhs.shape[rank - 1];
  int64_t batch = lhs.numel() / (m * k);
  size_t l = dtypeSize(lhs.dtype), r = dtypeSize(rhs.dtype), o = dtypeSize(out.dtype);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        float sum = 0;
        for (int64_t p = 0; p < k; ++p)
          sum += loadFloat(lhs.dtype, lhs.bytes.data() + size_t((b * m + i) * k + p) * l) *
                 loadFloat(rhs.dtype, rhs.bytes.data() + size_t((b * k + p) * n + j) * r);
        storeFloat(out.dtype, sum, out.bytes.data() + size_t((b * m + i) * n + j) * o);
      }
  return out;
}

HostTensor ropeTable(fm::RopeTableOp op) {
  HostTensor out = allocate(op.getType());
  fm::RopeAttr rope = op.getRope();
  RopeTableSpec spec;
  spec.dim = rope.getDim();
  spec.theta = rope.getTheta().convertToDouble();
  switch (rope.getScaling()) {
  case fm::RopeScaling::none:
    spec.scaling = RopeScalingKind::None;
    break;
  case fm::RopeScaling::linear:
    spec.scaling = RopeScalingKind::Linear;
    break;
  case fm::RopeScaling::yarn:
    spec.scaling = RopeScalingKind::Yarn;
    break;
  case fm::RopeScaling::llama3:
    spec.scaling = RopeScalingKind::Llama3;
    break;
  case fm::RopeScaling::longrope:
    spec.scaling = RopeScalingKind::LongRope;
    spec.divisors.assign(rope.getDivisors().asArrayRef().begin(),
                         rope.getDivisors().asArrayRef().end());
    break;
  }
  spec.factor = rope.getFactor().convertToDouble();
  spec.originalMaxPositions = double(rope.getOriginalMaxPositions());
  spec.betaFast = rope.getBetaFast().convertToDouble();
  spec.betaSlow = rope.getBetaSlow().convertToDouble();
  spec.truncate = rope.getTruncate();
  spec.attentionFactor = rope.getAttentionFactor().convertToDouble();
  spec.lowFreqFactor = rope.getLowFreqFactor().convertToDouble();
  spec.highFreqFactor = rope.getHighFreqFactor().convertToDouble();
  compiler::ropeTable(spec, out.shape[0], op.getPart() == fm::TablePart::sin, out.dtype,
                      out.bytes.data());
  return out;
}

} // namespace

int64_t HostTensor::numel() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

DType dtypeOfElement(mlir::Type type) {
  if (mlir::FailureOr<DType> dtype = mlir::fathom::storageDType(type); mlir::succeeded(dtype))
    return *dtype;
  std::string text;
  llvm::raw_string_ostream os(text);
  type.print(os);
  throw Error("element type " + text + " has no artifact dtype");
}

InitializerEvaluator::InitializerEvaluator(mlir::ModuleOp module, SourceReader readSource)
    : module_(module), symbols_(module), readSource_(std::move(readSource)) {}

HostTensor InitializerEvaluator::read(fm::ParamOp param) {
  if (param.getSource())
    return readSource_(param);
  return evaluate(param);
}

mlir::Value InitializerEvaluator::definitionOf(fm::ParamOp param) {
  if (!definitionsIndexed_) {
    // Indexed once: a sharded DeepSeek-V3 defines tens of thousands of params.
    for (fm::InitializerOp initializer : module_.getOps<fm::InitializerOp>())
      for (fm::DefineParamOp define : initializer.getBlock().getOps<fm::DefineParamOp>())
        definitions_.try_emplace(define.getParam(), define.getValue());
    definitionsIndexed_ = true;
  }
  auto found = definitions_.find(param.getSymName());
  if (found == definitions_.end())
    throw Error("derived param " + param.getSymName().str() +
                " has no definition in the initializer");
  return found->second;
}

HostTensor InitializerEvaluator::evaluate(fm::ParamOp param) {
  return evaluate(definitionOf(param));
}

HostTensor InitializerEvaluator::evaluate(mlir::Value piece) {
  std::vector<std::pair<mlir::Value, HostTensor>> memo;
  return value(piece, memo);
}

void InitializerEvaluator::setRank(int64_t rank) {
  rank_ = rank;
  siblings_.clear();
}

bool InitializerEvaluator::rankDependent(fm::ParamOp param) {
  if (param.getSource())
    return false;
  auto known = rankDependent_.find(param.getSymName());
  if (known != rankDependent_.end())
    return known->second;
  bool dependent = false;
  llvm::SmallVector<mlir::Value> pending{definitionOf(param)};
  llvm::DenseSet<mlir::Value> seen;
  while (!pending.empty() && !dependent) {
    mlir::Value value = pending.pop_back_val();
    if (!seen.insert(value).second)
      continue;
    mlir::Operation* op = value.getDefiningOp();
    if (!op)
      continue;
    if (llvm::isa<fm::WeightShardOp, fm::WeightSelectShardOp, fm::WeightShardFirstOp,
                  fm::ShardStartOp>(op))
      dependent = true;
    else if (auto read = llvm::dyn_cast<fm::ParamValueOp>(op))
      dependent = rankDependent(symbols_.lookup<fm::ParamOp>(read.getParam()));
    for (mlir::Value operand : op->getOperands())
      pending.push_back(operand);
  }
  rankDependent_[param.getSymName()] = dependent;
  return dependent;
}

std::vector<mlir::Value> InitializerEvaluator::pieces(fm::ParamOp param) {
  std::vector<mlir::Value> result;
  std::vector<mlir::Value> pending{definitionOf(param)};
  while (!pending.empty()) {
    mlir::Value value = pending.back();
    pending.pop_back();
    while (auto reshape = value.getDefiningOp<fm::WeightReshapeOp>())
      value = reshape.getInput();
    auto concat = value.getDefiningOp<fm::WeightConcatOp>();
    if (concat && concat.getDim() == 0) {
      for (mlir::Value input : llvm::reverse(concat.getInputs()))
        pending.push_back(input);
      continue;
    }
    result.push_back(value);
  }
  return result;
}

HostTensor InitializerEvaluator::value(mlir::Value value,
                                       std::vector<std::pair<mlir::Value, HostTensor>>& memo) {
  for (auto& [known, tensor] : memo)
    if (known == value)
      return tensor;
  mlir::Operation* op = value.getDefiningOp();
  if (!op)
    throw Error("initializer: a value without a defining op");
  auto operand = [&](unsigned i) { return this->value(op->getOperand(i), memo); };
  HostTensor result;
  if (auto read = llvm::dyn_cast<fm::ParamValueOp>(op)) {
    auto param = symbols_.lookup<fm::ParamOp>(read.getParam());
    if (!param)
      throw Error("initializer: " + read.getParam().str() + " is not a param");
    result = this->read(param);
  } else if (auto op2 = llvm::dyn_cast<fm::WeightSliceOp>(op)) {
    result = slice(operand(0), op2);
  } else if (auto reshape = llvm::dyn_cast<fm::WeightReshapeOp>(op)) {
    result = operand(0);
    result.shape.assign(reshape.getType().getShape().begin(), reshape.getType().getShape().end());
  } else if (auto op2 = llvm::dyn_cast<fm::WeightTransposeOp>(op)) {
    result = transpose(operand(0), op2);
  } else if (auto op2 = llvm::dyn_cast<fm::WeightDeinterleaveRowsOp>(op)) {
    result = deinterleaveRows(operand(0), op2);
  } else if (auto op2 = llvm::dyn_cast<fm::WeightConcatOp>(op)) {
    std::vector<HostTensor> inputs;
    for (unsigned i = 0; i < op->getNumOperands(); ++i)
      inputs.push_back(operand(i));
    result = concat(inputs, op2);
  } else if (llvm::isa<fm::WeightConvertOp>(op)) {
    result = convert(operand(0), value.getType());
  } else if (auto op2 = llvm::dyn_cast<fm::WeightDequantizeOp>(op)) {
    std::optional<HostTensor> zero;
    if (op2.getZero())
      zero = operand(2);
    result = dequantize(operand(0), operand(1), zero ? &*zero : nullptr, op2);
  } else if (llvm::isa<fm::WeightQuantizeOp, fm::WeightGroupQuantizeOp>(op)) {
    // Data, scales (and zero points) are separate params: the ones not asked for wait for
    // their own evaluation instead of quantizing the weight again.
    for (auto kept = siblings_.begin(); kept != siblings_.end(); ++kept)
      if (kept->first == value) {
        HostTensor tensor = std::move(kept->second);
        siblings_.erase(kept);
        return tensor;
      }
    std::vector<HostTensor> results;
    if (auto fp8 = llvm::dyn_cast<fm::WeightQuantizeOp>(op)) {
      auto [data, scale] = quantize(operand(0), fp8);
      results.push_back(std::move(data));
      results.push_back(std::move(scale));
    } else {
      results = groupQuantize(operand(0), llvm::cast<fm::WeightGroupQuantizeOp>(op));
    }
    HostTensor wanted;
    for (unsigned i = 0; i < op->getNumResults(); ++i) {
      if (op->getResult(i) == value)
        wanted = std::move(results[i]);
      else
        siblings_.emplace_back(op->getResult(i), std::move(results[i]));
    }
    return wanted;
  } else if (auto op2 = llvm::dyn_cast<fm::WeightShardOp>(op)) {
    result = shard(operand(0), op2, rank_);
  } else if (llvm::isa<fm::WeightSelectShardOp>(op)) {
    result = operand(unsigned(rank_ % int64_t(op->getNumOperands())));
  } else if (auto op2 = llvm::dyn_cast<fm::WeightShardFirstOp>(op)) {
    result = operand(0);
    if (shardIndex(rank_, op2.getPartsAttr()) != 0)
      std::fill(result.bytes.begin(), result.bytes.end(), std::byte(0));
  } else if (auto op2 = llvm::dyn_cast<fm::ShardStartOp>(op)) {
    result = allocate(op2.getType());
    const int64_t start = shardIndex(rank_, op2.getPartsAttr()) * op2.getStrideAttr().getInt();
    std::memcpy(result.bytes.data(), &start, sizeof start);
  } else if (auto op2 = llvm::dyn_cast<fm::WeightMatmulOp>(op)) {
    result = matmul(operand(0), operand(1), op2);
  } else if (auto op2 = llvm::dyn_cast<fm::RopeTableOp>(op)) {
    result = ropeTable(op2);
  } else {
    throw Error("initializer: cannot evaluate '" + nameOf(op) + "'");
  }
  // Only values read twice are kept: the others are moved along, so memory holds one copy.
  if (!value.hasOneUse())
    memo.push_back({value, result});
  return result;
}

} // namespace fathom::compiler
