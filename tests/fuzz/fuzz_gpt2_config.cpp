// libFuzzer target: a GPT-2 folder's config.json (parse_gpt2_config), the shape it gives checked
// as a model is before it is built.
#include <cstdint>
#include <string>

#include "core/error.h"
#include "models/gpt2.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const coopgen::Gpt2Shape s =
        coopgen::parse_gpt2_config(std::string(reinterpret_cast<const char*>(data), size), "fuzz/config.json");
    if (s.model.layers < 1 || s.model.layers > coopgen::kMaxLayers || s.model.d_model % s.model.heads != 0 ||
        s.vocab < 1 || s.vocab > coopgen::kMaxVocab || s.model.max_len < 2 || s.model.max_len > coopgen::kMaxPositions)
      __builtin_trap();  // a shape the reader should have refused
    (void)s.model.parameters(s.vocab);
  } catch (const coopgen::Error&) {
  }
  return 0;
}
