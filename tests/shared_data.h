// Where the tests find the project's shared data (../shared; README there): CTest sets
// COOPGEN_SHARED to it, and a test run by hand from the build's tests/ folder finds it relative.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <string>

namespace coopgen::testing {

// REL (e.g. "data/coco") under the shared folder; the path may not exist (a test then skips).
inline std::filesystem::path shared_path(const std::string& rel) {
  const char* shared = std::getenv("COOPGEN_SHARED");
  return std::filesystem::path(shared ? shared : "../shared") / rel;
}

// The SeqGAN oracle LSTM's weights (safetensors).
inline std::string oracle_file() { return shared_path("data/oracle/seqgan_oracle_lstm.safetensors").string(); }

}  // namespace coopgen::testing
