// libFuzzer target: the safetensors reader on arbitrary bytes. A refusal (coopgen::Error) is the
// expected outcome of most inputs; a crash, a sanitizer report, a leak or any other exception is a
// finding (tests/fuzz/README.md).
#include <cstdint>
#include <string>

#include "engine/io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    coopgen::Metadata metadata;
    const auto tensors = coopgen::parse_safetensors(std::string(reinterpret_cast<const char*>(data), size), "fuzz", &metadata);
    for (const auto& [name, t] : tensors) (void)t.numel();
  } catch (const coopgen::Error&) {
  }
  return 0;
}
