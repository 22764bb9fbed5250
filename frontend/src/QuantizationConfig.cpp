#include "ConfigParsers.h"

#include "fathom/frontend/Json.h"

namespace fathom::frontend {

std::optional<QuantizationConfig> parseQuantizationConfig(const ConfigReader& config) {
  if (!config.has("quantization_config"))
    return std::nullopt;
  ConfigReader params = config.child("quantization_config");
  QuantizationConfig quantization;

  std::optional<std::string> method = params.optionalString("quant_method");
  if (!method)
    params.failRelation("missing required key \"quant_method\" (\"fp8\")");
  if (*method != "fp8")
    params.fail("quant_method", "names an unsupported quantization \"" + *method +
                                    "\" (supported: \"fp8\", DeepSeek's block-scaled FP8)");
  quantization.quantMethod = *method;

  std::string format = params.choiceOr("fmt", "e4m3", {"e4m3", "e5m2"});
  quantization.weightDType = format == "e4m3" ? DType::F8E4M3 : DType::F8E5M2;
  quantization.activationScheme =
      params.choiceOr("activation_scheme", "dynamic", {"dynamic", "static"});

  if (const nlohmann::json* blockSize = params.find("weight_block_size")) {
    bool valid = blockSize->is_array() && blockSize->size() == 2;
    for (size_t i = 0; valid && i < 2; ++i)
      valid = isNonNegativeInteger((*blockSize)[i]) && (*blockSize)[i].get<uint64_t>() >= 1 &&
              (*blockSize)[i].get<uint64_t>() <= (1u << 20);
    if (!valid)
      params.fail("weight_block_size", "must be [rows, columns] of positive integers, got " +
                                           describeJsonValue(*blockSize));
    quantization.weightBlockSize = {(*blockSize)[0].get<int64_t>(), (*blockSize)[1].get<int64_t>()};
  }
  if (params.has("scale_fmt"))
    quantization.scaleFormat = params.choiceOr("scale_fmt", "", {"ue8m0"});
  return quantization;
}

} // namespace fathom::frontend
