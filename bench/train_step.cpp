// End-to-end training steps on one backend, each timed whole (forward, backward, AdamW):
//   mle_unfused  MLE step, the loss through the full B·T×V logits (model.output_chunk 0);
//   mle_fused    the same step through the fused output layer (output_chunk 4096);
//   gcn          a GCN step with q̂ = p: one discriminator step (BCE, real against samples), M
//                samples drawn with the KV cache, scored by D, weights wᵢ ∝ D(yᵢ) normalised,
//                and the weighted log-prob step of the generator (fused output layer).
// Data are random tokens: the cost of a step does not depend on them. Reports median time, tokens
// per second and peak memory of each, and the ratios fused/unfused MLE and GCN/MLE (lower is
// better); on CUDA also what each step, and each part of the GCN step (sampling, D step, scoring,
// weighted step), asked of the GPU (core/counters.h). `--check BASELINE.json` fails on a ratio more
// than its tolerance worse, or a counter above its baseline. Sizes: tiny (the emulator's counter
// guard in CI: d 32, 2 layers, V 512, 4 × 16 tokens, 4 samples of 8), small (CPU, CI: d 64, 2
// layers, V 5000, 16 × 32 tokens, 16 samples of 24), oracle (configs/oracle_*.yaml's shape: d 32,
// 2 layers, 2 heads, V 5000, 64 × 20 tokens, 64 samples of 20; the CPU ratio against the PyTorch
// peer at one thread), gpt2 (GPT-2 small: d 768, 12 layers, 12 heads, V 50257, 8 × 1024 tokens;
// 32 samples of 128 tokens).
//   bench_train_step [--device cpu|cuda] [--size tiny|small|oracle|gpt2] [--reps R] [--json FILE] [--check BASELINE.json]
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <string>

#include "bench/harness.h"
#include "engine/optim.h"
#include "models/discriminator.h"
#include "trainers/decoding/decoders.h"

using namespace coopgen;

namespace {

struct Size {
  GeneratorConfig g;
  int64_t vocab, batch, time, samples, sample_len;
};

// ids = [start, y₀ … y_{T−2}] and targets y for each sequence, all of length T.
void teacher_forcing(const Sequences& seqs, Device dev, Tensor& ids, Tensor& targets) {
  const int64_t B = int64_t(seqs.size()), T = int64_t(seqs[0].size());
  std::vector<int32_t> in, out;
  for (const auto& s : seqs) {
    in.push_back(0);
    in.insert(in.end(), s.begin(), s.end() - 1);
    out.insert(out.end(), s.begin(), s.end());
  }
  ids = Tensor::from(in, {B, T}).to(dev);
  targets = Tensor::from(out, {B, T}).to(dev);
}

}  // namespace

