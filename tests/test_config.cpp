#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/testing.h"
#include "trainers/loop/run_config.h"

using namespace coopgen;
namespace fs = std::filesystem;

static std::string yaml_file(const std::string& name, const std::string& text) {
  const fs::path dir = testing::scratch_dir("cfg", false);
  std::ofstream((dir / name).string()) << text;
  return (dir / name).string();
}

TEST_CASE("a config maps onto typed structs, overrides win", "[config]") {
  std::string f = yaml_file("ok.yaml", "device: cpu\nseed: 7\noptim:\n  lr: 1.0e-3\n  schedule:\n    kind: cosine\n    total_steps: 100\n");
  RunConfig c = load_config<RunConfig>(f, {"optim.lr=0.5", "optim.schedule.warmup_steps=10"});
  REQUIRE(c.seed == 7);
  REQUIRE(c.optim.lr == 0.5);
  REQUIRE(c.optim.schedule.kind == Schedule::cosine);
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
  REQUIRE_THAT(err("optim:\n  lr: .nan\n"), Contains("bad.yaml:2: optim.lr: '.nan' is not a finite number"));
  // .inf passed every range check (issue 31, c03): non-finite numbers are refused at parse time.
  REQUIRE_THAT(err("optim:\n  lr: .inf\n"), Contains("bad.yaml:2: optim.lr: '.inf' is not a finite number"));
  REQUIRE_THAT(err("seed: 1\n", {"adversarial.entropy_bonus=-.inf"}), Contains("'-.inf' is not a finite number"));
  // Conditions between keys are checked at parse time, at the key (c24 ended in assertion text).
  REQUIRE_THAT(err("model:\n  d_model: 16\n  heads: 3\n"), Contains("bad.yaml:3: model.heads: 3 does not divide d_model (16)"));
  REQUIRE_THAT(err("model: {layers: 100000}\n"), Contains("model.layers: 100000 is outside the allowed range [1, 1024]"));
  // Aliases nested in aliases (c14 never finished): refused once the tree passes kMaxConfigNodes.
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char p = 'a'; p < 'g'; ++p)
    bomb += std::string(1, char(p + 1)) + ": &" + char(p + 1) + " [*" + p + ", *" + p + ", *" + p + ", *" + p + ", *" + p +
            ", *" + p + ", *" + p + ", *" + p + ", *" + p + ", *" + p + "]\n";
  REQUIRE_THAT(err(bomb), Contains("the config expands to more than 100000 values"));
  REQUIRE_THAT(err("seed: 1\n", {"optim.lr=abc"}), Contains("command-line override 'optim.lr=abc': optim.lr: expected a number"));
  REQUIRE_THAT(err("seed: 1\n", {"optim.bogus=1"}), Contains("command-line override 'optim.bogus=1'") && Contains("unknown key"));
  REQUIRE_THAT(err("seed: 1\n", {"novalue"}), Contains("expected key.sub=value"));
  REQUIRE_THROWS_WITH(load_config<RunConfig>("/nonexistent/x.yaml"), Contains("/nonexistent/x.yaml: no such file"));
  REQUIRE_THROWS_WITH(load_config<RunConfig>(testing::scratch_dir("cfg", false).string()), Contains(": is a folder, not a file"));
}

