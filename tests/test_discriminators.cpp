// The discriminator kinds against references computed another way: the likelihood-ratio D's logit
// token by token from full forwards of a copy of its language model, its guide against its own
// whole-sequence logits, and its training step against finite differences of its loss; D's
// pre-training stopped early on held-out data, its kept D's loss recomputed from the checkpoint.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include "engine/ops.h"
#include "engine/random.h"
#include "generator_reference.h"
#include "trainers/discriminators/discriminator.h"
#include "trainers/loop/run_config.h"
#include "trainers/methods/with_discriminator.h"
#include "tests/testing.h"

using namespace coopgen;
using coopgen::testing::next_logp;
namespace fs = std::filesystem;

namespace {

RunConfig ratio_config() {
  RunConfig cfg;
  cfg.method = Method::gcn;
  cfg.data.oracle = testing::oracle_file();
  cfg.data.train_size = 16, cfg.data.test_size = 8, cfg.data.valid_size = 0;
  cfg.model = {{16, 1, 2, 21, 0.3}};  // large weights: p and p_φ differ visibly
  cfg.discriminator.kind = "likelihood_ratio";
  cfg.discriminator.model = {16, 1, 2, 21, 0.3};
  return cfg;
}

Tensor& named(NamedTensors& params, const std::string& name) {
  for (auto& [n, t] : params)
    if (n == name) return t;
  FAIL("no parameter " << name);
  throw;
}

// −(1/N)[Σ_real log σ(x) + Σ_fake log σ(−x)], in double.
double bce(const std::vector<double>& x, size_t real) {
  double l = 0;
  for (size_t i = 0; i < x.size(); ++i) l += bce_with_logit(x[i], i < real);
  return l / double(x.size());
}

}  // namespace

TEST_CASE("likelihood-ratio D: logit log p_φ − log p + b token by token; its guide scores every next token alike", "[discriminator]") {
  COOPGEN_SKIP_WITHOUT_ORACLE();
  const RunConfig cfg = ratio_config();
  const OracleTask task(cfg);
  const Generator g(cfg.model, task.vocab, 3, Device::CPU);
  const std::unique_ptr<Discriminator> d = make_discriminator({cfg, task, g});
  NamedTensors& params = *d->trained()->params;
  copy_(named(params, "disc.ratio.b"), Tensor::full({1}, 0.3));
  // p_φ copied into a plain generator (names without "disc.lm."): the reference.
  Generator lm(cfg.model, task.vocab, 99, Device::CPU);
  for (auto& [name, t] : lm.params()) copy_(t, named(params, "disc.lm." + name));

  Sequences seqs(task.train.begin(), task.train.begin() + 3);
  seqs.push_back({seqs[0].begin(), seqs[0].begin() + 4});  // an unfinished prefix
  const std::vector<double> x = d->logits(seqs);
  for (size_t i = 0; i < seqs.size(); ++i) {
    double want = 0.3;
    for (size_t t = 0; t < seqs[i].size(); ++t) {
      const std::vector<int32_t> prefix(seqs[i].begin(), seqs[i].begin() + long(t));
      want += next_logp(lm, task.start_token, prefix)[size_t(seqs[i][t])] - next_logp(g, task.start_token, prefix)[size_t(seqs[i][t])];
    }
    REQUIRE(x[i] == Approx(want).margin(1e-4));
  }

  const PrefixScorer scorer = d->scorer();
  REQUIRE(scorer.guide);
  const std::vector<int32_t> empty;
  auto guide = scorer.guide({&empty, &empty});
  REQUIRE(guide->candidates() == 0);
  std::vector<std::vector<int32_t>> prefix(2);
  const size_t V = size_t(task.vocab);
  for (size_t t = 0; t < 4; ++t) {
    std::vector<double> lp;
    for (const auto& p : prefix) {
      const std::vector<double> row = next_logp(g, task.start_token, p);
      lp.insert(lp.end(), row.begin(), row.end());
    }
    const std::vector<double> xs = guide->score(lp, {});
    for (size_t r = 0; r < 2; ++r) {
      Sequences ext;
      for (int32_t v : {0, 17, 4999}) ext.push_back(prefix[r]), ext.back().push_back(v);
      const std::vector<double> want = d->logits(ext);
      REQUIRE(xs[r * V + 0] == Approx(want[0]).margin(1e-4));
      REQUIRE(xs[r * V + 17] == Approx(want[1]).margin(1e-4));
      REQUIRE(xs[r * V + 4999] == Approx(want[2]).margin(1e-4));
    }
    const std::vector<int32_t> tokens{seqs[1][t], seqs[2][t]};
    guide->advance(tokens);
    prefix[0].push_back(tokens[0]), prefix[1].push_back(tokens[1]);
  }
}

