#include "CrossBackendHarness.h"

#include "fathom/runtime/Error.h"
#include "fathom/runtime/Numeric.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace fathom::testing {
namespace {

// Device memory owned for one run.
class DeviceBytes {
public:
  DeviceBytes(backend::Backend& backend, size_t bytes)
      : backend_(backend), data_(backend.allocate(bytes)) {}
  ~DeviceBytes() { backend_.release(data_); }
  DeviceBytes(const DeviceBytes&) = delete;
  DeviceBytes& operator=(const DeviceBytes&) = delete;
  void* data() const { return data_; }

private:
  backend::Backend& backend_;
  void* data_;
};

class HarnessContext final : public backend::CallContext {
public:
  HarnessContext(const HarnessCase& kase, const std::vector<std::byte*>& buffers,
                 const std::vector<backend::Weight>& weights)
      : case_(kase), buffers_(buffers), weights_(weights) {}

  backend::Tensor tensor(const fb::View& view) const override {
    const size_t index = size_t(view.buffer());
    if (index >= buffers_.size())
      throw Error("harness: view of buffer " + std::to_string(index) + " past the case's buffers");
    const HarnessBuffer& buffer = case_.buffers[index];
    backend::Tensor t;
    t.type = buffer.type;
    t.batches = buffer.batches;
    t.rowsPerBatch = buffer.rowsPerBatch;
    t.capacityPerBatch = buffer.rowsPerBatch;
    t.rowStride = int64_t(view.row_stride());
    t.batchStride =
        view.batch_stride() ? int64_t(view.batch_stride()) : buffer.rowsPerBatch * t.rowStride;
    t.heads = std::max<uint32_t>(view.heads(), 1);
    t.headDim = view.head_dim();
    t.headStride = int64_t(view.head_stride());
    t.data = buffers_[index] + view.offset() * dtypeSize(buffer.type);
    return t;
  }
  const backend::Weight& weight(int32_t index) const override { return weights_.at(size_t(index)); }
  const backend::StepShape& step() const override { return step_; }
  bool planning() const override { return planning_; }
  void setPlanning(bool planning) { planning_ = planning; }

private:
  const HarnessCase& case_;
  const std::vector<std::byte*>& buffers_;
  const std::vector<backend::Weight>& weights_;
  backend::StepShape step_;
  bool planning_ = false;
};

template <class T> std::vector<std::byte> bytesOf(const std::vector<T>& values) {
  std::vector<std::byte> bytes(values.size() * sizeof(T));
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

} // namespace

std::vector<std::vector<std::byte>> runCase(backend::Backend& backend, const HarnessCase& kase) {
  std::vector<std::unique_ptr<DeviceBytes>> memory;
  std::vector<std::byte*> buffers;
  for (const HarnessBuffer& buffer : kase.buffers) {
    memory.push_back(std::make_unique<DeviceBytes>(backend, buffer.host.size()));
    backend.copyToDevice(memory.back()->data(), buffer.host.data(), buffer.host.size());
    buffers.push_back(static_cast<std::byte*>(memory.back()->data()));
  }
  std::vector<backend::Weight> weights;
  for (const HarnessWeight& w : kase.weights) {
    backend::Weight weight{w.name, w.type, w.shape, nullptr};
    memory.push_back(std::make_unique<DeviceBytes>(backend, w.data.size()));
    backend.copyToDevice(memory.back()->data(), w.data.data(), w.data.size());
    weight.data = memory.back()->data();
    if (!w.scales.empty()) {
      memory.push_back(std::make_unique<DeviceBytes>(backend, w.scales.size() * sizeof(float)));
      backend.copyToDevice(memory.back()->data(), w.scales.data(), w.scales.size() * sizeof(float));
      weight.scales = static_cast<const float*>(memory.back()->data());
      weight.blockRows = w.blockRows;
      weight.blockCols = w.blockCols;
    }
    weights.push_back(weight);
  }
  flatbuffers::FlatBufferBuilder builder;
  builder.Finish(fb::KernelCall::Pack(builder, &kase.call));
  const auto* call = flatbuffers::GetRoot<fb::KernelCall>(builder.GetBufferPointer());
  backend::PlanLimits limits;
  for (const HarnessBuffer& buffer : kase.buffers) {
    limits.maxBatch = std::max(limits.maxBatch, buffer.batches);
    limits.maxTokens = std::max(limits.maxTokens, buffer.rowsPerBatch);
  }
  limits.maxSeqLen = limits.maxTokens;
  std::unique_ptr<backend::Kernel> kernel = backend.prepare(*call, weights, limits);
  HarnessContext context(kase, buffers, weights);
  context.setPlanning(true);
  kernel->run(context);
  context.setPlanning(false);
  kernel->run(context);
  backend.synchronize();
  std::vector<std::vector<std::byte>> results;
  for (size_t i = 0; i < kase.buffers.size(); ++i) {
    results.emplace_back(kase.buffers[i].host.size());
    backend.copyToHost(results.back().data(), buffers[i], results.back().size());
  }
  return results;
}

std::unique_ptr<fb::View> view(int32_t buffer, uint64_t rowStride, uint32_t headDim, uint32_t heads,
                               uint64_t headStride, uint64_t offset, uint64_t batchStride) {
  return std::make_unique<fb::View>(buffer, fb::Extent::Fixed, 0, offset, rowStride, batchStride,
                                    heads, headDim, headStride);
}

HarnessBuffer randomBuffer(std::mt19937& rng, DType type, int64_t batches, int64_t rowsPerBatch,
                           int64_t width, float scale, int64_t rowStride) {
  HarnessBuffer buffer;
  buffer.type = type;
  buffer.batches = batches;
  buffer.rowsPerBatch = rowsPerBatch;
  buffer.rowStride = rowStride ? rowStride : width;
  const size_t count = size_t(batches * rowsPerBatch * buffer.rowStride);
  std::normal_distribution<float> normal(0.0f, scale);
  if (type == DType::F32) {
    std::vector<float> values(count);
    for (float& v : values)
      v = normal(rng);
    buffer.host = bytesOf(values);
  } else if (type == DType::BF16) {
    std::vector<uint16_t> values(count);
    for (uint16_t& v : values)
      v = floatToBf16(normal(rng));
    buffer.host = bytesOf(values);
  } else if (type == DType::I64) {
    std::vector<int64_t> values(count);
    for (int64_t& v : values)
      v = int64_t(rng() % uint32_t(std::max(1.0f, scale)));
    buffer.host = bytesOf(values);
  } else {
    throw Error("harness: no random " + std::string(dtypeName(type)) + " buffers");
  }
  return buffer;
}

HarnessBuffer indexBuffer(const std::vector<int64_t>& values, int64_t batches) {
  HarnessBuffer buffer;
  buffer.type = DType::I64;
  buffer.batches = batches;
  buffer.rowsPerBatch = int64_t(values.size()) / batches;
  buffer.rowStride = 1;
  buffer.host = bytesOf(values);
  return buffer;
}

HarnessBuffer maskBuffer(const std::vector<uint8_t>& values, int64_t batches) {
  HarnessBuffer buffer;
  buffer.type = DType::Bool;
  buffer.batches = batches;
  buffer.rowsPerBatch = int64_t(values.size()) / batches;
  buffer.rowStride = 1;
  buffer.host = bytesOf(values);
  return buffer;
}

HarnessWeight tableWeight(const std::string& name, DType type, int64_t rows, int64_t cols,
                          float phase) {
  HarnessWeight weight{name, type, {rows, cols}, {}, {}, 0, 0};
  std::vector<float> values(size_t(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      values[size_t(r * cols + c)] =
          std::cos(phase + float(r) / std::pow(10.0f, float(c) / float(cols)));
  if (type == DType::F32) {
    weight.data = bytesOf(values);
  } else {
    std::vector<uint16_t> bits(values.size());
    for (size_t i = 0; i < values.size(); ++i)
      bits[i] = floatToBf16(values[i]);
    weight.data = bytesOf(bits);
  }
  return weight;
}

HarnessWeight randomWeight(std::mt19937& rng, const std::string& name, DType type,
                           std::vector<int64_t> shape, float scale) {
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  HarnessBuffer values = randomBuffer(rng, type, 1, count, 1, scale);
  return {name, type, std::move(shape), std::move(values.host), {}, 0, 0};
}

HarnessWeight randomFp8Weight(std::mt19937& rng, const std::string& name, int64_t rows,
                              int64_t cols, int64_t blockRows, int64_t blockCols) {
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<float> w(size_t(rows * cols));
  for (float& v : w)
    v = normal(rng);
  const int64_t gridRows = (rows + blockRows - 1) / blockRows;
  const int64_t gridCols = (cols + blockCols - 1) / blockCols;
  HarnessWeight weight{name, DType::F8E4M3, {rows, cols}, {}, {}, blockRows, blockCols};
  weight.scales.assign(size_t(gridRows * gridCols), 1.0f);
  weight.data.resize(size_t(rows * cols));
  for (int64_t br = 0; br < gridRows; ++br)
    for (int64_t bc = 0; bc < gridCols; ++bc) {
      float amax = 0.0f;
      for (int64_t r = br * blockRows; r < std::min(rows, (br + 1) * blockRows); ++r)
        for (int64_t c = bc * blockCols; c < std::min(cols, (bc + 1) * blockCols); ++c)
          amax = std::max(amax, std::fabs(w[size_t(r * cols + c)]));
      const float scale = amax > 0.0f ? amax / 448.0f : 1.0f;
      weight.scales[size_t(br * gridCols + bc)] = scale;
      for (int64_t r = br * blockRows; r < std::min(rows, (br + 1) * blockRows); ++r)
        for (int64_t c = bc * blockCols; c < std::min(cols, (bc + 1) * blockCols); ++c)
          weight.data[size_t(r * cols + c)] =
              std::byte(floatToF8e4m3(w[size_t(r * cols + c)] / scale));
    }
  return weight;
}

double elementAt(const std::vector<std::byte>& bytes, DType type, size_t i) {
  switch (type) {
  case DType::F32: {
    float v;
    std::memcpy(&v, bytes.data() + i * 4, 4);
    return v;
  }
  case DType::BF16: {
    uint16_t v;
    std::memcpy(&v, bytes.data() + i * 2, 2);
    return bf16ToFloat(v);
  }
  case DType::I64: {
    int64_t v;
    std::memcpy(&v, bytes.data() + i * 8, 8);
    return double(v);
  }
  case DType::I32: {
    int32_t v;
    std::memcpy(&v, bytes.data() + i * 4, 4);
    return double(v);
  }
  case DType::Bool:
    return double(uint8_t(bytes[i]));
  default:
    throw Error("harness: cannot read " + std::string(dtypeName(type)) + " elements");
  }
}

} // namespace fathom::testing
