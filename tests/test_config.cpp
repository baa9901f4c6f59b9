#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

#include "trainers/loop/run_config.h"

using namespace coopgen;
namespace fs = std::filesystem;

static std::string yaml_file(const std::string& name, const std::string& text) {
  fs::path dir = fs::temp_directory_path() / ("coopgen_test_cfg_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream((dir / name).string()) << text;
  return (dir / name).string();
}

TEST_CASE("a config maps onto typed structs, overrides win", "[config]") {
  std::string f = yaml_file("ok.yaml", "device: cpu\nseed: 7\noptim:\n  lr: 1.0e-3\n  schedule:\n    kind: cosine\n    total_steps: 100\n");
  RunConfig c = load_config<RunConfig>(f, {"optim.lr=0.5", "optim.schedule.warmup_steps=10"});
  REQUIRE(c.seed == 7);
  REQUIRE(c.optim.lr == 0.5);
  REQUIRE(c.optim.schedule.kind == "cosine");
  REQUIRE(c.optim.schedule.total_steps == 100);
  REQUIRE(c.optim.schedule.warmup_steps == 10);
  REQUIRE(c.optim.beta1 == 0.9);  // default kept
  // What is printed reads back to the same values.
  std::string again = yaml_file("again.yaml", dump_config(c));
  RunConfig d = load_config<RunConfig>(again);
  REQUIRE(dump_config(d) == dump_config(c));
}

TEST_CASE("config errors name file:line and the key path", "[config]") {
  auto err = [](const std::string& text, std::vector<std::string> ov = {}) {
    std::string f = yaml_file("bad.yaml", text);
    try {
      load_config<RunConfig>(f, ov);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  using Catch::Contains;
  REQUIRE_THAT(err("seed: 1\noptim:\n  lrr: 0.1\n"), Contains("bad.yaml:3: optim.lrr: unknown key"));
  REQUIRE_THAT(err("optim:\n  lr: fast\n"), Contains("bad.yaml:2: optim.lr: expected a number, got 'fast'"));
  REQUIRE_THAT(err("seed: -3\n"), Contains("bad.yaml:1: seed: expected a non-negative integer"));
  REQUIRE_THAT(err("device: tpu\n"), Contains("bad.yaml:1: device: 'tpu' is not one of: cpu, cuda"));
  REQUIRE_THAT(err("optim: 3\n"), Contains("bad.yaml:1: optim: expected a mapping"));
  REQUIRE_THAT(err("optim:\n  lr: [1, 2\n"), Contains("bad.yaml:") && Contains("YAML syntax error"));
  REQUIRE_THAT(err("optim:\n  lr: .nan\n"), Contains("optim.lr: NaN"));
  REQUIRE_THAT(err("seed: 1\n", {"optim.lr=abc"}), Contains("command-line override 'optim.lr=abc': optim.lr: expected a number"));
  REQUIRE_THAT(err("seed: 1\n", {"optim.bogus=1"}), Contains("command-line override 'optim.bogus=1'") && Contains("unknown key"));
  REQUIRE_THAT(err("seed: 1\n", {"novalue"}), Contains("expected key.sub=value"));
  REQUIRE_THROWS_WITH(load_config<RunConfig>("/nonexistent/x.yaml"), Contains("/nonexistent/x.yaml: cannot open"));
}

namespace {
struct Needs {
  int64_t layers = 0;
  template <class V> void visit(V& v) { v("layers", layers, Need::Required); }
};
}  // namespace

TEST_CASE("a missing required key is named", "[config]") {
  std::string f = yaml_file("req.yaml", "other: 1\n");
  REQUIRE_THROWS_WITH(load_config<Needs>(f), Catch::Contains("req.yaml:1: layers: missing required key"));
  f = yaml_file("req2.yaml", "layers: 4\n");
  REQUIRE(load_config<Needs>(f).layers == 4);
}

TEST_CASE("cpu_threads: the key, else OPENBLAS_NUM_THREADS, else one thread for small models", "[config]") {
  const char* saved = std::getenv("OPENBLAS_NUM_THREADS");
  const std::string restore = saved ? saved : "";
  RunConfig cfg;
  cfg.cpu_threads = 3;
  setenv("OPENBLAS_NUM_THREADS", "2", 1);
  REQUIRE(cfg.resolved_cpu_threads() == 3);
  cfg.cpu_threads = 0;
  REQUIRE(cfg.resolved_cpu_threads() == 2);
  unsetenv("OPENBLAS_NUM_THREADS");
  cfg.model.d_model = 128;
  REQUIRE(cfg.resolved_cpu_threads() == 1);
  cfg.model.d_model = 768;
  REQUIRE(cfg.resolved_cpu_threads() == int(std::max(1u, std::thread::hardware_concurrency())));
  if (saved) setenv("OPENBLAS_NUM_THREADS", restore.c_str(), 1);
}
