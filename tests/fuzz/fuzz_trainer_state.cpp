// libFuzzer target: a checkpoint's trainer_state.json (strict JSON of numbers and strings).
#include <cstdint>
#include <string>

#include "engine/io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const coopgen::TrainerState state =
        coopgen::parse_trainer_state(std::string(reinterpret_cast<const char*>(data), size), "fuzz.json");
    (void)state.numbers.size();
  } catch (const coopgen::Error&) {
  }
  return 0;
}
