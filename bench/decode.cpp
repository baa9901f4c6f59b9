// Decoding throughput of each decoder (trainers/decoding/decoding.h) on one backend: sequences per second
// of ancestral sampling, MCTS over p·D at two simulation budgets (and, as mcts_10_whole, at 10
// without the causal D's prefix cache), discriminator-guided beam search, and the guided proposal
// on 16 candidates (guided_16_whole: without the prefix cache), each reported with its cost relative to sampling (the peer run side by side; time on the
// GPU, the process's CPU time on the CPU), and on CUDA what each asked of the GPU (core/counters.h)
// per decoded token, per tree-search simulation and per beam step. Models have fresh weights and
// sequences a fixed length (no <eos>), so every decoder does the same number of steps. Times are
// reported, never asserted; `--check BASELINE.json` guards the baseline's counters (a count that
// grows fails) and any ratios it lists.
//   bench_decode [--device cpu|cuda] [--preset oracle|text|tiny] [--num N] [--reps R]
//                [--decoders sample,mcts_10,mcts_50,mcts_10_whole,das_4x8,guided_16,guided_16_whole]
//                [--json FILE] [--check BASELINE.json]
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "bench/harness.h"
#include "models/discriminator.h"
#include "trainers/decoding/decoders.h"

using namespace coopgen;

namespace {

struct Preset {
  int64_t vocab, length;
  GeneratorConfig g;
  TransformerConfig d;
};

// oracle: configs/oracle_gcn.yaml's models; text: configs/emnlp_news_gcn.yaml's; tiny: small enough
// for the emulator, where CI guards the counters (bench/baselines/decode_counters.json).
const std::vector<std::pair<std::string, Preset>> kPresets = {
    {"tiny", {512, 4, {{32, 2, 2, 5, 0.02}}, {32, 2, 2, 5, 0.02}}},
    {"oracle", {5000, 20, {{32, 2, 2, 21, 0.02}}, {32, 2, 2, 21, 0.02}}},
    {"text", {5575, 50, {{128, 2, 4, 51, 0.02}}, {64, 2, 4, 51, 0.02}}},
};


}  // namespace

int main(int argc, char** argv) {
  return bench::guarded_main("bench_decode", [&] {
    const bench::Options opts(argc, argv, {{"device", "cpu"}, {"preset", "oracle"}, {"num", "64"}, {"reps", "1"}, {"decoders", "sample,mcts_10,mcts_50,das_4x8"}});
    const Device dev = opts.device();
    const Preset p = opts.preset("preset", kPresets);
    const int64_t n = opts.num("num");
    const int reps = int(opts.num("reps"));

    const Generator g(p.g, p.vocab, 1, dev);
    GeneratorConfig eager_cfg = p.g;
    eager_cfg.decode_graphs = false;
    const Generator eager(eager_cfg, p.vocab, 1, dev);  // g's weights, its steps launched one by one on CUDA
    const TransformerDiscriminator d(p.d, p.vocab, 2, dev, /*causal=*/true);
    const PrefixScorer score = learned_scorer(d, 0, dev);
    const Prompts prompts = Prompts::unconditional(0, n);
    MctsConfig mcts;
    mcts.visit_temperature = 1.0;
    DasConfig das;
    das.sample = true;
    GuidedConfig guided;
    guided.candidates = 16;
    // Each decoder, and the units its counters are reported per: tokens, tree-search simulations
    // (one per emitted token and simulation), beam steps.
    struct Decoder {
      std::string name;
      std::function<SampledSet()> run;
      std::string unit;
      double units;
    };
    const double len = double(p.length);
    const std::vector<Decoder> all{
        {"sample", [&] { return sample_sequences(g, prompts, p.length, SamplingConfig{}, 3); }, "per_token", len},
        // sample without CUDA graphs: the peer of the graph's replay (the same on the CPU).
        {"sample_eager", [&] { return sample_sequences(eager, prompts, p.length, SamplingConfig{}, 3); }, "per_token", len},
        {"mcts_10", [&] { MctsConfig c = mcts; c.simulations = 10; return mcts_sequences(g, score, prompts, p.length, c, 3); },
         "per_simulation", len * 10},
        {"mcts_50", [&] { MctsConfig c = mcts; c.simulations = 50; return mcts_sequences(g, score, prompts, p.length, c, 3); },
         "per_simulation", len * 50},
        // mcts_10 with D scoring every leaf's whole prefix (no prefix cache): the peer of mcts_10's D cache.
        {"mcts_10_whole", [&] { MctsConfig c = mcts; c.simulations = 10; return mcts_sequences(g, PrefixScorer(score.logits), prompts, p.length, c, 3); },
         "per_simulation", len * 10},
        {"das_4x8", [&] { return das_sequences(g, score, prompts, p.length, das, 3); }, "per_beam_step", len},
        {"guided_16", [&] { return guided_sequences(g, score, prompts, p.length, guided, 3); }, "per_token", len},
        // guided_16 with every candidate's whole prefix scored: the peer of its D cache.
        {"guided_16_whole", [&] { return guided_sequences(g, PrefixScorer(score.logits), prompts, p.length, guided, 3); },
         "per_token", len},
    };
    // --decoders: a comma-separated subset, sampling (the peer of every ratio) always first.
    const std::string wanted = "," + opts.str("decoders") + ",";
    if (wanted.find(",sample,") == std::string::npos) fail("--decoders ", opts.str("decoders"), ": must include sample");
    std::vector<Decoder> decoders;
    for (const Decoder& dec : all)
      if (wanted.find("," + dec.name + ",") != std::string::npos) decoders.push_back(dec);
    std::vector<bench::Version> versions;
    for (const Decoder& dec : decoders)
      versions.push_back({dec.name, [&dec, n] {
                            const SampledSet s = dec.run();
                            if (int64_t(s.seqs.size()) != n) fail(dec.name, ": ", s.seqs.size(), " sequences instead of ", n);
                          }});
    auto measure_once = [&] {
      bench::Report r{"decode", dev, {{"sequences", double(n)}, {"length", len}, {"vocab", double(p.vocab)}}};
      const std::vector<bench::Timing> t = bench::measure(dev, versions, reps, 1);
      std::printf("decoding %lld sequences of %lld tokens, preset %s (vocabulary %lld), device %s\n", (long long)n,
                  (long long)p.length, opts.str("preset").c_str(), (long long)p.vocab, name_of(dev));
      std::printf("%-14s %10s %14s %12s\n", "decoder", "median s", "sequences/s", "vs sample");
      for (size_t k = 0; k < decoders.size(); ++k) {
        r.runs.push_back({decoders[k].name, t[k]});
        const double sec = t[k].median_ms / 1e3;
        std::printf("%-14s %10.3f %14.2f %11.1fx\n", decoders[k].name.c_str(), sec, double(n) / sec, t[k].median_ms / t[0].median_ms);
        if (k > 0) r.ratios["time_" + decoders[k].name + "_vs_sample"] = bench::time_ratio(t[k], t[0]);
        if (dev == Device::CUDA)
          r.counters[decoders[k].name + "." + decoders[k].unit] = bench::counter_row(t[k].counters, decoders[k].units);
      }
      r.print_counters();
      return r;
    };
    return bench::finish("bench_decode", measure_once, opts);
  });
}
