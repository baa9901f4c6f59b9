// Training-loop properties: a resumed run continues bit-identically on the CPU.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "engine/io.h"
#include "trainers/methods/with_discriminator.h"
#include "trainers/methods/mle.h"
#include "trainers/eval/sweep.h"
#include "trainers/loop/tasks.h"
#include "tests/testing.h"

using namespace coopgen;
namespace fs = std::filesystem;

static std::vector<std::string> loss_lines(const fs::path& dir) {
  std::ifstream in(dir / "metrics.jsonl");
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (line.find("\"loss\"") != std::string::npos) out.push_back(line.substr(0, line.find(", \"tokens_per_s\"")));
  return out;
}

// Trains `cfg` 6 steps straight, and 3 steps then 3 more with --resume: the checkpoints (every
// parameter and optimiser moment) and the logged metrics must be identical.
static void check_resume(RunConfig cfg, int (*train)(const RunConfig&, RunStart)) {
  const fs::path root = testing::scratch_dir(std::string("resume_") + name_of(cfg.method));
  cfg.run_dir = (root / "straight").string();
  REQUIRE(train(cfg, RunStart::Fresh) == 0);
  RunConfig half = cfg;
  half.run_dir = (root / "resumed").string();
  half.train.steps = 3;
  REQUIRE(train(half, RunStart::Fresh) == 0);
  half.train.steps = 6;
  REQUIRE(train(half, RunStart::Resume) == 0);

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

static RunConfig tiny_oracle_run() {
  RunConfig cfg;
  cfg.data.oracle = testing::oracle_file();
  cfg.model = {{16, 1, 2, 21, 0.02}};
  cfg.data.train_size = 96;
  cfg.data.test_size = 16;
  cfg.data.valid_size = 16;
  cfg.train = {6, 16, 1, 0, 0, 8};
  cfg.optim.schedule = {Schedule::cosine, 2, 6, 0.1};
  return cfg;
}

TEST_CASE("resume continues bit-identically: same parameters, same loss curve", "[train]") {
  COOPGEN_SKIP_WITHOUT_ORACLE();
  check_resume(tiny_oracle_run(), train_mle);
}

TEST_CASE("dropout: masks from the step, so a resumed run continues bit-identically; evaluation drops nothing", "[train]") {
  COOPGEN_SKIP_WITHOUT_ORACLE();
  RunConfig cfg = tiny_oracle_run();
  cfg.model.dropout = 0.2;
  check_resume(cfg, train_mle);
  // A training pass drops (its loss differs from the evaluation's and depends on the seed); a pass
  // without a seed is the model without dropout.
  OracleTask task(cfg);
  GeneratorConfig no_dropout = cfg.model;
  no_dropout.dropout = 0;
  const Generator g(cfg.model, task.vocab, 1, Device::CPU), plain(no_dropout, task.vocab, 1, Device::CPU);
  Tensor ids, targets, mask;
  task.make_batch(task.train, {0, 1, 2, 3}, Device::CPU, ids, targets, mask);
  const Tensor w = Tensor::full({4}, 1.0, DType::F32, Device::CPU);
  NoGradGuard no_grad;
  const double eval = g.weighted_logprob(ids, targets, mask, w).item();
  const double a = g.weighted_logprob(ids, targets, mask, w, 7).item(), b = g.weighted_logprob(ids, targets, mask, w, 8).item();
  REQUIRE(a != eval);
  REQUIRE(a != b);
  REQUIRE(g.weighted_logprob(ids, targets, mask, w, 7).item() == a);
  REQUIRE(task.nll(g, task.test) == task.nll(plain, task.test));
}

TEST_CASE("adversarial methods resume bit-identically: both models, both optimisers, every stream", "[train][slow]") {
  COOPGEN_SKIP_WITHOUT_ORACLE();
  for (Method method : {Method::gan, Method::rml_gan, Method::gcn}) {
    INFO(name_of(method));
    RunConfig cfg = tiny_oracle_run();
    cfg.method = method;
    cfg.discriminator.model = {16, 1, 2, 21, 0.02};
    cfg.discriminator.batch_size = 8;
    cfg.discriminator.steps = 2;
    cfg.discriminator.pretrain_steps = 2;
    cfg.adversarial.samples = 8;
    cfg.adversarial.candidates = 12;
    if (cfg.method == Method::gcn) cfg.adversarial.proposal.top_p = 0.9;
    cfg.adversarial.mle_weight = 0.5;
    check_resume(cfg, train_with_discriminator);
  }
}

TEST_CASE("GCN on a text task: sequences end at <eos>, D sees them padded, resume is exact", "[train]") {
  const fs::path dir = testing::scratch_dir("text_gcn");
  {
    std::ofstream train(dir / "train.txt"), test(dir / "test.txt");
    const char* words[] = {"a", "man", "rides", "a", "horse", "on", "the", "beach", "near", "water"};
    for (int i = 0; i < 64; ++i) {
      for (int k = 0; k <= i % 7; ++k) train << words[(i + 3 * k) % 10] << ' ';
      train << "\n";
    }
    test << "a man rides\nthe beach\n";
  }
  RunConfig cfg;
  cfg.method = Method::gcn;
  cfg.data.task = TaskKind::text;
  cfg.data.train_file = (dir / "train.txt").string();
  cfg.data.test_file = (dir / "test.txt").string();
  cfg.model = {{16, 1, 2, 9, 0.02}};
  cfg.discriminator.model = {16, 1, 2, 9, 0.02};
  cfg.discriminator.batch_size = 8;
  cfg.discriminator.pretrain_steps = 1;
  cfg.adversarial.samples = 8;
  cfg.adversarial.proposal.temperature = 1.5;  // q̂ ≠ p: the weights use the sampler's log q̂
  cfg.train = {6, 8, 1, 0, 0, 4};
  check_resume(cfg, train_with_discriminator);
  SECTION("with MCTS (importance weights) and DAS (uniform weights) as the proposal, D trained on prefixes") {
    cfg.discriminator.prefix_fraction = 0.5;
    cfg.decoding.decoder = "mcts";
    cfg.decoding.weights = DecodeWeights::importance;
    cfg.decoding.mcts.simulations = 3;
    cfg.decoding.mcts.top_k = 4;
    cfg.decoding.mcts.visit_temperature = 1.0;
    check_resume(cfg, train_with_discriminator);
    cfg.decoding.decoder = "das";
    cfg.decoding.weights = DecodeWeights::uniform;
    cfg.decoding.das = {2, 3, 1.0, true};
    check_resume(cfg, train_with_discriminator);
  }
  fs::remove_all(dir);
}

TEST_CASE("text task: vocabulary, <eos>, padded teacher-forcing batches with masks", "[train]") {
  const fs::path dir = testing::scratch_dir("text_task");
  std::ofstream(dir / "train.txt") << "a b c\n\nb c\nthis line is far too long for it\n";
  std::ofstream(dir / "test.txt") << "c a\n";
  RunConfig cfg;
  cfg.data.task = TaskKind::text;
  cfg.data.train_file = (dir / "train.txt").string();
  cfg.data.test_file = (dir / "test.txt").string();
  cfg.model.max_len = 5;  // start token + at most 4 words
  cfg.run_dir = (dir / "run").string();
  TextTask task(cfg);
  REQUIRE(task.train.size() == 2);  // the empty and the long line are counted and skipped
  REQUIRE(task.vocab == 5 + 3);
  // Building a task writes nothing (a read-only command must not touch a run folder); its
  // vocabulary text is what a training run saves as vocab.txt, and it reads back.
  REQUIRE(!fs::exists(dir / "run"));
  REQUIRE(task.writes_vocab);
  std::ofstream(dir / "vocab.txt") << task.vocab_text;
  REQUIRE(Vocab::load((dir / "vocab.txt").string()).size() == task.vocab);
  const Vocab& words = dynamic_cast<const WordCodec&>(*task.codec).vocab();
  const int32_t a = words.id("a"), b = words.id("b"), c = words.id("c");
  REQUIRE(task.train[1] == std::vector<int32_t>{b, c, Vocab::kEos});
  Tensor ids, targets, mask;
  task.make_batch(task.train, {0, 1}, Device::CPU, ids, targets, mask);
  REQUIRE(ids.shape() == Shape{2, 4});
  REQUIRE(ids.to_vector<int32_t>() == std::vector<int32_t>{Vocab::kBos, a, b, c, Vocab::kBos, b, c, Vocab::kPad});
  REQUIRE(targets.to_vector<int32_t>() == std::vector<int32_t>{a, b, c, Vocab::kEos, b, c, Vocab::kEos, Vocab::kPad});
  REQUIRE(mask.to_vector<float>() == std::vector<float>{1, 1, 1, 1, 1, 1, 1, 0});
  REQUIRE(task.render({a, b, Vocab::kEos, c}) == "a b");
  fs::remove_all(dir);
}

TEST_CASE("pairs task: <bos> src <sep> tgt <eos>, loss on the target only, unusable pairs counted", "[train]") {
  const fs::path dir = testing::scratch_dir("pairs");
  std::ofstream(dir / "train.src.txt") << "a b\n\nc\nthis source is far too long\n";
  std::ofstream(dir / "train.tgt.txt") << "c\nb\na b\nx\n";
  std::ofstream(dir / "test.src.txt") << "a\n";
  std::ofstream(dir / "test.tgt.txt") << "b\n";
  std::ofstream(dir / "bad.src.txt") << "a\nb\n";
  std::ofstream(dir / "bad.tgt.txt") << "a\n";
  RunConfig cfg;
  cfg.data.task = TaskKind::pairs;
  cfg.data.train_file = (dir / "train").string();
  cfg.data.test_file = (dir / "test").string();
  cfg.model.max_len = 7;  // 4 words + <bos>, <sep>, <eos>
  cfg.run_dir = (dir / "run").string();
  PairTask task(cfg);
  REQUIRE(task.train.size() == 2);  // one empty source and one too-long pair skipped
  const Vocab& words = task.words;
  const int32_t a = words.id("a"), b = words.id("b"), c = words.id("c");
  REQUIRE(task.train[0] == std::vector<int32_t>{a, b, Vocab::kSep, c, Vocab::kEos});
  Tensor ids, targets, mask;
  task.make_batch(task.train, {0, 1}, Device::CPU, ids, targets, mask);
  REQUIRE(ids.to_vector<int32_t>() == std::vector<int32_t>{Vocab::kBos, a, b, Vocab::kSep, c, Vocab::kBos, c, Vocab::kSep, a, b});
  // The source and the <sep> itself are context: only "c <eos>" and "a b <eos>" are scored.
  REQUIRE(mask.to_vector<float>() == std::vector<float>{0, 0, 0, 1, 1, 0, 0, 1, 1, 1});
  REQUIRE(task.render(task.train[1]) == "c <sep> a b");
  LineStats st;
  REQUIRE_THROWS_WITH(read_pairs((dir / "bad").string(), 0, st), Catch::Contains("bad.src.txt has 2 lines but") && Catch::Contains("bad.tgt.txt has 1"));
  fs::remove_all(dir);
}


// 20 source → target pairs in made-up words; the target depends on the whole source.
static fs::path write_pairs(const std::string& name) {
  const fs::path dir = testing::scratch_dir(name);
  std::ofstream src(dir / "train.src.txt"), tgt(dir / "train.tgt.txt");
  for (int i = 0; i < 20; ++i) {
    src << "s" << i % 5 << " r" << i / 5 << (i % 2 ? " odd" : "") << "\n";
    tgt << "t" << (i * 7) % 20 << " u" << i % 3 << "\n";
  }
  std::ofstream(dir / "test.src.txt") << "s1 r2\ns4 r0 odd\n";
  std::ofstream(dir / "test.tgt.txt") << "t12 u2\nt17 u1\n";
  return dir;
}

static RunConfig pairs_run(const fs::path& dir) {
  RunConfig cfg;
  cfg.data.task = TaskKind::pairs;
  cfg.data.train_file = (dir / "train").string();
  cfg.data.test_file = (dir / "test").string();
  cfg.model = {{32, 2, 2, 9, 0.02}};
  cfg.run_dir = (dir / "run").string();
  cfg.sampling.temperature = 0;  // greedy decoding for evaluation
  cfg.data.valid_fraction = 0;   // every one of the 20 pairs is trained on
  return cfg;
}

TEST_CASE("a conditional model that overfits 20 pairs reproduces them under greedy decoding", "[train]") {
  const fs::path dir = write_pairs("overfit");
  RunConfig cfg = pairs_run(dir);
  cfg.train = {300, 20, 100, 0, 0, 2};
  cfg.optim.lr = 3e-3;
  REQUIRE(train_mle(cfg, RunStart::Fresh) == 0);
  PairTask task(cfg);
  const Generator g = load_generator(cfg, CheckpointRef::parse(cfg.run_dir + "/checkpoint"), &task);
  std::vector<size_t> rows(task.train.size());
  std::iota(rows.begin(), rows.end(), size_t(0));
  SamplingConfig greedy;
  greedy.temperature = 0;
  const SampledSet s = task.draw(g, task.prompts(task.train, rows, 1), greedy, 1);
  for (size_t r = 0; r < rows.size(); ++r) {
    INFO(task.render(task.train[r]) << " decoded as " << task.render(s.seqs[r]));
    REQUIRE(s.seqs[r] == task.train[r]);  // the source, then the target and <eos>
  }
  fs::remove_all(dir);
}

TEST_CASE("GCN on the pairs task: M samples per source, D sees source <sep> target, resume is exact", "[train]") {
  const fs::path dir = write_pairs("pairs_gcn");
  RunConfig cfg = pairs_run(dir);
  cfg.method = Method::gcn;
  cfg.model = {{16, 1, 2, 9, 0.02}};
  cfg.discriminator.model = {16, 1, 2, 9, 0.02};
  cfg.discriminator.batch_size = 4;
  cfg.discriminator.pretrain_steps = 1;
  cfg.adversarial.sources = 3;
  cfg.adversarial.samples = 4;
  cfg.adversarial.proposal.top_p = 0.9;
  cfg.train = {6, 8, 1, 0, 0, 2};
  check_resume(cfg, train_with_discriminator);
  // Each evaluation logs the conditional target's gain (one normaliser per test source: the
  // estimate itself is checked against exact values in test_weights.cpp).
  REQUIRE(train_with_discriminator(cfg, RunStart::Fresh) == 0);
  int gains = 0;
  std::ifstream rows(dir / "run/metrics.jsonl");
  for (std::string line; std::getline(rows, line);) {
    const Json::Value row = parse_json(line, "metrics.jsonl");
    if (!row.isMember("nll_test")) continue;
    REQUIRE(std::isfinite(row["target_gain"].asDouble()));
    REQUIRE(row["target_gain_se"].asDouble() >= 0);
    ++gains;
  }
  REQUIRE(gains == 1);  // eval_every 0: at the end only
  cfg.method = Method::rml_gan;
  cfg.adversarial.candidates = 6;
  check_resume(cfg, train_with_discriminator);
  fs::remove_all(dir);
}

TEST_CASE("the reverse LM score is trained by one recipe, whatever the run's own optimiser", "[train]") {
  COOPGEN_SKIP_WITHOUT_ORACLE();
  RunConfig a = tiny_oracle_run();
  a.run_dir = testing::scratch_dir("reverse").string();
  OracleTask task(a);
  const Sequences samples(task.train.begin(), task.train.begin() + 32);
  RunConfig b = a;  // a method's fine-tuning optimiser: a reverse LM trained with it would barely move
  b.optim.lr = 1e-5;
  b.optim.schedule = {Schedule::constant, 0, 0, 0};
  const double sa = reverse_lm_score(task, samples, a, 40), sb = reverse_lm_score(task, samples, b, 40);
  REQUIRE(sa == sb);
  // ... and it trains: 40 steps on 32 samples move its held-out NLL from the fresh model's by 0.026
  // (150 steps by 0.1: it overfits them); at the run's lr 1e-5 it would move by under 1e-4.
  REQUIRE(std::abs(sa - reverse_lm_score(task, samples, a, 0)) > 0.01);
  fs::remove_all(a.run_dir);
}

TEST_CASE("keep_best keeps the lowest nll_valid; patience stops after that many evaluations without one", "[train]") {
  COOPGEN_SKIP_WITHOUT_ORACLE();
  const fs::path root = testing::scratch_dir("best");
  RunConfig cfg = tiny_oracle_run();
  cfg.run_dir = (root / "run").string();
  cfg.data.valid_size = 32;
  cfg.train = {60, 16, 0, 5, 0, 8};
  cfg.train.patience = 2;
  cfg.optim.lr = 0.03;  // fast enough to overfit 96 sequences and turn nll_valid up within 60 steps
  cfg.optim.schedule = {};
  REQUIRE(train_mle(cfg, RunStart::Fresh) == 0);
  // The evaluations as logged, and the best among them found here.
  std::vector<std::pair<int64_t, double>> evals;
  std::ifstream in(root / "run/metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    const Json::Value row = parse_json(line, "metrics.jsonl");
    if (row.isMember("nll_valid")) evals.emplace_back(row["step"].asInt64(), row["nll_valid"].asDouble());
  }
  REQUIRE(evals.size() >= 3);
  auto best = evals.front();
  for (const auto& e : evals)
    if (e.second < best.second) best = e;
  // The run stopped `patience` evaluations after its best (or at the end), no later.
  const int64_t last = evals.back().first;
  REQUIRE((last == best.first + 2 * 5 || last == 60));
  REQUIRE(last < 60);  // with this rate nll_valid turns up: patience ended the run
  // checkpoint_best holds that step's model: its nll_valid, recomputed here, is the logged one.
  TrainerState st;
  load_checkpoint((root / "run/checkpoint_best").string(), &st);
  REQUIRE(st.numbers.at("step") == double(best.first));
  OracleTask task(cfg);
  const Generator g = load_generator(cfg, CheckpointRef::parse((root / "run/checkpoint_best").string()), &task);
  REQUIRE(task.nll(g, task.valid) == Approx(best.second).epsilon(1e-6));
  fs::remove_all(root);
}