TEST_CASE("likelihood-ratio D: a training step follows the gradient of its binary cross-entropy", "[discriminator]") {
  COOPGEN_SKIP_WITHOUT_ORACLE();
  RunConfig cfg = ratio_config();
  cfg.discriminator.optim.lr = 1e-3;
  cfg.discriminator.optim.weight_decay = 0;
  const OracleTask task(cfg);
  const Generator g(cfg.model, task.vocab, 3, Device::CPU);
  const std::unique_ptr<Discriminator> d = make_discriminator({cfg, task, g});
  NamedTensors& params = *d->trained()->params;
  // Four real sequences against four others (the test split stands in for fakes).
  DiscriminatorBatch batch;
  for (size_t i = 0; i < 4; ++i) batch.seqs.push_back(&task.train[i]);
  for (size_t i = 0; i < 4; ++i) batch.seqs.push_back(&task.test[i]);
  batch.real = 4, batch.whole = 8;
  Sequences seqs;
  for (const auto* s : batch.seqs) seqs.push_back(*s);
  const double before = bce(d->logits(seqs), 4);

  // Central differences of the loss in a few weights: b, and embedding entries of tokens the batch holds.
  struct Probe {
    std::string name;
    int64_t index;
    double fd = 0, value = 0;
  };
  std::vector<Probe> probes{{"disc.ratio.b", 0}};
  for (int k = 0; k < 6; ++k) probes.push_back({"disc.lm.wte", int64_t(task.train[0][size_t(k)]) * 16 + k});
  for (Probe& p : probes) {
    Tensor& t = named(params, p.name);
    std::vector<float> w = t.to_vector<float>();
    p.value = w[size_t(p.index)];
    const double h = 1e-2;
    w[size_t(p.index)] = float(p.value + h);
    copy_(t, Tensor::from(w, t.shape()));
    const double up = bce(d->logits(seqs), 4);
    w[size_t(p.index)] = float(p.value - h);
    copy_(t, Tensor::from(w, t.shape()));
    const double down = bce(d->logits(seqs), 4);
    w[size_t(p.index)] = float(p.value);
    copy_(t, Tensor::from(w, t.shape()));
    p.fd = (up - down) / (2 * h);
  }
  const Metrics m = d->train_step(batch, 0, 1);
  REQUIRE(m[0].second == Approx(before).epsilon(1e-5));  // d_loss: the loss before the step
  // AdamW's first step moves each weight by −lr·sign(gradient) (bias-corrected moments, no decay).
  int checked = 0;
  for (const Probe& p : probes) {
    if (std::fabs(p.fd) < 1e-3) continue;  // too flat for the finite difference's sign to be sure
    INFO(p.name << "[" << p.index << "] finite difference " << p.fd);
    const double moved = named(params, p.name).to_vector<float>()[size_t(p.index)] - p.value;
    REQUIRE(moved == Approx(p.fd > 0 ? -1e-3 : 1e-3).epsilon(0.05));
    ++checked;
  }
  REQUIRE(checked >= 3);
  REQUIRE(bce(d->logits(seqs), 4) < before);
}

