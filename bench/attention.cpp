// Attention forward + backward, the op (engine/ops.h attention: no Tq×Tk scores kept, recomputed
// from the log-sum-exp backward) against the unfused composition in the same process:
// scores = q·kᵀ (matmul), + a −∞ causal bias, softmax, ·v (matmul), every intermediate kept for
// the backward pass; on CUDA also the op with its bf16 tensor-core forward (`op_bf16`). Reports
// median time and peak memory of each and their ratios op/unfused
// (lower is better); `--check BASELINE.json` fails on a ratio more than 15% worse. Sizes: small
// (CPU, CI: B 8, H 4, T 160, d 32), gpt2 (B 8, H 12, T 1024, d 64: issue 5's target shape).
//   bench_attention [--device cpu|cuda] [--size small|gpt2] [--batch B] [--heads H] [--time T]
//                   [--dim D] [--reps R] [--json FILE] [--check BASELINE.json]
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "bench/harness.h"
#include "engine/ops.h"

using namespace coopgen;

int main(int argc, char** argv) {
  return bench::guarded_main("bench_attention", [&] {
    const bench::Options opts(argc, argv, {{"device", "cpu"}, {"size", "small"}, {"batch", "0"}, {"heads", "0"},
                                        {"time", "0"}, {"dim", "0"}, {"reps", "20"}});
    const Device dev = opts.device();
    const Shape z = opts.preset<Shape>("size", {{"small", {8, 4, 160, 32}}, {"gpt2", {8, 12, 1024, 64}}});
    const int64_t batch = opts.num_or("batch", z[0]), heads = opts.num_or("heads", z[1]), time = opts.num_or("time", z[2]),
                  dim = opts.num_or("dim", z[3]);
    const int reps = int(opts.num("reps"));

    const Shape shape{batch, heads, time, dim};
    Tensor q = Tensor::uniform(shape, 1, 0, -1, 1).to(dev).requires_grad_();
    Tensor k = Tensor::uniform(shape, 2, 0, -1, 1).to(dev).requires_grad_();
    Tensor v = Tensor::uniform(shape, 3, 0, -1, 1).to(dev).requires_grad_();
    const Tensor dout = Tensor::uniform(shape, 4, 0, -1, 1).to(dev);
    // The causal bias of the unfused version, [B·H, T, T] (add does not broadcast): 0 on and below
    // the diagonal, −∞ above. Made once, outside the measured calls.
    const int64_t bh = batch * heads;
    std::vector<float> bias(static_cast<size_t>(bh * time * time));
    for (size_t n = 0; n < bias.size(); ++n) {
      const int64_t i = int64_t(n) / time % time, j = int64_t(n) % time;
      bias[n] = j > i ? -std::numeric_limits<float>::infinity() : 0.0f;
    }
    const Tensor causal_bias = Tensor::from(bias, {bh, time, time}).to(dev);

    auto clear = [&] { q.zero_grad(), k.zero_grad(), v.zero_grad(); };
    double op_sum = 0, unfused_sum = 0;
    // The op on (qx, kx, vx), f32 or bf16 storage.
    auto run_op = [&](Tensor& qx, Tensor& kx, Tensor& vx, const Tensor& dx, double& out_sum) {
      Tensor o = attention(qx, kx, vx, Tensor(), true);  // bf16 q, k, v: the mma.sync kernels
      o.backward(dx);
      out_sum = sum(o.detach().to(DType::F32)).item();
      qx.zero_grad(), kx.zero_grad(), vx.zero_grad();
    };
    auto op = [&] { run_op(q, k, v, dout, op_sum); };
    auto unfused = [&] {
      Tensor s = scale(matmul(q.reshape({bh, time, dim}), k.reshape({bh, time, dim}), false, true), 1.0 / std::sqrt(double(dim)));
      Tensor o = matmul(softmax(add(s, causal_bias)), v.reshape({bh, time, dim})).reshape(shape);
      o.backward(dout);
      unfused_sum = sum(o.detach()).item();
      clear();
    };
    // On CUDA also the op as precision bf16 runs it: bf16 q, k, v, o and gradients, mma.sync.
    double bf16_sum = 0;
    Tensor qb = q.detach().to(DType::BF16).requires_grad_(), kb = k.detach().to(DType::BF16).requires_grad_(),
           vb = v.detach().to(DType::BF16).requires_grad_();
    const Tensor doutb = dout.to(DType::BF16);
    auto op_bf16 = [&] { run_op(qb, kb, vb, doutb, bf16_sum); };
    std::vector<bench::Version> versions{{"unfused", unfused}, {"op", op}};
    if (dev == Device::CUDA) versions.push_back({"op_bf16", op_bf16});
    // Useful FLOPs of causal attention forward + backward: 4·B·H·T²·d forward (two products,
    // half the matrix), 2.5× that backward; the usual accounting of FlashAttention's papers.
    const double flop = 3.5 * 4.0 * double(batch * heads) * double(time) * double(time) * double(dim) / 2;
    auto measure_once = [&] {
      bench::Report r{"attention", dev, {{"batch", double(batch)}, {"heads", double(heads)}, {"time", double(time)}, {"dim", double(dim)}}};
      const std::vector<bench::Timing> timings = bench::measure(dev, versions, reps);
      r.runs = {{"unfused", timings[0], flop}, {"op", timings[1], flop}};
      r.ceilings = bench::measure_ceilings(dev);
      if (dev == Device::CUDA) {
        r.runs.push_back({"op_bf16", timings[2], flop});
        r.ratios["time_op_bf16_vs_unfused"] = bench::time_ratio(timings[2], timings[0]);
      }
      if (std::fabs(op_sum - unfused_sum) > 1e-3 * (1 + std::fabs(unfused_sum)))
        fail("the op's output sum ", op_sum, " differs from the unfused ", unfused_sum);
      r.ratios["time_op_vs_unfused"] = bench::time_ratio(timings[1], timings[0]);
      r.ratios["memory_op_vs_unfused"] = timings[1].peak_mb / timings[0].peak_mb;
      char title[128];
      std::snprintf(title, sizeof title, "causal attention, forward + backward: B %lld, H %lld, T %lld, d %lld",
                    (long long)batch, (long long)heads, (long long)time, (long long)dim);
      r.print(title);
      std::printf("op / unfused: time %.3f, peak memory %.3f\n", r.ratios["time_op_vs_unfused"], r.ratios["memory_op_vs_unfused"]);
      r.count_runs();
      return r;
    };
    return bench::finish("bench_attention", measure_once, opts);
  });
}
