// A safetensors file: header length, JSON header, data. Every tensor the file admits to is read
// end to end, so a view past the mapped bytes would fault.
#include "FuzzSupport.h"
#include "fathom/frontend/SafetensorsFile.h"
#include "fathom/runtime/Error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fathom;
  fuzz::clearScratch();
  auto path = fuzz::writeScratchFile("model.safetensors",
                                     std::string_view(reinterpret_cast<const char*>(data), size));
  try {
    frontend::SafetensorsFile file = frontend::SafetensorsFile::open(path);
    volatile uint8_t sink = 0;
    for (const frontend::TensorEntry& entry : file.entries()) {
      frontend::TensorView view = file.view(entry);
      for (size_t i = 0; i < view.bytes().size(); i += 4096)
        sink = sink ^ uint8_t(view.bytes()[i]);
    }
  } catch (const Error&) {
  }
  return 0;
}