TEST_CASE("D's pre-training stops early on held-out cross-entropy and keeps its best D", "[discriminator]") {
  COOPGEN_SKIP_WITHOUT_ORACLE();
  const fs::path dir = testing::scratch_dir("d_stop");
  RunConfig cfg;
  cfg.method = Method::gcn;
  cfg.data.oracle = testing::oracle_file();
  cfg.data.train_size = 16, cfg.data.test_size = 8, cfg.data.valid_size = 32;  // 16 real sequences: D overfits them
  cfg.model = {{16, 1, 2, 21, 0.02}};
  cfg.train.steps = 0, cfg.train.eval_samples = 32, cfg.train.batch_size = 8;
  cfg.adversarial.samples = 8;
  cfg.discriminator.model = {16, 1, 2, 21, 0.02};
  cfg.discriminator.optim.lr = 5e-3;
  cfg.discriminator.batch_size = 8;
  cfg.discriminator.pretrain_steps = 60, cfg.discriminator.pretrain_eval_every = 1, cfg.discriminator.pretrain_patience = 3;
  cfg.run_dir = (dir / "run").string();
  // The run's log (stderr) holds each held-out evaluation and the D kept.
  // Without a validation split it is refused before the run folder is touched.
  RunConfig no_valid = cfg;
  no_valid.data.valid_size = 0;
  no_valid.run_dir = (dir / "refused").string();
  REQUIRE_THROWS_WITH(train_with_discriminator(no_valid, RunStart::Fresh),
                      Catch::Contains("discriminator.pretrain_patience stops on the validation split"));
  REQUIRE_FALSE(fs::exists(no_valid.run_dir));
  const std::string log = (dir / "stderr.txt").string();
  {
    // stderr into the file for the run, and back whatever happens.
    struct Redirect {
      int saved, fd;
      explicit Redirect(const std::string& path)
          : saved((std::fflush(stderr), ::dup(2))), fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644)) {
        ::dup2(fd, 2);
      }
      ~Redirect() {
        std::fflush(stderr);
        ::dup2(saved, 2);
        ::close(fd), ::close(saved);
      }
    } to_file(log);
    REQUIRE(train_with_discriminator(cfg, RunStart::Fresh) == 0);
  }
  std::vector<std::pair<int64_t, double>> evals;
  int64_t kept = -1;
  double kept_loss = 0;
  std::ifstream in(log);
  std::smatch m;
  for (std::string line; std::getline(in, line);) {
    if (std::regex_search(line, m, std::regex("held-out at (\\d+): loss ([0-9.]+)"))) evals.emplace_back(std::stoll(m[1]), std::stod(m[2]));
    if (std::regex_search(line, m, std::regex("kept the D of pre-training step (\\d+) \\(held-out loss ([0-9.]+)")))
      kept = std::stoll(m[1]), kept_loss = std::stod(m[2]);
  }
  REQUIRE(evals.size() >= 2);
  REQUIRE(evals.front().first == 0);
  // The kept D is the first of lowest loss, and training ended `patience` evaluations after it.
  size_t best = 0;
  for (size_t i = 1; i < evals.size(); ++i)
    if (evals[i].second < evals[best].second) best = i;
  REQUIRE(kept == evals[best].first);
  REQUIRE(kept_loss == Approx(evals[best].second).margin(1e-4));
  REQUIRE(evals.size() - 1 - best == 3);
  REQUIRE(kept > 0);                 // D improved on held-out data at first ...
  REQUIRE(evals.back().first < 60);  // ... then stopped early: the D kept is not the last one trained

  // The checkpoint's D scores the held-out data as the kept evaluation did: the validation split's
  // real sequences against fakes of the run's p (the fresh generator of its seed), drawn at
  // Philox stream (seed, 0, 10) as pre-training draws them.
  const OracleTask task(cfg);
  const Generator g(cfg.model, task.vocab, cfg.seed, Device::CPU);
  const std::unique_ptr<Discriminator> d = make_discriminator({cfg, task, g, CheckpointRef::parse((dir / "run/checkpoint").string()), "the test"});
  Sequences seqs(task.valid.begin(), task.valid.begin() + 32);
  for (auto& f : task.draw(g, task.leading_prompts(task.valid, 32), SamplingConfig{}, random::stream(cfg.seed, 0, 10)).seqs)
    seqs.push_back(f);
  REQUIRE(bce(d->logits(seqs), 32) == Approx(kept_loss).margin(1e-4));
  fs::remove_all(dir);
}
