#pragma once
// The cross-backend tests' fixture: a CPU and a CUDA backend (the test skips, saying why, where
// CUDA cannot start), and the comparison of every buffer a case leaves. FATHOM_CROSS_BACKEND
// names another backend to compare with the CPU instead (`cpu` checks, without a GPU, that
// every case is one the CPU accepts and runs deterministically).
#include "CrossBackendHarness.h"
#include "Registry.h"
#include "fathom/runtime/Error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

namespace fathom::testing {

struct Tolerance {
  double relative = 0.0, absolute = 0.0; // |cpu - cuda| <= absolute + relative * |cpu|
};

// bf16 results may round the other way after a differently ordered fp32 sum: one bf16 ulp.
constexpr Tolerance kExact{0.0, 0.0};
constexpr Tolerance kBf16Ulp{1.0 / 128, 1e-6};

class CrossBackend : public ::testing::Test {
protected:
  void SetUp() override {
    const char* other = std::getenv("FATHOM_CROSS_BACKEND");
    try {
      cuda_ = backend::createBackend(other ? other : "cuda", {});
    } catch (const Error& error) {
      GTEST_SKIP() << "no CUDA backend to compare with the CPU here: " << error.what();
    }
    cpu_ = backend::createBackend("cpu", {});
  }

  void expectSame(const HarnessCase& kase, Tolerance tolerance) {
    SCOPED_TRACE(kase.label);
    const auto expected = runCase(*cpu_, kase);
    const auto actual = runCase(*cuda_, kase);
    for (size_t b = 0; b < kase.buffers.size(); ++b) {
      const DType type = kase.buffers[b].type;
      const size_t count = expected[b].size() / dtypeSize(type);
      size_t mismatches = 0;
      for (size_t i = 0; i < count && mismatches < 8; ++i) {
        const double want = elementAt(expected[b], type, i), got = elementAt(actual[b], type, i);
        const bool same =
            (std::isnan(want) && std::isnan(got)) ||
            std::fabs(want - got) <= tolerance.absolute + tolerance.relative * std::fabs(want);
        if (!same) {
          ADD_FAILURE() << "buffer " << b << " element " << i << ": cpu " << want << ", cuda "
                        << got;
          ++mismatches;
        }
      }
    }
  }

  std::mt19937 rng_{2026};
  std::unique_ptr<backend::Backend> cpu_, cuda_;
};

} // namespace fathom::testing