int main(int argc, char** argv) {
  return bench::guarded_main("bench_train_step", [&] {
    const bench::Options opts(argc, argv, {{"device", "cpu"}, {"size", "small"}, {"reps", "10"}, {"precision", "fp32"}});
    const Device dev = opts.device();
    const Precision precision = opts.precision();
    const int reps = int(opts.num("reps"));
    const Size z = opts.preset<Size>("size", {{"tiny", {{{32, 2, 2, 17, 0.02}}, 512, 4, 16, 4, 8}},
                                              {"small", {{{64, 2, 4, 33, 0.02}}, 5000, 16, 32, 16, 24}},
                                              {"oracle", {{{32, 2, 2, 21, 0.02}}, 5000, 64, 20, 64, 20}},
                                              {"gpt2", {{{768, 12, 12, 1025, 0.02}}, 50257, 8, 1024, 32, 128}}});

    GeneratorConfig unfused_cfg = z.g, fused_cfg = z.g;
    fused_cfg.output_chunk = 4096;
    Generator unfused(unfused_cfg, z.vocab, 1, dev, precision), fused(fused_cfg, z.vocab, 1, dev, precision);
    TransformerDiscriminator d(z.g, z.vocab, 2, dev, /*causal=*/true, precision);
    OptimConfig oc;
    AdamW opt_unfused(unfused.params(), oc), opt_fused(fused.params(), oc), opt_d(d.params(), oc);

    // The MLE batch: random tokens, every position a target.
    const std::vector<float> u = Tensor::uniform({z.batch * z.time}, 3, 0, 0, 1).to_vector<float>();
    Sequences data(static_cast<size_t>(z.batch));
    for (size_t k = 0; k < u.size(); ++k) data[k / size_t(z.time)].push_back(int32_t(u[k] * float(z.vocab - 1)) + 1);
    Tensor ids, targets;
    teacher_forcing(data, dev, ids, targets);
    const Tensor mask = Tensor::full({z.batch, z.time}, 1.0, DType::F32, dev);
    const Tensor w_mle = Tensor::full({z.batch}, 1.0 / double(z.batch * z.time), DType::F32, dev);
    auto mle_step = [&](Generator& g, AdamW& opt) {
      g.weighted_logprob(ids, targets, mask, w_mle).backward();
      opt.step();
      opt.zero_grad();
    };

    uint64_t draw = 0;
    std::map<std::string, DeviceCounters> gcn_parts;  // what each part of the last GCN step asked of the GPU
    PerfCounters part;
    auto end_part = [&](const char* name) {
      gcn_parts[name] = part.read();
      part = PerfCounters();
    };
    auto gcn_step = [&] {
      part = PerfCounters();
      const Prompts prompts = Prompts::unconditional(0, z.samples);
      SampledSet s = sample_sequences(fused, prompts, z.sample_len, SamplingConfig{}, 100 + draw++);
      end_part("gcn.sampling");
      // D: the real batch's first sample_len tokens against the samples.
      Sequences both(data.begin(), data.begin() + std::min<int64_t>(z.batch, z.samples));
      for (auto& r : both) r.resize(size_t(z.sample_len));
      const size_t n_real = both.size();
      both.insert(both.end(), s.seqs.begin(), s.seqs.end());
      Tensor d_in, d_seqs;  // D reads the sequences themselves (the second output)
      teacher_forcing(both, dev, d_in, d_seqs);
      std::vector<float> labels(both.size(), 0.0f);
      std::fill(labels.begin(), labels.begin() + long(n_real), 1.0f);
      const Tensor d_mask = Tensor::full({int64_t(both.size()), z.sample_len}, 1.0, DType::F32, dev);
      bce_with_logits(d.forward(d_seqs, d_mask), Tensor::from(labels, {int64_t(labels.size())}).to(dev)).backward();
      opt_d.step();
      opt_d.zero_grad();
      end_part("gcn.d_step");
      // Weights wᵢ ∝ D(yᵢ) (q̂ = p), self-normalised, then the weighted log-prob step.
      const std::vector<double> x = discriminator_logits(d, s.seqs, 0, dev);
      end_part("gcn.scoring");
      std::vector<float> w(x.size());
      double total = 0;
      for (size_t i = 0; i < x.size(); ++i) total += 1.0 / (1.0 + std::exp(-x[i]));
      for (size_t i = 0; i < x.size(); ++i) w[i] = float(1.0 / (1.0 + std::exp(-x[i])) / total / double(z.sample_len));
      Tensor g_ids, g_targets;
      teacher_forcing(s.seqs, dev, g_ids, g_targets);
      const Tensor g_mask = Tensor::full({z.samples, z.sample_len}, 1.0, DType::F32, dev);
      fused.weighted_logprob(g_ids, g_targets, g_mask, Tensor::from(w, {z.samples}).to(dev)).backward();
      opt_fused.step();
      opt_fused.zero_grad();
      end_part("gcn.weighted_step");
    };

    const double mle_tokens = double(z.batch * z.time), gcn_tokens = double(z.samples * z.sample_len);
    auto measure_once = [&] {
      bench::Report r{"train_step", dev,
                      {{"d_model", double(z.g.d_model)}, {"layers", double(z.g.layers)}, {"vocab", double(z.vocab)},
                       {"batch", double(z.batch)}, {"time", double(z.time)}, {"samples", double(z.samples)},
                       {"sample_len", double(z.sample_len)}}};
      const std::vector<bench::Timing> t = bench::measure(
          dev, {{"mle_unfused", [&] { mle_step(unfused, opt_unfused); }}, {"mle_fused", [&] { mle_step(fused, opt_fused); }}, {"gcn", gcn_step}},
          reps, 2);
      r.runs = {{"mle_unfused", t[0]}, {"mle_fused", t[1]}, {"gcn", t[2]}};
      r.count_runs();
      if (dev == Device::CUDA)
        for (const auto& [name, c] : gcn_parts) r.counters[name] = bench::counter_row(c);
      r.ceilings = bench::measure_ceilings(dev);
      r.ratios = {{"time_mle_fused_vs_unfused", bench::time_ratio(t[1], t[0])},
                  {"memory_mle_fused_vs_unfused", t[1].peak_mb / t[0].peak_mb},
                  {"time_gcn_vs_mle_fused", bench::time_ratio(t[2], t[1])}};
      char title[200];
      std::snprintf(title, sizeof title, "training steps: d %lld, %lld layers, %lld heads, V %lld; MLE %lld x %lld tokens, GCN %lld samples of %lld",
                    (long long)z.g.d_model, (long long)z.g.layers, (long long)z.g.heads, (long long)z.vocab,
                    (long long)z.batch, (long long)z.time, (long long)z.samples, (long long)z.sample_len);
      r.print(title);
      for (size_t k = 0; k < r.runs.size(); ++k)
        std::printf("%s: %.0f tokens/s\n", r.runs[k].name.c_str(), (k < 2 ? mle_tokens : gcn_tokens) / t[k].median_ms * 1e3);
      std::printf("MLE fused / unfused: time %.3f, peak memory %.3f; GCN / MLE (fused): time %.3f\n",
                  r.ratios["time_mle_fused_vs_unfused"], r.ratios["memory_mle_fused_vs_unfused"], r.ratios["time_gcn_vs_mle_fused"]);
      return r;
    };
    return bench::finish("bench_train_step", measure_once, opts);
  });
}
