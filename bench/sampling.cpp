// Fused softmax-sampling (engine/ops.h sample_logits): one token per row of logits [N×V] with its
// log p and log q̂, plain and truncated (top-k, top-p, both), against two peers in the same run:
//   copy     a copy of the logits: the memory-bound floor a one-pass sampler can approach (the
//            sampler's GB/s and fraction of the copy ceiling are in the table; the GPU's target);
//   unfused  (CPU only) the sampler as a framework without a fused kernel composes it: the softmax
//            op, then per row on the host a top-k selection (nth_element), a sort and cumulative
//            sum for top-p, and an inverse-CDF draw: the same work in separate passes, so
//            "time vs unfused" tracks the sampler across CPU models where "time vs copy" does
//            not (an exp-bound kernel against a bandwidth-bound copy). CI guards these ratios.
// The sampler's traffic is the logits read once (4·N·V bytes) plus 12 bytes per row. Sizes: small
// (CPU, CI: 256 × 5,575), gpt2 (256 × 50,257: issue 5's target, ≥ 70% of copy bandwidth on the GPU).
//   bench_sampling [--device cpu|cuda] [--size small|gpt2] [--rows N] [--vocab V] [--temperature T]
//                  [--top-k K] [--top-p P] [--reps R] [--json FILE] [--check BASELINE.json]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>

#include "bench/harness.h"
#include "engine/ops.h"

using namespace coopgen;

namespace {

// The unfused peer: tokens drawn by the textbook composition (softmax, truncate, renormalise,
// draw), each step a pass of its own over a row of probabilities in f32.
int64_t unfused_sample(const Tensor& logits, const SamplingConfig& s, uint64_t seed) {
  const int64_t rows = logits.size(0), vocab = logits.size(1);
  const std::vector<float> p = softmax(scale(logits, 1.0 / s.temperature)).to_vector<float>();
  std::vector<float> row(static_cast<size_t>(vocab));
  int64_t checksum = 0;
  for (int64_t n = 0; n < rows; ++n) {
    std::copy(p.begin() + n * vocab, p.begin() + (n + 1) * vocab, row.begin());
    auto end = row.end();
    if (s.top_k > 0 && s.top_k < vocab) {
      std::nth_element(row.begin(), row.begin() + (s.top_k - 1), row.end(), std::greater<>());
      end = row.begin() + s.top_k;
    }
    if (s.top_p < 1) {
      std::sort(row.begin(), end, std::greater<>());
      float total = 0, acc = 0;
      for (auto it = row.begin(); it != end; ++it) total += *it;
      auto cut = row.begin();
      while (cut != end && acc < float(s.top_p) * total) acc += *cut++;
      end = cut;
    }
    float kept = 0;
    for (auto it = row.begin(); it != end; ++it) kept += *it;
    const float u = float((seed * 0x9e3779b97f4a7c15ull + uint64_t(n)) >> 40) * 0x1.0p-24f * kept;
    float acc = 0;
    auto it = row.begin();
    while (it + 1 < end && (acc += *it) <= u) ++it;
    checksum += it - row.begin();
  }
  return checksum;
}

}  // namespace

int main(int argc, char** argv) {
  return bench::guarded_main("bench_sampling", [&] {
    const bench::Options opts(argc, argv, {{"device", "cpu"}, {"size", "small"}, {"rows", "0"}, {"vocab", "0"},
                                           {"temperature", "1"}, {"top-k", "50"}, {"top-p", "0.9"}, {"reps", "20"}});
    const Device dev = opts.device();
    const int64_t preset_vocab = opts.preset<int64_t>("size", {{"small", 5575}, {"gpt2", 50257}});
    const int64_t rows = opts.num_or("rows", 256), vocab = opts.num_or("vocab", preset_vocab);
    const double temperature = opts.real("temperature"), top_p = opts.real("top-p");
    const int64_t top_k = opts.num("top-k");
    const int reps = int(opts.num("reps"));

    // Logits at the spread of a trained LM's (a few nats around a peaked top).
    const Tensor logits = Tensor::uniform({rows, vocab}, 7, 0, -8, 8, DType::F32, dev);
    Tensor copy = Tensor::empty({rows, vocab}, DType::F32, dev);
    const auto settings = [&](int64_t k, double p) {
      SamplingConfig s;
      s.temperature = temperature, s.top_k = k, s.top_p = p;
      return s;
    };
    const std::vector<std::pair<std::string, SamplingConfig>> variants = {
        {"plain", settings(0, 1.0)}, {"top_k", settings(top_k, 1.0)}, {"top_p", settings(0, top_p)},
        {"top_k_top_p", settings(top_k, top_p)}};
    const bool unfused = dev == Device::CPU;
    uint64_t offset = 0;
    int64_t checksum = 0;
    std::vector<bench::Version> versions{{"copy", [&] { copy_(copy, logits); }}};
    for (const auto& v : variants) {
      versions.push_back({v.first, [&] { sample_logits(logits, v.second, 1, offset += uint64_t(rows)); }});
      if (unfused) versions.push_back({"unfused_" + v.first, [&] { checksum += unfused_sample(logits, v.second, ++offset); }});
    }
    const size_t per_variant = unfused ? 2 : 1;

    auto measure_once = [&] {
      bench::Report r{"sampling", dev, {{"rows", double(rows)}, {"vocab", double(vocab)}, {"temperature", temperature},
                                           {"top_k", double(top_k)}, {"top_p", top_p}}};
      const std::vector<bench::Timing> t = bench::measure(dev, versions, reps);
      const double logit_bytes = 4.0 * double(rows) * double(vocab);
      r.runs.push_back({"copy", t[0], 0, 2 * logit_bytes});
      for (size_t k = 0; k < variants.size(); ++k) {
        const std::string& name = variants[k].first;
        const bench::Timing& fused = t[1 + k * per_variant];
        r.runs.push_back({name, fused, 0, logit_bytes + 12.0 * double(rows)});
        r.ratios["time_" + name + "_vs_copy"] = bench::time_ratio(fused, t[0]);
        if (unfused) {
          r.runs.push_back({"unfused_" + name, t[2 + k * per_variant], 0, 0});
          r.ratios["time_" + name + "_vs_unfused"] = bench::time_ratio(fused, t[2 + k * per_variant]);
        }
      }
      r.ceilings = bench::measure_ceilings(dev);
      char title[160];
      std::snprintf(title, sizeof title, "fused softmax-sampling: %lld rows x V %lld, temperature %g, top-k %lld, top-p %g",
                    (long long)rows, (long long)vocab, temperature, (long long)top_k, top_p);
      r.print(title);
      for (const auto& [name, ratio] : r.ratios) std::printf("%s: %.3f\n", name.c_str(), ratio);
      r.count_runs();
      return r;
    };
    const int code = bench::finish("bench_sampling", measure_once, opts);
    if (checksum < 0) std::printf("%lld\n", (long long)checksum);  // keeps the unfused draws observable
    return code;
  });
}
