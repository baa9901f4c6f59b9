// Fused softmax-sampling (engine/ops.h sample_logits): one token per row of logits [N×V] with its
// log p and log q̂, plain and truncated (top-k, top-p, both), against a copy of the same logits
// in the same run: the copy is the memory-bound floor a one-pass sampler can approach, so
// "time vs copy" (lower is better) is the ratio `--check` guards. The sampler's traffic is the
// logits read once (4·N·V bytes) plus 12 bytes per row; its GB/s and fraction of the copy
// ceiling are in the table. Sizes: small (CPU, CI: 256 × 5,575), gpt2 (256 × 50,257: issue 5's
// target, ≥ 70% of copy bandwidth on the GPU).
//   bench_sampling [--device cpu|cuda] [--size small|gpt2] [--rows N] [--vocab V] [--temperature T]
//                  [--top-k K] [--top-p P] [--reps R] [--json FILE] [--check BASELINE.json]
#include <cstdio>
#include <string>

#include "bench/harness.h"
#include "engine/ops.h"

using namespace coopgen;

int main(int argc, char** argv) {
  return bench::guarded_main("bench_sampling", [&] {
    const bench::Options opts(argc, argv, {{"device", "cpu"}, {"size", "small"}, {"rows", "0"}, {"vocab", "0"},
                                           {"temperature", "1"}, {"top-k", "50"}, {"top-p", "0.9"}, {"reps", "20"}});
    const Device dev = opts.device();
    const std::string device = opts.str("device"), size = opts.str("size");
    int64_t rows = opts.num("rows"), vocab = opts.num("vocab");
    if (size == "small") {
      rows = rows ? rows : 256, vocab = vocab ? vocab : 5575;
    } else if (size == "gpt2") {
      rows = rows ? rows : 256, vocab = vocab ? vocab : 50257;
    } else {
      fail("--size ", size, ": expected small or gpt2");
    }
    const double temperature = opts.real("temperature"), top_p = opts.real("top-p");
    const int64_t top_k = opts.num("top-k");
    const int reps = int(opts.num("reps"));

    // Logits at the spread of a trained LM's (a few nats around a peaked top).
    const Tensor logits = Tensor::uniform({rows, vocab}, 7, 0, -8, 8, DType::F32, dev);
    Tensor copy = Tensor::empty({rows, vocab}, DType::F32, dev);
    const std::vector<std::pair<std::string, SamplingConfig>> variants = {
        {"plain", {temperature, 0, 1.0}},
        {"top_k", {temperature, top_k, 1.0}},
        {"top_p", {temperature, 0, top_p}},
        {"top_k_top_p", {temperature, top_k, top_p}}};
    uint64_t offset = 0;
    std::vector<std::function<void()>> calls{[&] { copy_(copy, logits); }};
    for (const auto& v : variants) calls.push_back([&] { sample_logits(logits, v.second, 1, offset += uint64_t(rows)); });

    bench::Report r{"sampling", device, {{"rows", double(rows)}, {"vocab", double(vocab)}, {"temperature", temperature},
                                         {"top_k", double(top_k)}, {"top_p", top_p}}, {}, {}, {}};
    const std::vector<bench::Timing> t = bench::measure(dev, calls, reps);
    const double logit_bytes = 4.0 * double(rows) * double(vocab);
    r.runs.push_back({"copy", t[0], 0, 2 * logit_bytes});
    for (size_t k = 0; k < variants.size(); ++k) {
      r.runs.push_back({variants[k].first, t[k + 1], 0, logit_bytes + 12.0 * double(rows)});
      r.ratios["time_" + variants[k].first + "_vs_copy"] = t[k + 1].median_ms / t[0].median_ms;
    }
    r.ceilings = bench::measure_ceilings(dev);
    char title[160];
    std::snprintf(title, sizeof title, "fused softmax-sampling: %lld rows x V %lld, temperature %g, top-k %lld, top-p %g",
                  (long long)rows, (long long)vocab, temperature, (long long)top_k, top_p);
    r.print(title);
    for (const auto& [name, ratio] : r.ratios) std::printf("%s: %.3f\n", name.c_str(), ratio);
    return bench::finish("bench_sampling", r, opts);
  });
}
