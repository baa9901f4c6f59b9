// libFuzzer target: the config loader. The input is YAML text, optionally followed by a line
// "#overrides" and command-line overrides, one `key.sub=value` per line; the whole RunConfig is
// read and written back. Refusals are coopgen::Error; anything else is a finding.
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "engine/config.h"
#include "trainers/loop/run_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> overrides;
  if (const size_t at = text.find("\n#overrides\n"); at != std::string::npos) {
    std::istringstream lines(text.substr(at + 12));
    for (std::string line; std::getline(lines, line);)
      if (!line.empty()) overrides.push_back(line);
    text.resize(at);
  }
  try {
    coopgen::ConfigSource src;
    const YAML::Node root = coopgen::parse_yaml(text, "fuzz.yaml", overrides, src);
    const auto cfg = coopgen::read_config<coopgen::RunConfig>(root, src);
    (void)coopgen::dump_config(cfg);
  } catch (const coopgen::Error&) {
  }
  return 0;
}
