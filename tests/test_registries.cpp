// Extending coopgen through its registries: a trivial discriminator kind, decoder and metric defined
// here, registered at run time, named by a config and used by a run, as a new built-in would be
// with one file and one line in its .def; and a trivial truncation rule (a token-level proposal),
// whose list is a type (the fused CUDA sampler applies it), added to the list here as rules.def adds
// a built-in one.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "engine/config.h"
#include "engine/io.h"
#include "kernels/cpu/truncation_row.h"
#include "kernels/params.h"
#include "trainers/decoding/decoders.h"
#include "trainers/discriminators/discriminator.h"
#include "trainers/methods/with_discriminator.h"
#include "tests/testing.h"

using namespace coopgen;
namespace fs = std::filesystem;

namespace {

// D(y) = 1/2 for every y: no parameters, logit 0.
class Indifferent final : public Discriminator {
 public:
  std::vector<double> logits(const Sequences& seqs) const override { return std::vector<double>(seqs.size(), 0.0); }
  std::string describe() const override { return "D = 1/2 everywhere (a test's kind)"; }
};

// A decoder that writes `length` copies of the token 1 after each prompt (log p left at 0).
SampledSet ones(const DecodeCall& c) {
  SampledSet out;
  out.seqs.assign(size_t(c.prompts.rows()), std::vector<int32_t>(size_t(c.length), 1));
  out.logp.assign(out.seqs.size(), 0.0);
  out.logq = out.logp;
  return out;
}

// A truncation rule: keep the two most likely tokens (of those the rules before it kept).
struct KeepTwo {
  int64_t keep_two = 0;  // 0: off
  template <class V> void visit(V& v) { v("keep_two", keep_two, Range{0, 1}); }
  COOPGEN_HD bool cuts(int64_t vocab) const { return keep_two != 0 && vocab > 2; }
  template <class Row> COOPGEN_HD typename Row::Key cut(Row& row, typename Row::Key floor) const {
    return row.count_select(floor, 2);
  }
};
// The built-in list with KeepTwo last, as a line at the end of rules.def would make it.
using WithKeepTwo = BasicSamplerSettings<Truncation<TopK, TopP, MinP, KeepTwo>>;
// Its rules' keys as a config section holds them.
struct RulesSection : WithKeepTwo {
  template <class V> void visit(V& v) { visit_rules(v); }
};

void register_test_kinds() {
  static const bool once = [] {
    register_discriminator_kind({"indifferent", "D = 1/2 everywhere",
                                 [](const DiscriminatorContext&) { return std::make_unique<Indifferent>(); }, nullptr, nullptr});
    register_decoder({"ones", "the token 1 throughout", false, ones, nullptr});
    register_metric({"mean_length", "the mean length of the evaluation's samples", kNeedsUnconditional, [](const EvalInputs& in) {
                       double total = 0;
                       for (const auto& s : in.samples()) total += double(s.size());
                       return Metrics{{"mean_length", total / double(in.samples().size())}};
                     }});
    register_metric({"never", "a metric of conditional tasks", kNeedsConditional,
                     [](const EvalInputs&) { return Metrics{{"never", 1.0}}; }});
    return true;
  }();
  (void)once;
}

}  // namespace

