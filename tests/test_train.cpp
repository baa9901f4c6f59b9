// Training-loop properties: a resumed run continues bit-identically on the CPU.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "engine/io.h"
#include "trainers/mle.h"

using namespace coopgen;
namespace fs = std::filesystem;

static std::vector<std::string> loss_lines(const fs::path& dir) {
  std::ifstream in(dir / "metrics.jsonl");
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (line.find("\"loss\"") != std::string::npos) out.push_back(line.substr(0, line.find(", \"tokens_per_s\"")));
  return out;
}

TEST_CASE("resume continues bit-identically: same parameters, same loss curve", "[train]") {
  const char* shared = std::getenv("COOPGEN_SHARED");
  RunConfig cfg;
  cfg.data.oracle = (fs::path(shared ? shared : "../shared") / "data/oracle/seqgan_oracle_lstm.safetensors").string();
  if (!fs::exists(cfg.data.oracle)) {
    WARN("skipped: " << cfg.data.oracle << " not found");
    return;
  }
  cfg.model = {16, 1, 2, 21, 0.02};
  cfg.data.train_size = 96;
  cfg.data.test_size = 16;
  cfg.train = {6, 16, 1, 0, 0, 8};
  cfg.optim.schedule = {"cosine", 2, 6, 0.1};
  const fs::path root = fs::temp_directory_path() / ("coopgen_test_resume_" + std::to_string(::getpid()));
  fs::remove_all(root);
  cfg.run_dir = (root / "straight").string();
  REQUIRE(train_mle(cfg, false) == 0);

  RunConfig half = cfg;
  half.run_dir = (root / "resumed").string();
  half.train.steps = 3;
  REQUIRE(train_mle(half, false) == 0);
  half.train.steps = 6;
  REQUIRE(train_mle(half, true) == 0);

  auto a = load_checkpoint((root / "straight/checkpoint").string(), nullptr);
  auto b = load_checkpoint((root / "resumed/checkpoint").string(), nullptr);
  REQUIRE(a.size() == b.size());
  for (auto& [name, t] : a) {
    INFO(name);
    REQUIRE(t.to_vector<float>() == b.at(name).to_vector<float>());
  }
  REQUIRE(loss_lines(root / "straight") == loss_lines(root / "resumed"));
  REQUIRE(loss_lines(root / "straight").size() == 6);
  fs::remove_all(root);
}
