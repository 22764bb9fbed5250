#pragma once
// config.json "quantization_config" for DeepSeek's block-quantized FP8 checkpoints:
// {"quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic",
//  "weight_block_size": [128, 128], "scale_fmt": "ue8m0" (V3.1, optional)}.
#include "fathom/runtime/DType.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace fathom::frontend {

struct QuantizationConfig {
  std::string quantMethod = "fp8";
  // "fmt": the storage type of quantized weights.
  DType weightDType = DType::F8E4M3;
  // "dynamic": activations are quantized per token and 128 channels at run time.
  std::string activationScheme = "dynamic";
  // Rows x columns of weight covered by one float32 weight_scale_inv entry.
  std::array<int64_t, 2> weightBlockSize{128, 128};
  // "ue8m0" when scales are powers of two (V3.1); absent for plain fp32 scales.
  std::optional<std::string> scaleFormat;
};

} // namespace fathom::frontend