TEST_CASE("a discriminator kind registered at run time: the config knows it, a GCN run uses it", "[registry]") {
  register_test_kinds();
  REQUIRE_THROWS_WITH(register_discriminator_kind({"learned", "again", [](const DiscriminatorContext&) {
                                                     return std::unique_ptr<Discriminator>();
                                                   }, nullptr, nullptr}),
                      Catch::Contains("registered twice"));
  const fs::path dir = testing::scratch_dir("registries_kind");
  const std::string yaml = (dir / "run.yaml").string();
  std::ofstream(yaml) << "method: gcn\ndiscriminator:\n  kind: indifferent\n";
  REQUIRE(load_config<RunConfig>(yaml).discriminator.kind == "indifferent");
  std::ofstream(yaml) << "method: gcn\ndiscriminator:\n  kind: sure\n";
  REQUIRE_THROWS_WITH(load_config<RunConfig>(yaml), Catch::Contains("'sure' is not one of: learned, optimal, likelihood_ratio, indifferent"));
  // Its settings belong to the kinds that read them: the optimal kind's noise with another kind is refused.
  RunConfig bad;
  bad.discriminator.kind = "indifferent";
  bad.discriminator.logit_noise = 1;
  REQUIRE_THROWS_WITH(check_discriminator(bad), Catch::Contains("applies to discriminator.kind optimal only"));

  COOPGEN_SKIP_WITHOUT_ORACLE();
  RunConfig cfg;
  cfg.method = Method::gcn;
  cfg.discriminator.kind = "indifferent";
  cfg.data.oracle = testing::oracle_file();
  cfg.model = {{16, 1, 2, 21, 0.02}};
  cfg.data.train_size = 32, cfg.data.test_size = 16, cfg.data.valid_size = 16;
  cfg.train = {3, 16, 1, 0, 0, 8};
  cfg.adversarial.samples = 8;
  cfg.discriminator.batch_size = 8;
  cfg.run_dir = (dir / "run").string();
  REQUIRE(train_with_discriminator(cfg, RunStart::Fresh) == 0);
  // A constant D weighs every sample alike (GCN's w ∝ D: ESS = M), is never trained (no d_loss),
  // and has nothing to save.
  std::ifstream in(dir / "run/metrics.jsonl");
  int steps = 0;
  for (std::string line; std::getline(in, line);) {
    const Json::Value row = parse_json(line, "metrics.jsonl");
    if (!row.isMember("ess")) continue;
    ++steps;
    REQUIRE(row["ess"].asDouble() == Approx(8.0).epsilon(1e-9));
    REQUIRE(row["mean_d"].asDouble() == 0.5);
    REQUIRE_FALSE(row.isMember("d_loss"));
  }
  REQUIRE(steps == 3);
  for (const auto& [name, t] : load_checkpoint((dir / "run/checkpoint").string(), nullptr)) REQUIRE_FALSE(name.starts_with("disc."));
  fs::remove_all(dir);
}

TEST_CASE("a decoder registered at run time: the config and the task's decode reach it", "[registry]") {
  register_test_kinds();
  REQUIRE_THROWS_WITH(register_decoder({"mcts", "again", false, ones, nullptr}), Catch::Contains("registered twice"));
  const fs::path dir = testing::scratch_dir("registries_decoder");
  const std::string yaml = (dir / "run.yaml").string();
  std::ofstream(yaml) << "decoding:\n  decoder: ones\n";
  const RunConfig cfg = load_config<RunConfig>(yaml);
  REQUIRE(cfg.decoding.decoder == "ones");
  REQUIRE_THROWS_WITH(decoder_named("twos", "--decoder"), Catch::Contains("--decoder 'twos': expected one of sample, mcts, das, guided, rerank, ones"));
  COOPGEN_SKIP_WITHOUT_ORACLE();
  RunConfig run = cfg;
  run.data.oracle = testing::oracle_file();
  run.data.train_size = 8, run.data.test_size = 8, run.data.valid_size = 0;
  const std::unique_ptr<Task> task = Task::create(run);
  const Generator g(GeneratorConfig{{16, 1, 2, 21, 0.02}}, task->vocab, 1, Device::CPU);
  const SampledSet s = task->decode(g, task->leading_prompts(task->test, 3), run.decoding, run.sampling, PrefixScorer{}, 1);
  REQUIRE(s.seqs == Sequences(3, std::vector<int32_t>(size_t(task->sample_length), 1)));
  fs::remove_all(dir);
}