TEST_CASE("include: a base's keys under the file's own, mappings merged, errors naming the file they are in", "[config]") {
  using Catch::Contains;
  yaml_file("inc_base.yaml", "seed: 3\noptim:\n  lr: 1.0e-3\n  beta2: 0.95\n  schedule: {kind: cosine, total_steps: 50}\n"
                            "sampling: {top_k: 5}\n");
  yaml_file("inc_mid.yaml", "include: inc_base.yaml\nrun_dir: runs/mid\noptim: {beta2: 0.98}\n");
  const std::string child = yaml_file("inc_child.yaml", "include: [inc_mid.yaml]\nseed: 4\noptim:\n  schedule: {total_steps: 80}\n");
  // What the merge must give, written out by hand: later files win key by key inside mappings.
  const std::string flat = yaml_file("inc_flat.yaml", "seed: 4\nrun_dir: runs/mid\noptim:\n  lr: 1.0e-3\n  beta2: 0.98\n"
                                                      "  schedule: {kind: cosine, total_steps: 80}\nsampling: {top_k: 5}\n");
  REQUIRE(dump_config(load_config<RunConfig>(child)) == dump_config(load_config<RunConfig>(flat)));
  REQUIRE(load_config<RunConfig>(child, {"optim.lr=0.5"}).optim.lr == 0.5);  // overrides still last
  auto err = [](const std::string& name, const std::string& text) {
    try {
      load_config<RunConfig>(yaml_file(name, text));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  REQUIRE_THAT(err("inc_missing.yaml", "seed: 1\ninclude: nowhere.yaml\n"),
               Contains("inc_missing.yaml:2: include: nowhere.yaml: no such file"));
  yaml_file("inc_a.yaml", "include: inc_b.yaml\n");
  yaml_file("inc_b.yaml", "seed: 2\ninclude: [inc_a.yaml]\n");
  REQUIRE_THAT(err("inc_top.yaml", "include: inc_a.yaml\n"), Contains("inc_b.yaml:2: include: inc_a.yaml includes itself: ") &&
                                                               Contains("inc_a.yaml -> ") && Contains("inc_b.yaml -> "));
  REQUIRE_THAT(err("inc_self.yaml", "include: inc_self.yaml\n"), Contains("inc_self.yaml:1: include: inc_self.yaml includes itself"));
  REQUIRE_THAT(err("inc_kind.yaml", "include: {a: 1}\n"), Contains("inc_kind.yaml:1: include: expected a file name or a list"));
  // A bad key inside the base is reported in the base, at its line, however it was reached.
  yaml_file("inc_bad_base.yaml", "seed: 1\noptim:\n  lr: fast\n");
  REQUIRE_THAT(err("inc_uses_bad.yaml", "include: inc_bad_base.yaml\nseed: 2\n"),
               Contains("inc_bad_base.yaml:3: optim.lr: expected a number, got 'fast'"));
  REQUIRE_THAT(err("inc_own_bad.yaml", "include: inc_base.yaml\noptim: {lrr: 1}\n"), Contains("inc_own_bad.yaml:2: optim.lrr: unknown key"));
  // A config given as text (the fuzzers) has no folder to include from.
  ConfigSource src;
  REQUIRE_THROWS_WITH(parse_yaml("include: base.yaml\n", "text.yaml", {}, src),
                      Contains("text.yaml:1: include: only a config read from a file can include others"));
}

TEST_CASE("an override's value is the text after '='", "[config]") {
  using Catch::Contains;
  // c30: "run_dir=runs/exp #3" lost " #3" to a YAML comment.
  const std::string f = yaml_file("ov.yaml", "seed: 1\n");
  REQUIRE(load_config<RunConfig>(f, {"run_dir=runs/exp #3"}).run_dir == "runs/exp #3");
  REQUIRE(load_config<RunConfig>(f, {"run_dir=a: b"}).run_dir == "a: b");
  REQUIRE(load_config<RunConfig>(f, {"run_dir='x #1'"}).run_dir == "x #1");
  REQUIRE(load_config<RunConfig>(f, {"model.init=\"\""}).model.init.empty());
  // A checkpoint reference is read once, at the key: a GPT-2 folder by its prefix, and written back
  // as it was spelt.
  const RunConfig hf = load_config<RunConfig>(f, {"model.init=hf_gpt2:gpt2 dir", "discriminator.init_checkpoint=runs/a"});
  REQUIRE((hf.model.init.format == CheckpointRef::Format::hf_gpt2 && hf.model.init.dir == "gpt2 dir"));
  REQUIRE((hf.discriminator.init_checkpoint.format == CheckpointRef::Format::coopgen && hf.discriminator.init_checkpoint.dir == "runs/a"));
  REQUIRE_THAT(dump_config(hf), Contains("init: hf_gpt2:gpt2 dir") && Contains("init_checkpoint: runs/a"));
  REQUIRE_THROWS_WITH(load_config<RunConfig>(f, {"model.init=hf_gpt2:"}),
                      "command-line override 'model.init=hf_gpt2:': model.init: 'hf_gpt2:' names no folder (hf_gpt2:DIR)");
  REQUIRE(load_config<RunConfig>(f, {"run_dir='x"}).run_dir == "'x");
  REQUIRE(load_config<RunConfig>(f, {"optim.lr=2e-3"}).optim.lr == 2e-3);
  REQUIRE(load_config<RunConfig>(f, {"discriminator.causal=true"}).discriminator.causal);
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
