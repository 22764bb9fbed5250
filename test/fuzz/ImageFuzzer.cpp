// An image file (JPEG, PNG or anything else), or an image processor config (JSON) and an image
// joined by the separator line: decodeImage as fathom-run would (with a 4 Mpixel bound so that
// each run stays small), then the DeepSeek-VL processor, at tiny-vl's 32 px unless the config
// says otherwise.
#include "FuzzSupport.h"
#include "fathom/image/ImageProcessor.h"
#include "fathom/runtime/Error.h"
#include "fathom/runtime/Json.h"

#include <algorithm>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fathom;
  try {
    image::ImageProcessorConfig config;
    config.size = 32;
    config.imageMean = config.imageStd = {0.5, 0.5, 0.5};
    config.backgroundColor = {127, 127, 127};
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    if (!bytes.empty() && bytes.front() == '{') {
      std::vector<std::string_view> parts = fuzz::splitParts(data, size, 2);
      config = image::parseImageProcessorConfig(
          parseJsonStrict(parts[0], "preprocessor_config.json"), "preprocessor_config.json");
      bytes = parts[1];
    }
    image::DecodeOptions options;
    options.maxPixels = uint64_t(1) << 22;
    image::RgbImage decoded = image::decodeImage(
        {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, "input", options);
    image::ImageProcessor processor(config);
    // Outputs up to 4096 px a side are legal but slow the fuzzer without reaching new code.
    image::ProcessedSize sizes = processor.sizes(decoded.width, decoded.height);
    if (std::max(sizes.outputWidth, sizes.outputHeight) <= 256)
      (void)processor.preprocess(decoded);
  } catch (const Error&) {
  }
  return 0;
}
