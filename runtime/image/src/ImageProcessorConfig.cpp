// Reading DeepseekVLImageProcessor settings from JSON. Every field is checked for type and range
// here, with the JSON path in the message, so that a bad checkpoint or artifact fails at load and
// not in the middle of a prompt.
#include "ConfigRules.h"

#include "fathom/image/ImageProcessor.h"
#include "fathom/runtime/Error.h"
#include "fathom/runtime/Json.h"

#include <cmath>
#include <string_view>

namespace fathom::image {
namespace {

using Json = nlohmann::json;

// Field access with messages "<where>: <prefix><key>: <problem>".
struct Fields {
  const Json& object;
  const std::string& where;
  std::string prefix;

  std::string path(std::string_view key) const { return prefix + std::string(key); }
  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    throw Error(where + ": " + field + ": " + problem);
  }
  const Json* find(std::string_view key) const {
    auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
  }

  void readBool(std::string_view key, bool& out) const {
    if (const Json* value = find(key)) {
      if (!value->is_boolean())
        fail(path(key), "expected true or false, got " + describeJsonValue(*value));
      out = value->get<bool>();
    }
  }

  // An integer in [low, high]; `field` is the full path for nested values.
  static int64_t integer(const Fields& f, const Json& value, const std::string& field, int64_t low,
                         int64_t high) {
    bool ok = false;
    int64_t number = 0;
    if (value.is_number_unsigned()) {
      ok = value.get<uint64_t>() <= uint64_t(high);
      number = ok ? int64_t(value.get<uint64_t>()) : 0;
      ok = ok && number >= low;
    } else if (value.is_number_integer()) {
      number = value.get<int64_t>();
      ok = number >= low && number <= high;
    }
    if (!ok)
      f.fail(field, "expected an integer from " + std::to_string(low) + " to " +
                        std::to_string(high) + ", got " + describeJsonValue(value));
    return number;
  }

  static double finiteNumber(const Fields& f, const Json& value, const std::string& field) {
    if (!value.is_number() || !std::isfinite(value.get<double>()))
      f.fail(field, "expected a number, got " + describeJsonValue(value));
    return value.get<double>();
  }

