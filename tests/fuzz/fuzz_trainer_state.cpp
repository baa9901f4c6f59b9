// libFuzzer target: a checkpoint's trainer_state.json (strict JSON of numbers and strings), then
// every number a resume or a load reads from it validated as they read it (issue 31: a negative
// step once reached an index).
#include <cstdint>
#include <string>

#include "engine/io.h"
#include "trainers/loop/loop.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const coopgen::TrainerState state =
        coopgen::parse_trainer_state(std::string(reinterpret_cast<const char*>(data), size), "fuzz.json");
    coopgen::TransformerConfig model;
    coopgen::apply_stored_shape(model, state, "fuzz");
    coopgen::check_checkpoint_fits(state, model, nullptr, "fuzz");
    (void)state.count("step", 0, int64_t(1) << 53, "fuzz.json");
  } catch (const coopgen::Error&) {
  }
  return 0;
}
