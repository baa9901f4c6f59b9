// What the test files share: where they find the project's shared data (../shared; README there),
// their scratch folders, and the skip where the oracle's weights are absent. CTest sets
// COOPGEN_SHARED to the shared folder; a test run by hand from the build's tests/ folder finds it
// relative.
#pragma once
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>

namespace coopgen::testing {

// REL (e.g. "data/coco") under the shared folder; the path may not exist (a test then skips).
inline std::filesystem::path shared_path(const std::string& rel) {
  const char* shared = std::getenv("COOPGEN_SHARED");
  return std::filesystem::path(shared ? shared : "../shared") / rel;
}

// The SeqGAN oracle LSTM's weights (safetensors).
inline std::string oracle_file() { return shared_path("data/oracle/seqgan_oracle_lstm.safetensors").string(); }

// A test's scratch folder, created: coopgen_test_NAME_PID under $TMPDIR (which CTest points into
// the build tree; created if missing) or the system's temp folder; the process id keeps concurrent
// test processes apart. Emptied at its first use in this process (an earlier process of the same
// id may have left files there) and, with `fresh`, at every use (a run folder a test trains into);
// without `fresh`, what this process wrote there stays (a helper that writes a file per call).
inline std::filesystem::path scratch_dir(const std::string& name, bool fresh = true) {
  static std::set<std::string> used;
  const char* tmp = std::getenv("TMPDIR");
  const std::filesystem::path root = tmp && *tmp ? std::filesystem::path(tmp) : std::filesystem::temp_directory_path();
  const std::filesystem::path dir = root / ("coopgen_test_" + name + "_" + std::to_string(::getpid()));
  if (used.insert(name).second || fresh) std::filesystem::remove_all(dir);
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
