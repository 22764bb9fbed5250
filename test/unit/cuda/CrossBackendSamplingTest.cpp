// Backend::selectTokens on the device against the host sampler (runtime/backends/cpu Sampling.h)
// given the same draws: argmax, temperature, top-k (ties at the k-th value included), top-p,
// min_tokens_to_keep, -inf logits, both logit types, vocabularies from 1 to DeepSeek-V3's; the
// first NaN or +inf of a row reported; the choices the device leaves to the host declined.
#include "CrossBackendFixture.h"
#include "fathom/cpu/Sampling.h"
#include "fathom/runtime/Numeric.h"

#include <limits>

namespace fathom::testing {
namespace {

struct Logits {
  DType type;
  int64_t rows, n;
  std::vector<float> values; // as the device holds them (bf16-rounded for BF16)
};

class DeviceLogits {
public:
  DeviceLogits(backend::Backend& device, const Logits& logits) : device_(device) {
    const size_t element = dtypeSize(logits.type);
    std::vector<std::byte> bytes(logits.values.size() * element);
    for (size_t i = 0; i < logits.values.size(); ++i)
      storeFloat(logits.type, logits.values[i], bytes.data() + i * element);
    data_ = device.allocate(bytes.size());
    device.copyToDevice(data_, bytes.data(), bytes.size());
    device.synchronize();
    tensor_.data = static_cast<std::byte*>(data_);
    tensor_.type = logits.type;
    tensor_.rowsPerBatch = logits.rows;
    tensor_.rowStride = tensor_.headDim = logits.n;
  }
  ~DeviceLogits() { device_.release(data_); }
  const backend::Tensor& tensor() const { return tensor_; }

private:
  backend::Backend& device_;
  void* data_ = nullptr;
  backend::Tensor tensor_;
};

Logits randomLogits(std::mt19937& rng, DType type, int64_t rows, int64_t n) {
  std::normal_distribution<float> normal(0.0f, 3.0f);
  Logits l{type, rows, n, std::vector<float>(size_t(rows * n))};
  for (float& v : l.values)
    v = type == DType::BF16 ? roundToBf16(normal(rng)) : normal(rng);
  return l;
}

class DeviceTokenChoice : public CrossBackend {
protected:
  void SetUp() override {
    CrossBackend::SetUp();
    if (!IsSkipped() && cuda_->name() == "cpu")
      GTEST_SKIP() << "the CPU backend chooses tokens on the host (its selectTokens declines): "
                      "the host sampler is the reference these cases compare the device with";
  }

  // The device's choices for every row, or nullopt where it declined.
  std::optional<std::vector<backend::SelectedToken>> onDevice(const Logits& logits,
                                                              const backend::TokenChoice& choice,
                                                              const std::vector<double>& draws) {
    DeviceLogits device(*cuda_, logits);
    std::vector<backend::SelectedToken> selected(size_t(logits.rows));
    if (!cuda_->selectTokens(device.tensor(), choice, draws.data(), selected.data()))
      return std::nullopt;
    return selected;
  }

