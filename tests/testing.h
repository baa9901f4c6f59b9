// What the test files share: where they find the project's shared data (../shared; README there),
// their scratch folders, and the skip where the oracle's weights are absent. CTest sets
// COOPGEN_SHARED to the shared folder; a test run by hand from the build's tests/ folder finds it
// relative.
#pragma once
#include <unistd.h>

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

// A test's scratch folder, created: coopgen_test_NAME_PID under the temp folder ($TMPDIR, which
// CTest points into the build tree; the process id keeps concurrent test processes apart). `fresh` empties it first (a run
// folder a test trains into); without it, files written there earlier by the same test stay (a
// helper that writes one file per call into it).
inline std::filesystem::path scratch_dir(const std::string& name, bool fresh = true) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("coopgen_test_" + name + "_" + std::to_string(::getpid()));
  if (fresh) std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace coopgen::testing

// Ends the current Catch2 test case with a warning where the oracle's weights are absent (the
// checks before it have run).
#define COOPGEN_SKIP_WITHOUT_ORACLE()                                          \
  do {                                                                         \
    if (!std::filesystem::exists(coopgen::testing::oracle_file())) {           \
      WARN("skipped from here: " << coopgen::testing::oracle_file() << " not found"); \
      return;                                                                  \
    }                                                                          \
  } while (0)
