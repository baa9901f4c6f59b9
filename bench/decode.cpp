// Decoding throughput of each decoder (trainers/decoding/decoding.h) on one backend: sequences per second
// of ancestral sampling, MCTS over p·D at two simulation budgets, and discriminator-guided beam
// search, each reported with its cost relative to sampling (the peer run side by side). Models
// have fresh weights and sequences a fixed length (no <eos>), so every decoder does the same
// number of steps. Targets are reported, never asserted.
//   bench_decode [--device cpu|cuda] [--preset oracle|text] [--num N] [--json FILE]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "bench/harness.h"
#include "models/discriminator.h"
#include "models/discriminator.h"
#include "trainers/decoding/decoders.h"

using namespace coopgen;

namespace {

struct Preset {
  const char* name;
  int64_t vocab, length;
  GeneratorConfig g;
  TransformerConfig d;
};

// oracle: configs/oracle_gcn.yaml's models; text: configs/emnlp_news_gcn.yaml's.
const Preset kPresets[] = {
    {"oracle", 5000, 20, {{32, 2, 2, 21, 0.02}}, {32, 2, 2, 21, 0.02}},
    {"text", 5575, 50, {{128, 2, 4, 51, 0.02}}, {64, 2, 4, 51, 0.02}},
};

struct Row {
  std::string decoder;
  double seconds, per_s;
};

}  // namespace

int main(int argc, char** argv) {
  return bench::guarded_main("bench_decode", [&] {
    const bench::Options opts(argc, argv, {{"device", "cpu"}, {"preset", "oracle"}, {"num", "64"}});
    const Device dev = opts.device();
    const std::string device = opts.str("device"), preset_name = opts.str("preset"), json = opts.str("json");
    const int64_t n = opts.num("num");
    if (!opts.str("check").empty()) fail("--check: bench_decode reports, it guards no ratio");
    const Preset* p = nullptr;
    for (const Preset& q : kPresets)
      if (preset_name == q.name) p = &q;
    if (!p) fail("--preset ", preset_name, ": expected oracle or text");

    const Generator g(p->g, p->vocab, 1, dev);
    const Discriminator d(p->d, p->vocab, 2, dev, /*causal=*/true);
    const PrefixScorer score = [&](const Sequences& s) { return discriminator_logits(d, s, 0, dev); };
    const Prompts prompts = Prompts::unconditional(0, n);
    MctsConfig mcts;
    mcts.visit_temperature = 1.0;
    DasConfig das;
    das.sample = true;
    const std::vector<std::pair<std::string, std::function<SampledSet()>>> decoders{
        {"sample", [&] { return sample_sequences(g, prompts, p->length, SamplingConfig{}, 3); }},
        {"mcts_10", [&] { MctsConfig c = mcts; c.simulations = 10; return mcts_sequences(g, score, prompts, p->length, c, 3); }},
        {"mcts_50", [&] { MctsConfig c = mcts; c.simulations = 50; return mcts_sequences(g, score, prompts, p->length, c, 3); }},
        {"das_4x8", [&] { return das_sequences(g, score, prompts, p->length, das, 3); }},
    };
    std::vector<Row> rows;
    std::printf("decoding %lld sequences of %lld tokens, preset %s (vocabulary %lld), device %s\n", (long long)n,
                (long long)p->length, p->name, (long long)p->vocab, device.c_str());
    std::printf("%-10s %10s %14s %12s\n", "decoder", "seconds", "sequences/s", "vs sample");
    for (const auto& [name, run] : decoders) {
      run();  // warm-up: allocator pools, cuBLAS handles
      const auto t0 = std::chrono::steady_clock::now();
      const SampledSet s = run();
      if (dev == Device::CUDA) device::synchronize();
      const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (int64_t(s.seqs.size()) != n) fail(name, ": ", s.seqs.size(), " sequences instead of ", n);
      rows.push_back({name, sec, double(n) / sec});
      std::printf("%-10s %10.3f %14.2f %11.1fx\n", name.c_str(), sec, rows.back().per_s, sec / rows.front().seconds);
    }
    if (!json.empty()) {
      FILE* f = std::fopen(json.c_str(), "w");
      if (!f) fail(json, ": cannot write");
      std::fprintf(f, "{\"bench\": \"decode\", \"device\": \"%s\", \"preset\": \"%s\", \"sequences\": %lld, \"length\": %lld, \"results\": [",
                   device.c_str(), p->name, (long long)n, (long long)p->length);
      for (size_t i = 0; i < rows.size(); ++i)
        std::fprintf(f, "%s{\"decoder\": \"%s\", \"seconds\": %.6f, \"sequences_per_s\": %.3f, \"cost_vs_sample\": %.3f}",
                     i ? ", " : "", rows[i].decoder.c_str(), rows[i].seconds, rows[i].per_s, rows[i].seconds / rows[0].seconds);
      std::fprintf(f, "]}\n");
      std::fclose(f);
    }
    return 0;
  });
}
