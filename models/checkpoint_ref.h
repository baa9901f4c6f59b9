// Where a model's weights are read from, as a config key (model.init,
// discriminator.init_checkpoint) or a command's --checkpoint spells it: "DIR", a coopgen checkpoint
// folder (a run's checkpoint/ or checkpoint_best/), or "hf_gpt2:DIR", a transformers GPT-2 folder
// (models/gpt2.h); "" none. The config reader reads such a key through `parse` and writes it back
// through `str` (engine/config.h: ConfigText), so code asks `format`, never the text.
#pragma once
#include <string>
#include <string_view>

#include "core/error.h"

namespace coopgen {

struct CheckpointRef {
  enum class Format { coopgen, hf_gpt2 };
  Format format = Format::coopgen;
  std::string dir;  // empty: none

  bool empty() const { return dir.empty(); }
  // The one reader of the spelling. Errors: "hf_gpt2:" naming no folder.
  static CheckpointRef parse(const std::string& text) {
    static constexpr std::string_view kHfGpt2 = "hf_gpt2:";
    if (!text.starts_with(kHfGpt2)) return {Format::coopgen, text};
    if (text.size() == kHfGpt2.size()) fail("'", text, "' names no folder (hf_gpt2:DIR)");
    return {Format::hf_gpt2, text.substr(kHfGpt2.size())};
  }
  std::string str() const { return format == Format::hf_gpt2 ? "hf_gpt2:" + dir : dir; }
};

}  // namespace coopgen