  void readTriple(std::string_view key, std::array<double, 3>& out) const {
    const Json* value = find(key);
    if (!value)
      return;
    if (!value->is_array() || value->size() != 3)
      fail(path(key),
           "expected a list of 3 numbers (one per RGB channel), got " + describeJsonValue(*value));
    for (size_t i = 0; i < 3; ++i)
      out[i] = finiteNumber(*this, (*value)[i], path(key) + "[" + std::to_string(i) + "]");
  }
};

// "size": 384 or {"height": 384, "width": 384}; DeepseekVLImageProcessor needs a square.
int readSize(const Fields& f) {
  const Json* value = f.find("size");
  if (!value)
    return ImageProcessorConfig{}.size;
  const std::string field = f.path("size");
  if (value->is_number())
    return int(Fields::integer(f, *value, field, 1, kMaxProcessedSide));
  if (!value->is_object())
    f.fail(field, "expected an integer or {\"height\": n, \"width\": n}, got " +
                      describeJsonValue(*value));
  for (const auto& [key, item] : value->items())
    if (key != "height" && key != "width")
      f.fail(field, "unsupported key \"" + key +
                        "\" (DeepseekVLImageProcessor takes only height and width)");
  auto side = [&](const char* key) {
    auto it = value->find(key);
    if (it == value->end())
      f.fail(field, std::string("missing \"") + key + "\"");
    return Fields::integer(f, *it, field + "." + key, 1, kMaxProcessedSide);
  };
  int64_t height = side("height"), width = side("width");
  if (height != width)
    f.fail(field, "height " + std::to_string(height) + " and width " + std::to_string(width) +
                      " differ (DeepseekVLImageProcessor resizes the longer side to one size)");
  return int(height);
}

constexpr std::string_view kProcessorTypes[] = {
    "DeepseekVLImageProcessor", "DeepseekVLImageProcessorFast", "DeepseekVLImageProcessorPil"};

ImageProcessorConfig parseFields(const Json& json, const std::string& where,
                                 const std::string& prefix) {
  if (!json.is_object()) {
    std::string field = prefix.empty() ? "" : prefix.substr(0, prefix.size() - 1) + ": ";
    throw Error(where + ": " + field + "expected a JSON object, got " + describeJsonValue(json));
  }
  Fields f{json, where, prefix};
  if (const Json* type = f.find("image_processor_type")) {
    bool known = false;
    for (std::string_view name : kProcessorTypes)
      known = known || (type->is_string() && type->get<std::string>() == name);
    if (!known)
      f.fail(f.path("image_processor_type"),
             describeJsonValue(*type) +
                 " is not supported (expected DeepseekVLImageProcessor, its Fast or Pil "
                 "variant; Fathom reproduces the Pil one)");
  }
  ImageProcessorConfig config;
  f.readBool("do_resize", config.doResize);
  config.size = readSize(f);
  if (const Json* value = f.find("min_size"))
    config.minSize = int(Fields::integer(f, *value, f.path("min_size"), 1, kMaxProcessedSide));
  if (const Json* value = f.find("resample")) {
    // PIL.Image.Resampling: 0..5, and in Pillow 13 also 6 MKS2013 and 7 MKS2021.
    int64_t number = Fields::integer(f, *value, f.path("resample"), 0, 7);
    std::optional<Resample> filter = resampleFromPil(number);
    if (!filter) {
      static constexpr const char* kNames[] = {"", "", "", "", "", "", "MKS2013", "MKS2021"};
      f.fail(f.path("resample"),
             std::to_string(number) + " (" + kNames[number] + ") " + detail::kUnsupportedFilter);
    }
    config.resample = *filter;
  }
  f.readBool("do_rescale", config.doRescale);
  if (const Json* value = f.find("rescale_factor"))
    config.rescaleFactor = Fields::finiteNumber(f, *value, f.path("rescale_factor"));
  f.readBool("do_normalize", config.doNormalize);
  f.readTriple("image_mean", config.imageMean);
  f.readTriple("image_std", config.imageStd);
  f.readBool("do_pad", config.doPad);
  if (const Json* value = f.find("do_convert_rgb"); value && !value->is_null()) {
    if (!value->is_boolean())
      f.fail(f.path("do_convert_rgb"),
             "expected true, false or null, got " + describeJsonValue(*value));
    config.doConvertRgb = value->get<bool>();
  }
  // Checked although unused: transformers overwrites it with int(mean * 255) (see the header).
  if (const Json* value = f.find("background_color")) {
    if (!value->is_array() || value->size() != 3)
      f.fail(f.path("background_color"),
             "expected a list of 3 integers from 0 to 255, got " + describeJsonValue(*value));
    for (size_t i = 0; i < 3; ++i)
      Fields::integer(f, (*value)[i], f.path("background_color") + "[" + std::to_string(i) + "]", 0,
                      255);
  }
  config.backgroundColor = detail::backgroundFromMean(config.imageMean);
  detail::checkConfig(config, where, prefix);
  return config;
}

} // namespace

ImageProcessorConfig parseImageProcessorConfig(const nlohmann::json& json,
                                               const std::string& where) {
  return parseFields(json, where, "");
}

ImageProcessorConfig loadImageProcessorConfig(const std::filesystem::path& checkpointDir) {
  const std::filesystem::path processor = checkpointDir / "processor_config.json";
  const std::filesystem::path preprocessor = checkpointDir / "preprocessor_config.json";
  std::error_code error;
  if (std::filesystem::is_regular_file(processor, error)) {
    Json json = loadJsonFile(processor);
    if (json.is_object() && json.contains("image_processor"))
      return parseFields(json["image_processor"], processor.string(), "image_processor.");
  }
  if (std::filesystem::is_regular_file(preprocessor, error))
    return parseFields(loadJsonFile(preprocessor), preprocessor.string(), "");
  throw Error(checkpointDir.string() +
              ": no image processor settings (neither processor_config.json with an "
              "\"image_processor\" nor preprocessor_config.json)");
}

} // namespace fathom::image