  void expectHostChoices(const Logits& logits, const backend::TokenChoice& choice,
                         const std::string& label) {
    SCOPED_TRACE(label);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::vector<double> draws;
    for (int64_t r = 0; r < logits.rows; ++r)
      draws.push_back(uniform(rng_));
    const auto got = onDevice(logits, choice, draws);
    ASSERT_TRUE(got.has_value()) << "the device declined";
    cpu::ScratchBuffer scratch(cpu::samplingScratchBytes(logits.n));
    for (int64_t r = 0; r < logits.rows; ++r) {
      std::vector<float> row(logits.values.begin() + r * logits.n,
                             logits.values.begin() + (r + 1) * logits.n);
      const int64_t want =
          cpu::selectToken(row.data(), logits.n, choice, draws[size_t(r)], scratch.span());
      EXPECT_EQ((*got)[size_t(r)].nonFinite, -1) << "row " << r;
      EXPECT_EQ((*got)[size_t(r)].token, want) << "row " << r;
    }
  }
};

TEST_F(DeviceTokenChoice, ChoosesAsTheHostSamplerDoesWithTheSameDraws) {
  const std::vector<std::pair<const char*, backend::TokenChoice>> choices = {
      {"greedy", {}},
      {"top-k 1", {true, 1.0f, 1, 1.0, 1}},
      {"temperature 0.6, top-k 50", {true, 0.6f, 50, 1.0, 1}},
      {"DeepSeek's: temperature 0.6, top-k 50, top-p 0.95", {true, 0.6f, 50, 0.95, 1}},
      {"temperature 1.3, top-k 2000, top-p 0.9, keep 3", {true, 1.3f, 2000, 0.9, 3}},
      {"top-p 0.5, top-k 10, keep 0", {true, 1.0f, 10, 0.5, 0}},
  };
  for (DType type : {DType::F32, DType::BF16})
    for (int64_t n : {int64_t(1), int64_t(7), int64_t(1000), int64_t(129280)}) {
      Logits logits = randomLogits(rng_, type, 4, n);
      // Ties at the top and filtered entries: the first row's largest value three times, some
      // -inf entries in the second.
      if (n >= 7) {
        const float top = *std::max_element(logits.values.begin(), logits.values.begin() + n);
        logits.values[1] = logits.values[4] = top;
        for (int64_t i = 0; i < n; i += 3)
          logits.values[size_t(n + i)] = -std::numeric_limits<float>::infinity();
      }
      for (const auto& [label, choice] : choices)
        expectHostChoices(logits, choice,
                          std::string(label) + ", " + std::string(dtypeName(type)) + ", vocab " +
                              std::to_string(n));
    }
}

TEST_F(DeviceTokenChoice, TiesAtTheKthValueSurviveTopK) {
  Logits logits = randomLogits(rng_, DType::F32, 2, 5000);
  for (int64_t i = 0; i < 300; ++i) // 300 equal values at the top: top-k 40 keeps all of them
    logits.values[size_t(i * 16)] = 20.0f;
  expectHostChoices(logits, {true, 0.8f, 40, 0.9, 1}, "300 tied maxima, top-k 40");
}

TEST_F(DeviceTokenChoice, ReportsTheFirstNanOrInfinityOfARow) {
  Logits logits = randomLogits(rng_, DType::F32, 3, 1000);
  const float inf = std::numeric_limits<float>::infinity(), nan = std::nanf("");
  logits.values[1000 + 700] = nan;
  logits.values[1000 + 300] = inf;
  logits.values[2000 + 999] = nan;
  for (bool sample : {false, true}) {
    const auto got = onDevice(logits, {sample, 1.0f, 50, 1.0, 1}, {0.5, 0.5, 0.5});
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ((*got)[0].nonFinite, -1);
    EXPECT_EQ((*got)[1].nonFinite, 300);
    EXPECT_FALSE((*got)[1].nan);
    EXPECT_EQ((*got)[2].nonFinite, 999);
    EXPECT_TRUE((*got)[2].nan);
  }
}

TEST_F(DeviceTokenChoice, LeavesToTheHostWhatItDoesNotChoose) {
  Logits logits = randomLogits(rng_, DType::F32, 2, 4000);
  const std::vector<double> draws = {0.25, 0.75};
  EXPECT_FALSE(onDevice(logits, {true, 1.0f, 0, 0.9, 1}, draws)) << "top-p without top-k";
  EXPECT_FALSE(onDevice(logits, {true, 1.0f, 3000, 1.0, 1}, draws)) << "k past the candidates";
  EXPECT_FALSE(onDevice(logits, {true, 0.0f, 50, 1.0, 1}, draws)) << "temperature 0";
  for (int64_t i = 0; i < 2500; ++i) // more tied survivors than the device sorts
    logits.values[size_t(i)] = 30.0f;
  EXPECT_FALSE(onDevice(logits, {true, 1.0f, 5, 1.0, 1}, draws)) << "2500 tied maxima";
}

} // namespace
} // namespace fathom::testing
