// The reward-weighted log-prob loss of the output layer, forward and backward, fused against
// unfused on one backend:
//   unfused: logits = h·Wᵀ [N×V] in memory, then weighted_logprob (the composition every trainer
//            used before), backward through both;
//   fused:   weighted_logprob_linear, the vocabulary in chunks (engine/ops.h): N·chunk floats of
//            logits at a time, one more h·Wᵀ product (recomputed in the backward pass).
// Reports median time and peak memory of each and their ratios fused/unfused (lower is better);
// `--check BASELINE.json` fails on a ratio more than 15% worse than the baseline's. Sizes: small
// (CPU, CI), gpt2 (N = 16384 tokens, V = 50257, d = 768: issue 5's target shape).
//   bench_logprob [--device cpu|cuda] [--size small|gpt2] [--rows N] [--vocab V] [--dim D]
//                 [--chunk C] [--precision fp32|bf16] [--reps R] [--json FILE] [--check BASELINE.json]
#include <cmath>
#include <cstdio>
#include <string>

#include "bench/harness.h"
#include "engine/ops.h"

using namespace coopgen;

int main(int argc, char** argv) {
  return bench::guarded_main("bench_logprob", [&] {
    const bench::Options opts(argc, argv, {{"device", "cpu"}, {"size", "small"}, {"rows", "0"}, {"vocab", "0"},
                                        {"dim", "0"}, {"chunk", "0"}, {"reps", "20"}, {"precision", "fp32"}});
    const Device dev = opts.device();
    struct Preset {
      int64_t rows, vocab, dim, chunk;
    };
    const Preset z = opts.preset<Preset>("size", {{"small", {1024, 5575, 128, 1024}}, {"gpt2", {16384, 50257, 768, 4096}}});
    const int64_t rows = opts.num_or("rows", z.rows), vocab = opts.num_or("vocab", z.vocab), dim = opts.num_or("dim", z.dim),
                  chunk = opts.num_or("chunk", z.chunk);
    const int reps = int(opts.num("reps"));
    const int64_t time = 64, batch = rows / time;
    if (batch * time != rows) fail("--rows ", rows, " must be a multiple of ", time, " (sequences of 64 tokens)");

    // Inputs from the Philox stream: h at the scale of a layer-normed state, W at init scale,
    // targets anywhere in the vocabulary, a few masked positions, weights around 1.
    // Under --precision bf16 on CUDA, h and W are stored as bf16 (the model's activations and its
    // weight cast for use), the logits chunks too; the loss and its per-row state stay f32.
    const DType act = dev == Device::CUDA && opts.precision() == Precision::BF16 ? DType::BF16 : DType::F32;
    Tensor h = Tensor::uniform({batch, time, dim}, 1, 0, -1, 1, DType::F32).to(dev).to(act).requires_grad_();
    Tensor W = Tensor::uniform({vocab, dim}, 2, 0, -0.05, 0.05, DType::F32).to(dev).to(act).requires_grad_();
    std::vector<float> u = Tensor::uniform({rows}, 3, 0, 0, 1, DType::F32).to_vector<float>();
    std::vector<int32_t> ids(static_cast<size_t>(rows));
    std::vector<float> mask(static_cast<size_t>(rows));
    for (size_t k = 0; k < ids.size(); ++k) {
      ids[k] = int32_t(u[k] * float(vocab)) % int32_t(vocab);
      mask[k] = (k % size_t(time)) < size_t(time - 3) ? 1.0f : 0.0f;  // the last 3 positions padded
    }
    const Tensor y = Tensor::from(ids, {batch, time}).to(dev), m = Tensor::from(mask, {batch, time}).to(dev);
    const Tensor w = Tensor::uniform({batch}, 4, 0, 0.5, 1.5, DType::F32).to(dev);

    double unfused_loss = 0, fused_loss = 0;
    auto unfused = [&] {
      Tensor loss = weighted_logprob(matmul(h, W, false, true), y, m, w);
      loss.backward();
      unfused_loss = loss.item();
      h.zero_grad(), W.zero_grad();
    };
    auto fused = [&] {
      Tensor loss = weighted_logprob_linear(h, W, y, m, w, chunk);
      loss.backward();
      fused_loss = loss.item();
      h.zero_grad(), W.zero_grad();
    };
    // GEMM work of the three products every version needs (logits, dh, dW): 6·N·V·d.
    const double flop = 6.0 * double(rows) * double(vocab) * double(dim);
    auto measure_once = [&] {
      bench::Report r{"logprob", dev, {{"rows", double(rows)}, {"vocab", double(vocab)}, {"dim", double(dim)},
                                          {"chunk", double(chunk)}}};
      const std::vector<bench::Timing> timings = bench::measure(dev, {{"unfused", unfused}, {"fused", fused}}, reps);
      r.runs = {{"unfused", timings[0], flop}, {"fused", timings[1], flop}};
      r.ceilings = bench::measure_ceilings(dev);
      // bf16 logits: the two routes may round a product differently in the last bit.
      if (std::fabs(fused_loss - unfused_loss) > (act == DType::BF16 ? 1e-3 : 1e-4) * std::fabs(unfused_loss))
        fail("the fused loss ", fused_loss, " differs from the unfused ", unfused_loss);
      const bench::Timing &a = timings[0], &b = timings[1];
      r.ratios = {{"time_fused_vs_unfused", bench::time_ratio(b, a)}, {"memory_fused_vs_unfused", b.peak_mb / a.peak_mb}};
      char title[160];
      std::snprintf(title, sizeof title, "weighted log-prob of the output layer, forward + backward: N %lld, V %lld, d %lld, chunk %lld",
                    (long long)rows, (long long)vocab, (long long)dim, (long long)chunk);
      r.print(title);
      std::printf("fused / unfused: time %.3f, peak memory %.3f\n", r.ratios["time_fused_vs_unfused"],
                  r.ratios["memory_fused_vs_unfused"]);
      r.count_runs();
      return r;
    };
    return bench::finish("bench_logprob", measure_once, opts);
  });
}