TEST_CASE("a metric registered at run time: computed where its needs are met, after the built-in ones", "[registry]") {
  register_test_kinds();
  REQUIRE_THROWS_WITH(register_metric({"nll_test", "again", 0, [](const EvalInputs&) { return Metrics{}; }}),
                      Catch::Contains("registered twice"));
  COOPGEN_SKIP_WITHOUT_ORACLE();
  RunConfig cfg;
  cfg.data.oracle = testing::oracle_file();
  cfg.data.train_size = 8, cfg.data.test_size = 8, cfg.data.valid_size = 8;
  cfg.train.eval_samples = 5;
  const std::unique_ptr<Task> task = Task::create(cfg);
  const Generator g(GeneratorConfig{{16, 1, 2, 21, 0.02}}, task->vocab, 1, Device::CPU);
  const Metrics m = task->evaluate(g, cfg, PrefixScorer{});
  std::vector<std::string> names;
  for (const auto& [name, value] : m) names.push_back(name);
  // The oracle's metrics (no discriminator: none of D's), then the test's; not the conditional one.
  REQUIRE(names == std::vector<std::string>{"nll_valid", "nll_oracle", "nll_test", "kl_test", "mean_length"});
  REQUIRE(m.back().second == 20.0);  // the oracle's sequences have 20 tokens

  // The final sampler: with SamplesFrom::decoder the metrics score the decoder's samples (here the
  // test decoder's all-ones sequences: NLL-oracle is p*'s NLL of them, computed apart), not p's;
  // the sampler's NLL-oracle is p's samples' (it differs), and the test set's metrics are the same.
  RunConfig ones_cfg = cfg;
  ones_cfg.decoding.decoder = "ones";
  const Metrics from_decoder = task->evaluate(g, ones_cfg, PrefixScorer{}, 0, SamplesFrom::decoder);
  const Metrics from_sampler = task->evaluate(g, ones_cfg, PrefixScorer{}, 0, SamplesFrom::sampler);
  const double ones_nll = task->data_model()->nll(Sequences(5, std::vector<int32_t>(size_t(task->sample_length), 1)));
  REQUIRE(from_decoder[1].first == "nll_oracle");
  REQUIRE(from_decoder[1].second == Approx(ones_nll).epsilon(1e-6));
  REQUIRE(from_sampler[1].second == Approx(m[1].second).epsilon(1e-12));
  REQUIRE(std::abs(from_sampler[1].second - ones_nll) > 0.1);
  REQUIRE(from_decoder[2].second == from_sampler[2].second);  // nll_test: the test set's, whoever samples
  // A cooperative decoder with no discriminator is refused by name.
  RunConfig guided = cfg;
  guided.decoding.decoder = "guided";
  REQUIRE_THROWS_WITH(task->evaluate(g, guided, PrefixScorer{}, 0, SamplesFrom::decoder),
                      Catch::Contains("decoder guided is cooperative and needs a discriminator"));
}

TEST_CASE("a truncation rule added to the list: the config, the graph key and the cut reach it", "[registry]") {
  static_assert(std::is_same_v<TruncationRules, Truncation<TopK, TopP, MinP>>, "the built-in rules changed: update WithKeepTwo");
  // The config reads and range-checks its key beside the built-in ones.
  const fs::path dir = testing::scratch_dir("registries_rule");
  const std::string yaml = (dir / "sampling.yaml").string();
  std::ofstream(yaml) << "top_k: 3\nkeep_two: 1\n";
  const RulesSection read = load_config<RulesSection>(yaml);
  REQUIRE((read.top_k == 3 && read.keep_two == 1));
  std::ofstream(yaml) << "keep_two: 2\n";
  REQUIRE_THROWS_WITH(load_config<RulesSection>(yaml), Catch::Contains("keep_two"));
  fs::remove_all(dir);

  // The settings' questions and the decode-graph key: one more word, which its setting changes.
  static_assert(WithKeepTwo::kWords == SamplerSettings::kWords + 1);
  WithKeepTwo q;
  const auto off = q.key();
  REQUIRE(q.is_p());
  q.keep_two = 1;
  REQUIRE(q.key() != off);
  REQUIRE_FALSE(q.is_p());
  REQUIRE(q.truncated(3));
  REQUIRE_FALSE(q.truncated(2));

  // Its cut on the CPU twin's row (e: tempered probabilities, the largest 1), after the rules
  // before it: alone, the two largest (threshold 0.5); after top_k 1, the one top_k kept; after
  // min_p 0.2, the two largest of {1, 0.5, 0.25}; after top_p 0.5 (1 of the mass 1.925 already
  // holds half), the one; after top_p 0.6 (1.155 of 1.925: the two largest), the two — with
  // keep-two first, top_p 0.6 of {1, 0.5} would keep the one.
  std::vector<double> e{0.05, 1.0, 0.5, 0.25, 0.125}, scratch;
  cpu::TruncationRow<double> row{e, scratch};
  REQUIRE(q.threshold(row, 5, 0.0) == 0.5);
  q.top_k = 1;
  REQUIRE(q.threshold(row, 5, 0.0) == 1.0);
  q.top_k = 0, q.min_p = 0.2;
  REQUIRE(q.threshold(row, 5, 0.0) == 0.5);
  q.min_p = 0, q.top_p = 0.5;
  REQUIRE(q.threshold(row, 5, 0.0) == 1.0);
  q.top_p = 0.6;
  REQUIRE(q.threshold(row, 5, 0.0) == 0.5);
}
