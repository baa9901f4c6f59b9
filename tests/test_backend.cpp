// Backend consistency: every registered op case runs on CUDA (f32) and on the CPU reference
// (f32), on the same fresh random inputs, with every allocation poisoned (0xFF) beforehand; the
// outputs and the gradients of every differentiable input must agree per element within
// |ref − x| ≤ atol + rtol·|ref|. Also op-level checks that the cases do not reach (the Philox
// stream bit for bit, AdamW, casts). Exits 77 (CTest: Skipped) when no GPU is visible
// (tests/backend_main.cpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include <cmath>
#include <cstdio>
#include <limits>

#include "core/counters.h"
#include "engine/allocator.h"
#include "engine/device.h"
#include "engine/optim.h"
#include "models/generator.h"
#include "tests/op_cases.h"
#include "trainers/decoding/decoders.h"

using namespace coopgen;
using namespace coopgen::testing;

// f32 kernels that reorder sums (block reductions, cuBLAS) differ from the double-accumulating
// CPU reference by a few ulps times the reduction length; these bounds leave ~100× margin at the
// test sizes while a wrong index gives errors of order 1.
constexpr double kAtol = 1e-5, kRtol = 1e-4;

static void require_close(const Tensor& ref, const Tensor& got, const std::string& what) {
  REQUIRE(ref.shape() == got.shape());
  std::vector<float> r = ref.to(Device::CPU).to_vector<float>(), g = got.to(Device::CPU).to_vector<float>();
  for (size_t k = 0; k < r.size(); ++k) {
    INFO(what << " element " << k << ": cpu " << r[k] << ", cuda " << g[k]);
    REQUIRE(std::fabs(double(r[k]) - double(g[k])) <= kAtol + kRtol * std::fabs(double(r[k])));
  }
}

TEST_CASE("every op on CUDA matches the CPU reference, forward and backward", "[gpu]") {
  allocator(Device::CUDA).set_poison(true);
  allocator(Device::CPU).set_poison(true);
  uint64_t seed = 1000;
  for (const OpCase& c : op_cases()) {
    SECTION(c.name) {
      std::vector<Tensor> xc = make_inputs(c, DType::F32, Device::CPU, seed);
      std::vector<Tensor> xg = make_inputs(c, DType::F32, Device::CUDA, seed);
      Tensor yc = c.fn(xc), yg = c.fn(xg);
      require_close(yc, yg, c.name + " output");
      Tensor r = Tensor::uniform(yc.shape(), 5, 0, -1, 1);
      yc.backward(r);
      yg.backward(r.to(Device::CUDA));
      for (size_t i = 0; i < xc.size(); ++i)
        if (differentiable(c.inputs[i].kind))
          require_close(xc[i].grad(), xg[i].grad(), c.name + " gradient of input " + std::to_string(i));
    }
    ++seed;
  }
}

TEST_CASE("index_add_ on CUDA matches the CPU, repeated ids included", "[gpu]") {
  allocator(Device::CUDA).set_poison(true);
  allocator(Device::CPU).set_poison(true);
  const int64_t R = 37, C = 3, N = 101;  // N > R: ids repeat
  Tensor tc = Tensor::uniform({R, C}, 71, 0, -1, 1), src = Tensor::uniform({N, C}, 72, 0, -1, 1);
  std::vector<int32_t> ids(static_cast<size_t>(N));
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t((i * 13 + 5) % size_t(R));
  Tensor tg = tc.to(Device::CUDA);
  // The reference in double, from the inputs: table + Σ of the rows sent to each id.
  const std::vector<float> t0 = tc.to_vector<float>(), s = src.to_vector<float>();
  std::vector<double> want(t0.begin(), t0.end());
  for (size_t i = 0; i < ids.size(); ++i)
    for (size_t c = 0; c < size_t(C); ++c) want[size_t(ids[i]) * size_t(C) + c] += double(s[i * size_t(C) + c]);
  index_add_(tc, Tensor::from(ids, {N}), src);
  index_add_(tg, Tensor::from(ids, {N}, Device::CUDA), src.to(Device::CUDA));
  require_close(tc, tg, "index_add_");
  const std::vector<float> got = tc.to_vector<float>();
  for (size_t k = 0; k < want.size(); ++k) REQUIRE(double(got[k]) == Approx(want[k]).margin(1e-5));
}

// Attention shapes for the CUDA checks: q, k, v uniform in [−1, 1) and, when padded, the first
// sequence's last `padding` keys masked.
struct AttentionCase {
  int64_t b, h, tq, tk, d;
  bool causal, padded;
};
struct AttentionInputs {
  Tensor q, k, v, mask;
};
static AttentionInputs attention_inputs(const AttentionCase& c, uint64_t& seed, int64_t padding) {
  AttentionInputs x{Tensor::uniform({c.b, c.h, c.tq, c.d}, seed, 0, -1, 1), Tensor::uniform({c.b, c.h, c.tk, c.d}, seed + 1, 0, -1, 1),
                    Tensor::uniform({c.b, c.h, c.tk, c.d}, seed + 2, 0, -1, 1), Tensor()};
  seed += 3;
  if (c.padded) {
    std::vector<float> m(static_cast<size_t>(c.b * c.tk), 1.0f);
    for (int64_t j = c.tk - padding; j < c.tk; ++j) m[size_t(j)] = 0.0f;
    x.mask = Tensor::from(m, {c.b, c.tk});
  }
  return x;
}

TEST_CASE("attention on CUDA matches the CPU at the head sizes models use", "[gpu]") {
  // Head dims 64 and 128 (the kernels' lane slots) and an odd 20 (the oracle's heads are 16
  // wide), lengths that are not multiples of the 16-query or 32-key tiles, causal and padded,
  // full and cached.
  allocator(Device::CUDA).set_poison(true);
  const AttentionCase cases[] = {{2, 3, 45, 45, 64, true, false}, {1, 2, 33, 33, 128, false, true},
                                 {2, 2, 7, 70, 128, true, true},  {1, 1, 1, 50, 64, true, false},
                                 {1, 2, 37, 37, 20, true, true}};
  uint64_t seed = 900;
  for (const AttentionCase& c : cases) {
    INFO("B " << c.b << " H " << c.h << " Tq " << c.tq << " Tk " << c.tk << " d " << c.d);
    const auto [q, k, v, mask] = attention_inputs(c, seed, 5);
    std::vector<Tensor> xc{q.clone().requires_grad_(), k.clone().requires_grad_(), v.clone().requires_grad_()};
    std::vector<Tensor> xg{q.to(Device::CUDA).requires_grad_(), k.to(Device::CUDA).requires_grad_(), v.to(Device::CUDA).requires_grad_()};
    Tensor yc = attention(xc[0], xc[1], xc[2], mask, c.causal);
    Tensor yg = attention(xg[0], xg[1], xg[2], mask.defined() ? mask.to(Device::CUDA) : Tensor(), c.causal);
    require_close(yc, yg, "attention output");
    const Tensor r = Tensor::uniform(yc.shape(), seed++, 0, -1, 1);
    yc.backward(r);
    yg.backward(r.to(Device::CUDA));
    for (size_t i = 0; i < 3; ++i) require_close(xc[i].grad(), xg[i].grad(), "attention gradient " + std::to_string(i));
  }
}

// The decoding step: one query per head against the first Tk rows of a KV cache of larger
// capacity, read in place (no history: the cache is not copied). Tk from 1 to 3,001 gives one
// split, several, and 47 splits merged; the padded case masks every key of the last split of
// the first sequence (its partial sum is empty).
TEST_CASE("decoding attention on CUDA reads a KV cache in place and matches the CPU", "[gpu]") {
  allocator(Device::CUDA).set_poison(true);
  struct DecodeCase {
    int64_t b, h, tk, capacity, d, padding;
  };
  const DecodeCase cases[] = {{3, 2, 1, 9, 5, 0}, {2, 3, 77, 100, 64, 45}, {1, 2, 3001, 3100, 128, 0}, {8, 4, 513, 600, 64, 7}};
  uint64_t seed = 1500;
  NoGradGuard no_grad;
  for (const DecodeCase& c : cases) {
    INFO("B " << c.b << " H " << c.h << " Tk " << c.tk << " of " << c.capacity << " d " << c.d << " padding " << c.padding);
    const Tensor q = Tensor::uniform({c.b, c.h, 1, c.d}, seed, 0, -1, 1);
    const Tensor kc = Tensor::uniform({c.b, c.h, c.capacity, c.d}, seed + 1, 0, -1, 1);
    const Tensor vc = Tensor::uniform({c.b, c.h, c.capacity, c.d}, seed + 2, 0, -1, 1);
    seed += 3;
    Tensor mask;
    if (c.padding) {
      std::vector<float> m(static_cast<size_t>(c.b * c.tk), 1.0f);
      for (int64_t j = c.tk - c.padding; j < c.tk; ++j) m[size_t(j)] = 0.0f;
      mask = Tensor::from(m, {c.b, c.tk});
    }
    const Tensor k = kc.slice(2, 0, c.tk), v = vc.slice(2, 0, c.tk);
    REQUIRE((c.tk == c.capacity || !k.is_contiguous()));
    const Tensor ref = attention(q, k.contiguous(), v.contiguous(), mask, true);
    require_close(ref, attention(q, k, v, mask, true), "cpu, cache in place");
    const Tensor kg = kc.to(Device::CUDA).slice(2, 0, c.tk), vg = vc.to(Device::CUDA).slice(2, 0, c.tk);
    require_close(ref, attention(q.to(Device::CUDA), kg, vg, mask.defined() ? mask.to(Device::CUDA) : Tensor(), true),
                  "cuda, cache in place");
  }
}

TEST_CASE("attention on bf16 tensor cores stays within bf16 error of the f32 CPU, forward and backward", "[gpu]") {
  // bf16 keeps 8 bits of mantissa: q, k, v, the probabilities and dS are rounded once each, so
  // outputs and gradients are off by about 2⁻⁸ of their scale; a wrong fragment index is off by
  // order 1.
  allocator(Device::CUDA).set_poison(true);
  const AttentionCase cases[] = {{1, 2, 70, 70, 64, true, false}, {2, 1, 33, 97, 128, false, true},
                                 {1, 1, 5, 40, 64, true, true}, {1, 1, 130, 130, 128, true, false}};
  uint64_t seed = 950;
  auto worst_relative = [](const Tensor& want, const Tensor& got) {
    const std::vector<float> a = want.to(Device::CPU).to_vector<float>(),
                             b = got.to(Device::CPU).to(DType::F32).to_vector<float>();
    double worst = 0, scale = 0;
    for (size_t n = 0; n < a.size(); ++n) {
      if (!std::isfinite(b[n])) return std::numeric_limits<double>::infinity();  // an unwritten (poisoned) element
      worst = std::max(worst, std::fabs(double(a[n]) - double(b[n]))), scale = std::max(scale, std::fabs(double(a[n])));
    }
    return worst / std::max(scale, 1e-3);
  };
  for (const AttentionCase& c : cases)
  for (DType storage : {DType::F32, DType::BF16}) {  // bf16 storage: the cp.async staging; f32: rounded as staged
    INFO("B " << c.b << " H " << c.h << " Tq " << c.tq << " Tk " << c.tk << " d " << c.d << " bf16 storage "
              << (storage == DType::BF16));
    auto [q, k, v, mask] = attention_inputs(c, seed, 9);
    if (storage == DType::BF16)  // the CPU reference on the values bf16 storage holds
      for (Tensor* x : {&q, &k, &v}) *x = x->to(DType::BF16).to(DType::F32);
    std::vector<Tensor> xc{q.clone().requires_grad_(), k.clone().requires_grad_(), v.clone().requires_grad_()};
    std::vector<Tensor> xg{q.to(storage).to(Device::CUDA).requires_grad_(), k.to(storage).to(Device::CUDA).requires_grad_(),
                           v.to(storage).to(Device::CUDA).requires_grad_()};
    const Tensor yc = attention(xc[0], xc[1], xc[2], mask, c.causal);
    const Tensor yg = attention(xg[0], xg[1], xg[2], mask.defined() ? mask.to(Device::CUDA) : Tensor(), c.causal,
                                /*tensor_cores=*/true);
    const Tensor r = Tensor::uniform(yc.shape(), seed++, 0, -1, 1).to(DType::BF16).to(DType::F32);
    yg.backward(r.to(storage).to(Device::CUDA));
    yc.backward(r);
    const double out = worst_relative(yc, yg);
    INFO("output: largest difference " << out << " of the largest value");
    REQUIRE(out < 2e-2);
    REQUIRE(out > 0);  // the tensor-core path ran (f32 would agree to 1e-5)
    for (size_t i = 0; i < 3; ++i) {
      const double gr = worst_relative(xc[i].grad(), xg[i].grad());
      INFO("gradient " << i << ": largest difference " << gr << " of the largest value");
      REQUIRE(gr < 3e-2);
      REQUIRE(gr > 0);
    }
  }
}

TEST_CASE("matmuls on bf16 tensor cores stay within bf16 error of the f32 CPU", "[gpu]") {
  // Products of K = 77 terms of operands rounded to bf16 (2⁻⁹ relative each): errors of about
  // √K·2⁻⁹·|a||b| ≈ 0.02 at most here; a transposed operand or a wrong stride is off by order 1.
  const Tensor a = Tensor::uniform({3, 29, 77}, 31, 0, -1, 1), b = Tensor::uniform({77, 45}, 32, 0, -1, 1);
  for (bool tb : {false, true}) {
    const Tensor bb = tb ? b.transpose(0, 1).contiguous() : b;
    const std::vector<float> want = matmul(a, bb, false, tb).to_vector<float>();
    const std::vector<float> got =
        matmul(a.to(Device::CUDA), bb.to(Device::CUDA), false, tb, /*tensor_cores=*/true).to(Device::CPU).to_vector<float>();
    double worst = 0;
    for (size_t n = 0; n < want.size(); ++n) worst = std::max(worst, std::fabs(double(want[n]) - double(got[n])));
    INFO("transposed B " << tb << ", largest difference " << worst);
    REQUIRE(worst < 5e-2);
    REQUIRE(worst > 0);
  }
}

TEST_CASE("the Philox stream is identical on CPU and CUDA, bit for bit", "[gpu]") {
  for (int64_t n : {1, 5, 1023, 100003}) {
    std::vector<float> a = Tensor::uniform({n}, 77, 12345, -2, 3).to_vector<float>();
    std::vector<float> b = Tensor::uniform({n}, 77, 12345, -2, 3, DType::F32, Device::CUDA).to_vector<float>();
    REQUIRE(a == b);
  }
}

TEST_CASE("dropout masks are identical on CPU and CUDA, bit for bit", "[gpu]") {
  for (int64_t n : {1, 1023, 100003}) {
    const Tensor x = Tensor::uniform({n}, 5, 0, -1, 1);
    const std::vector<float> cpu = dropout(x, 0.3, 77, 9).to_vector<float>();
    Tensor poisoned = Tensor::full({n}, std::nan(""), DType::F32, Device::CUDA);
    poisoned = dropout(x.to(Device::CUDA), 0.3, 77, 9);
    REQUIRE(cpu == poisoned.to(Device::CPU).to_vector<float>());
  }
}

// Row lengths that take each path of the fused sampler: a short row (256 threads), rows staged in
// shared memory (512 and 1024 threads, GPT-2's 50,257), and a row too long to stage (60,001
// floats: the truncation passes re-read global memory). The tied logits (multiples of 1/4) check
// that every token equal to a top-k or top-p threshold is kept, as on the CPU; min-p 1 keeps
// exactly the tokens tied with the max, as does a temperature whose inverse f32 cannot hold.
TEST_CASE("the sampler on CUDA draws the CPU's tokens", "[gpu]") {
  const SamplingConfig configs[] = {
      sampling(1.0),          sampling(0.7),          sampling(1.0, 40),         sampling(1.0, 0, 0.9),
      sampling(1.3, 50, 0.8), sampling(0.0),          sampling(0.8, 1),          sampling(1.0, 1000, 0.95),
      sampling(2.0, 0, 0.3),  sampling(1.0, 0, 0.9, 0.5), sampling(1.3, 50, 0.8, 0.25), sampling(0.8, 1, 1.0, 0.1),
      sampling(1.0, 0, 1.0, 0.3), sampling(1.0, 0, 1.0, 0.0, 0.05), sampling(1.5, 0, 1.0, 0.2, 0.1),
      sampling(0.9, 100, 0.95, 0.0, 0.02), sampling(0.7, 40, 0.9, 0.0, 0.3), sampling(1.0, 0, 1.0, 0.0, 1.0),
      sampling(1e-40)};  // 1/τ past f32's range: the maximum alone
  const std::pair<int64_t, int64_t> shapes[] = {{19, 301}, {9, 5003}, {3, 50257}, {2, 60001}};
  int draws = 0, same = 0;
  for (const auto& [rows, vocab] : shapes)
    for (bool tied : {false, true}) {
      Tensor logits = Tensor::uniform({rows, vocab}, 8 + uint64_t(vocab), 0, -6, 6);
      if (tied) logits = Tensor::from(
          [&] {
            std::vector<float> x = logits.to_vector<float>();
            for (float& v : x) v = std::round(v * 4) / 4;
            return x;
          }(),
          {rows, vocab});
      for (const SamplingConfig& cfg : configs) {
        INFO(rows << "x" << vocab << (tied ? " tied" : "") << ", temperature " << cfg.temperature << " top_k "
                  << cfg.top_k << " top_p " << cfg.top_p << " min_p " << cfg.min_p << " mix " << cfg.mix);
        allocator(Device::CUDA).set_poison(true);
        Samples c = sample_logits(logits, cfg, 5, 11), g = sample_logits(logits.to(Device::CUDA), cfg, 5, 11);
        std::vector<int32_t> tc = c.tokens.to_vector<int32_t>(), tg = g.tokens.to_vector<int32_t>();
        std::vector<float> pc = c.logp.to_vector<float>(), pg = g.logp.to_vector<float>();
        std::vector<float> qc = c.logq.to_vector<float>(), qg = g.logq.to_vector<float>();
        int here = 0;
        for (size_t r = 0; r < tc.size(); ++r) {
          REQUIRE(tg[r] >= 0);
          REQUIRE(tg[r] < vocab);
          if (tc[r] != tg[r]) continue;  // a draw at a CDF boundary may differ in the last ulp
          ++here;
          REQUIRE(std::fabs(pc[r] - pg[r]) <= 1e-4f);
          REQUIRE(std::fabs(qc[r] - qg[r]) <= 1e-4f);
        }
        REQUIRE(here >= int(rows) - 1);
        draws += int(rows), same += here;
      }
    }
  REQUIRE(same >= draws - draws / 50);
}

TEST_CASE("the sampler reads its Philox stream from memory as it takes it from the call, on CPU and CUDA", "[gpu]") {
  const uint64_t seed = 0x9234567890abcdefULL, base = 0x100000007ULL;  // every word matters; top bits set
  const Tensor words = Tensor::from(philox_words(seed, base), {4});
  // One row per block, and (untruncated, a long row) the split over several blocks with a merge.
  for (const auto& [rows, vocab, cfg] : {std::tuple{7, int64_t(301), sampling(1.0, 0, 0.9)},
                                         {2, int64_t(60001), SamplingConfig{}}}) {
    const Tensor logits = Tensor::uniform({rows, vocab}, 21, 0, -6, 6);
    for (Device d : {Device::CPU, Device::CUDA}) {
      INFO(rows << "x" << vocab << " on " << device_name(d));
      const Tensor z = logits.to(d);
      const Samples from_call = sample_logits(z, cfg, seed, base + 13), from_memory = sample_logits(z, cfg, words.to(d), 13);
      REQUIRE(from_memory.tokens.to_vector<int32_t>() == from_call.tokens.to_vector<int32_t>());
      REQUIRE(from_memory.logq.to_vector<float>() == from_call.logq.to_vector<float>());
      for (auto [s, o] : {std::pair{seed + 1, base + 13}, {seed, base + 14}})
        REQUIRE(sample_logits(z, cfg, s, o).tokens.to_vector<int32_t>() != from_call.tokens.to_vector<int32_t>());
    }
  }
  REQUIRE_THROWS_WITH(sample_logits(Tensor::zeros({1, 3}), {}, Tensor::zeros({2}, DType::I32), 0),
                      Catch::Contains("the Philox stream in memory must be i32 [4]"));
}

TEST_CASE("the sampler on CUDA marks rows without a distribution as the CPU does", "[gpu]") {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  for (const int64_t vocab : {301, 5003}) {
    std::vector<float> z = Tensor::uniform({4, vocab}, 3, 0, -2, 2).to_vector<float>();
    z[size_t(vocab / 2)] = nan;                     // row 0: a NaN
    z[size_t(vocab + vocab - 1)] = inf;            // row 1: +inf
    for (int64_t v = 0; v < vocab; ++v) z[size_t(2 * vocab + v)] = -inf;  // row 2: nothing possible
    const Tensor logits = Tensor::from(z, {4, vocab});
    for (const SamplingConfig& cfg : {SamplingConfig{}, sampling(0.0, 0, 1.0), sampling(1.0, 40, 0.9, 0.5)}) {
      const std::vector<int32_t> c = sample_logits(logits, cfg, 5, 2).tokens.to_vector<int32_t>();
      const std::vector<int32_t> g = sample_logits(logits.to(Device::CUDA), cfg, 5, 2).tokens.to_vector<int32_t>();
      for (int r = 0; r < 3; ++r) REQUIRE(g[size_t(r)] == -1);
      REQUIRE(c[0] == -1);
      REQUIRE(g[3] >= 0);
    }
  }
}

TEST_CASE("AdamW on CUDA matches the CPU step", "[gpu]") {
  OptimConfig cfg;
  cfg.weight_decay = 0.1;
  cfg.grad_clip = 0.5;
  Tensor pc = Tensor::uniform({37, 5}, 1, 0).requires_grad_(), pg = pc.to(Device::CUDA).detach().requires_grad_();
  AdamW oc({{"p", pc}}, cfg), og({{"p", pg}}, cfg);
  for (int step = 0; step < 3; ++step) {
    Tensor g = Tensor::uniform({37, 5}, 2, uint64_t(step) * 100, -1, 1);
    pc.set_grad(g);
    pg.set_grad(g.to(Device::CUDA));
    REQUIRE(oc.step() == Approx(og.step()).epsilon(1e-5));
  }
  require_close(pc, pg, "adamw parameters");
}

TEST_CASE("AdamW on CUDA waits for the device once per step", "[gpu]") {
  // Σ‖g‖² of all parameters stays on the device; the step reads it once (core/counters.h).
  std::vector<Tensor> ps;
  NamedTensors named;
  for (int k = 0; k < 5; ++k) {
    ps.push_back(Tensor::uniform({7, 3}, 1, uint64_t(k), -1, 1, DType::F32, Device::CUDA).requires_grad_());
    named.push_back({"p" + std::to_string(k), ps.back()});
  }
  AdamW opt(named, OptimConfig{});
  for (size_t k = 0; k + 1 < ps.size(); ++k) ps[k].set_grad(Tensor::uniform({7, 3}, 2, k, -1, 1, DType::F32, Device::CUDA));
  double expected = 0;  // the norm computed on the CPU, without the gradient-less last parameter
  for (size_t k = 0; k + 1 < ps.size(); ++k)
    for (float g : ps[k].grad().to_vector<float>()) expected += double(g) * g;
  for (int warm = 0; warm < 2; ++warm) REQUIRE(opt.step() == Approx(std::sqrt(expected)).epsilon(1e-5));
  const PerfCounters counted;  // in steady state: the caching allocator holds all the step needs
  const double norm = opt.step();
  const DeviceCounters c = counted.read();
  REQUIRE(norm == Approx(std::sqrt(expected)).epsilon(1e-5));
  REQUIRE(c.syncs == 1);
  REQUIRE(c.d2h_bytes == 4);
  REQUIRE(c.driver_allocs == 0);
}

TEST_CASE("whole-tensor sums on CUDA run grid-wide, match a float64 sum and repeat bit for bit", "[gpu]") {
  // 100,003 values: seven first-pass blocks and a second pass (kernels/cuda/reduce.cu); 5,001: one
  // block. Integers in [−3, 3]: every partial sum is exact in f32, so the sums must be exact and
  // one element dropped or counted twice shows.
  allocator(Device::CUDA).set_poison(true);
  for (int64_t n : {int64_t(5001), int64_t(100003)}) {
    INFO("n " << n);
    std::vector<float> v = Tensor::uniform({n}, 41, uint64_t(n), -3.49, 3.49).to_vector<float>();
    double s = 0, s2 = 0;
    for (float& e : v) e = std::round(e), s += e, s2 += double(e) * e;
    const Tensor g = Tensor::from(v, {n}, Device::CUDA);
    const float a = sum(g).to_vector<float>()[0], b = sum_squares(g).to_vector<float>()[0];
    REQUIRE(double(a) == s);
    REQUIRE(double(b) == s2);
    REQUIRE(sum(g).to_vector<float>()[0] == a);  // a fixed order: the same bits again
    REQUIRE(sum_squares(g).to_vector<float>()[0] == b);
  }
}

TEST_CASE("the prior filter on CUDA picks the CPU's tokens and normalisers, and its Gumbel-top-k draws", "[gpu]") {
  // Fresh random rows (ties planted, −∞ tokens, rows without a distribution), odd sizes, k from
  // 1 to past V, output poisoned: the picks equal exactly, the normalisers to f32 rounding.
  allocator(Device::CUDA).set_poison(true);
  struct Case {
    int64_t rows, vocab, k;
    double temperature;
  };
  uint64_t seed = 900;
  for (const Case& c : {Case{3, 1, 1, 1.0}, Case{5, 7, 3, 0.7}, Case{4, 301, 50, 1.0}, Case{2, 5003, 17, 1.3},
                        Case{3, 40, 64, 1.0}}) {
    INFO("rows " << c.rows << " V " << c.vocab << " k " << c.k << " tau " << c.temperature);
    std::vector<float> z = Tensor::uniform({c.rows, c.vocab}, seed++, 0, -4, 4).to_vector<float>();
    for (size_t v = 0; v < z.size(); v += 3) z[v] = std::round(z[v]);  // ties
    if (c.rows > 2) {
      z[size_t(c.vocab) - 1] = -std::numeric_limits<float>::infinity();
      z[size_t(c.vocab)] = std::numeric_limits<float>::quiet_NaN();  // row 1: no distribution
    }
    const Tensor x = Tensor::from(z, {c.rows, c.vocab});
    for (bool gumbel : {false, true}) {  // the k largest logits; k tokens drawn by Gumbel-top-k
      INFO("gumbel " << gumbel);
      const std::vector<float> ref = (gumbel ? gumbel_top_k(x, c.k, 5, 91) : top_k_logits(x, c.k, c.temperature)).to_vector<float>();
      allocator(Device::CUDA).set_poison(true);
      const Tensor xg = x.to(Device::CUDA);
      const std::vector<float> got = (gumbel ? gumbel_top_k(xg, c.k, 5, 91) : top_k_logits(xg, c.k, c.temperature)).to_vector<float>();
      REQUIRE(ref.size() == got.size());
      const int64_t k = std::min(c.k, c.vocab), w = 2 * k + 2;
      for (int64_t r = 0; r < c.rows; ++r) {
        const bool defined = !std::isnan(ref[size_t(r * w + 2 * k)]);
        REQUIRE(defined == !std::isnan(got[size_t(r * w + 2 * k)]));
        if (!defined) continue;
        for (int64_t j = 0; j < 2 * k; ++j) REQUIRE(got[size_t(r * w + j)] == ref[size_t(r * w + j)]);
        for (int64_t j = 2 * k; j < w; ++j) REQUIRE(got[size_t(r * w + j)] == Approx(ref[size_t(r * w + j)]).epsilon(1e-5));
      }
    }
  }
}

TEST_CASE("token ids outside the vocabulary on CUDA fail at the next host synchronisation", "[gpu]") {
  // The range check's count stays on the device (no wait of its own); the gather reads zeros for
  // the bad id meanwhile, and the next read from the device fails naming the op and the count.
  allocator(Device::CUDA).set_poison(true);
  const Tensor w = Tensor::uniform({3, 2}, 1, 0, -1, 1, DType::F32, Device::CUDA);
  const PerfCounters counted;
  const Tensor y = embedding(Tensor::from(std::vector<int32_t>{1, 3, -1}, {3}, Device::CUDA), w);
  REQUIRE(counted.read().syncs == 0);
  REQUIRE_THROWS_WITH(y.to(Device::CPU), Catch::Contains("embedding: 2 token id(s) outside the vocabulary [0, 3)"));
  // The failed check is gone: in-range ids go through, and the bad rows were zeros.
  const std::vector<float> ok = embedding(Tensor::from(std::vector<int32_t>{1, 0}, {2}, Device::CUDA), w).to_vector<float>();
  const std::vector<float> rows = w.to_vector<float>();
  REQUIRE(ok == std::vector<float>{rows[2], rows[3], rows[0], rows[1]});
  REQUIRE(y.to_vector<float>() == std::vector<float>{rows[2], rows[3], 0, 0, 0, 0});
  const Tensor logits = Tensor::uniform({2, 4}, 3, 0, -1, 1, DType::F32, Device::CUDA);
  const Tensor ones = Tensor::full({2}, 1.0, DType::F32, Device::CUDA);
  const Tensor lp = weighted_logprob(logits, Tensor::from(std::vector<int32_t>{0, 4}, {2}, Device::CUDA), ones, ones);
  REQUIRE_THROWS_WITH(lp.item(), Catch::Contains("weighted_logprob: 1 token id(s) outside the vocabulary [0, 4)"));
}

TEST_CASE("a CUDA graph replays its capture on new inputs with one launch and re-arms its deferred checks", "[gpu]") {
  allocator(Device::CUDA).set_poison(true);
  // Inputs live outside the graph; each replay reads what they hold then.
  Tensor ids = Tensor::from(std::vector<int32_t>{0, 0, 0, 0, 0}, {5}, Device::CUDA);
  Tensor table = Tensor::zeros({7, 3}, DType::F32, Device::CUDA), w = Tensor::zeros({4, 3}, DType::F32, Device::CUDA);
  Tensor b = Tensor::zeros({4}, DType::F32, Device::CUDA);
  Tensor y, ss, probe = Tensor::zeros({1}, DType::F32, Device::CUDA);
  NoGradGuard no_grad;
  // An embedding (a deferred range check), a cuBLAS product, a grid-wide reduction, a copy out.
  device::Graph graph([&] {
    y = linear(embedding(ids, table), w, b);
    ss = sum_squares(y);
    copy_(probe, ss);
  });
  REQUIRE(probe.item() == 0);  // recorded, not run
  for (uint64_t seed : {1, 2}) {
    const Tensor tc = Tensor::uniform({7, 3}, seed, 0, -1, 1, DType::F32, Device::CPU);
    const Tensor wc = Tensor::uniform({4, 3}, seed, 9, -1, 1, DType::F32, Device::CPU);
    const Tensor bc = Tensor::uniform({4}, seed, 17, -1, 1, DType::F32, Device::CPU);
    const std::vector<int32_t> idv{int32_t(seed), 6, 0, 3, int32_t(seed + 2)};
    for (auto [dst, src] : {std::pair{&table, tc}, {&w, wc}, {&b, bc}}) copy_(*dst, src.to(Device::CUDA));
    copy_(ids, Tensor::from(idv, {5}, Device::CUDA));
    const PerfCounters replay;
    graph.launch();
    REQUIRE(replay.read().launches == 1);
    REQUIRE(replay.read().syncs == 0);
    const Tensor yc = linear(embedding(Tensor::from(idv, {5}, Device::CPU), tc), wc, bc);
    require_close(yc, y, "graph replay, seed " + std::to_string(seed));
    REQUIRE(ss.item() == Approx(sum_squares(yc).item()).epsilon(1e-5));
    REQUIRE(probe.item() == ss.item());
  }
  // A bad id fails at the wait after the replay, with the embedding's message, each replay.
  copy_(ids, Tensor::from(std::vector<int32_t>{0, 7, 0, 0, 0}, {5}, Device::CUDA));
  for (int k = 0; k < 2; ++k) {
    graph.launch();
    REQUIRE_THROWS_WITH(y.to(Device::CPU), Catch::Contains("embedding: 1 token id(s) outside the vocabulary [0, 7)"));
  }
  copy_(ids, Tensor::from(std::vector<int32_t>{0, 1, 2, 3, 4}, {5}, Device::CUDA));
  graph.launch();
  REQUIRE(y.to(Device::CPU).numel() == 20);
}

TEST_CASE("a CUDA graph capture refuses waits and copies of pageable host memory, and leaves the stream usable", "[gpu]") {
  const Tensor x = Tensor::uniform({9}, 4, 0, -1, 1, DType::F32, Device::CUDA);
  const double expected = sum_squares(x.to(Device::CPU)).item();
  REQUIRE(sum_squares(x).item() == Approx(expected).epsilon(1e-6));  // the blocks it needs now cached
  const size_t raw = allocator(Device::CUDA).stats().raw_allocs;
  REQUIRE_THROWS_WITH(device::Graph([&] { (void)Tensor::from(std::vector<float>{1, 2}, {2}, Device::CUDA); }),
                      Catch::Contains("capturing"));
  REQUIRE_THROWS_WITH(device::Graph([&] { (void)sum_squares(x).item(); }), Catch::Contains("capturing"));
  // The failed captures' pools went back to the shared cache: the same work allocates nothing new.
  REQUIRE(sum_squares(x).item() == Approx(expected).epsilon(1e-6));
  REQUIRE(allocator(Device::CUDA).stats().raw_allocs == raw);
}

TEST_CASE("casts and strided copies on CUDA match the CPU", "[gpu]") {
  Tensor x = Tensor::uniform({3, 4, 5}, 3, 0, -100, 100);
  Tensor v = x.permute({2, 0, 1}).slice(1, 1, 3);
  require_close(v.contiguous(), v.to(Device::CUDA).contiguous(), "strided copy");
  REQUIRE(x.to(DType::BF16).to(DType::F32).to_vector<float>() ==
          x.to(Device::CUDA).to(DType::BF16).to(DType::F32).to_vector<float>());
}

// A two-layer generator small enough for every backend, with weights large enough that a wrong
// index changes its outputs.
static GeneratorConfig small_generator(double init_std) {
  GeneratorConfig cfg;
  cfg.d_model = 16;
  cfg.layers = 2;
  cfg.heads = 2;
  cfg.max_len = 9;
  cfg.init_std = init_std;
  return cfg;
}

TEST_CASE("a generator training step and a sampling call through the CUDA path match the CPU", "[gpu]") {
  const GeneratorConfig cfg = small_generator(0.2);
  Generator gc(cfg, 29, 3, Device::CPU), gg(cfg, 29, 3, Device::CUDA);  // same Philox initialisation
  std::vector<int32_t> ids(3 * 7), next(3 * 7);
  for (size_t k = 0; k < ids.size(); ++k) ids[k] = int32_t((k * 7 + 3) % 29), next[k] = int32_t((k * 5 + 1) % 29);
  auto loss_of = [&](Generator& g, Device d) {
    Tensor logits = g.forward(Tensor::from(ids, {3, 7}, d)).reshape({21, 29});
    return cross_entropy(logits, Tensor::from(next, {21}, d), Tensor::full({21}, 1.0, DType::F32, d));
  };
  Tensor lc = loss_of(gc, Device::CPU), lg = loss_of(gg, Device::CUDA);
  REQUIRE(lg.item() == Approx(lc.item()).epsilon(1e-5));
  lc.backward();
  lg.backward();
  for (size_t k = 0; k < gc.params().size(); ++k)
    require_close(gc.params()[k].second.grad(), gg.params()[k].second.grad(), "gradient of " + gc.params()[k].first);
  SampledSet sc = sample_sequences(gc, Prompts::unconditional(0, 5), 8, {}, 21),
             sg = sample_sequences(gg, Prompts::unconditional(0, 5), 8, {}, 21);
  int same = 0;
  for (size_t r = 0; r < sc.seqs.size(); ++r) same += sc.seqs[r] == sg.seqs[r];
  REQUIRE(same >= 4);  // a draw at a CDF boundary may differ, and then so does the rest of its row
}

TEST_CASE("sampling through a CUDA graph draws what the eager CUDA path draws, replay after replay", "[gpu]") {
  GeneratorConfig eager_cfg = small_generator(0.3), graph_cfg = eager_cfg;
  eager_cfg.decode_graphs = false;
  // Two generators with the same weights: one decodes eagerly, the other through graphs.
  Generator eager(eager_cfg, 23, 5, Device::CUDA), graphed(graph_cfg, 23, 5, Device::CUDA);
  allocator(Device::CUDA).set_poison(true);
  // Contexts of two lengths (two groups, one of them split by the batch of 4), an eos, a nucleus.
  const Sequences contexts{{3, 4}, {5}, {6, 7}, {8}, {9, 10}};
  const Prompts prompts{0, contexts, 2};
  const SamplingConfig nucleus = sampling(0.9, 0, 0.8);
  const int32_t eos = sample_sequences(eager, prompts, 6, nucleus, 7, -1, 4).seqs[0][1];  // row 0 ends by step 2
  auto same = [](const SampledSet& a, const SampledSet& b) {
    REQUIRE(a.seqs == b.seqs);
    REQUIRE(a.logp == b.logp);
    REQUIRE(a.logq == b.logq);
  };
  for (uint64_t seed : {7, 8, 7}) {  // captured at the first call, replayed at the others
    INFO("seed " << seed);
    const SampledSet e = sample_sequences(eager, prompts, 6, nucleus, seed, eos, 4);
    same(e, sample_sequences(graphed, prompts, 6, nucleus, seed, eos, 4));
    if (seed == 7) REQUIRE(e.seqs[0].size() <= 2);
    same(sample_sequences(eager, Prompts::unconditional(0, 5), 8, {}, seed),
         sample_sequences(graphed, Prompts::unconditional(0, 5), 8, {}, seed));
  }
  REQUIRE(graphed.decode_graphs()->entries.size() == 4);  // three groups of the prompts, one unconditional
  // Two groups of one shape, at different Philox rows, share a graph (the row offset is read from memory).
  same(sample_sequences(eager, Prompts::unconditional(0, 8), 8, {}, 5, -1, 4),
       sample_sequences(graphed, Prompts::unconditional(0, 8), 8, {}, 5, -1, 4));
  REQUIRE(graphed.decode_graphs()->entries.size() == 5);
  // Weights updated in place (as the optimizer does): the replay reads the new ones.
  for (auto* g : {&eager, &graphed}) {
    Tensor w = g->params()[0].second;
    copy_(w, Tensor::uniform(w.shape(), 99, 0, -1, 1, DType::F32, Device::CUDA));
  }
  same(sample_sequences(eager, Prompts::unconditional(0, 5), 8, {}, 3),
       sample_sequences(graphed, Prompts::unconditional(0, 5), 8, {}, 3));
  REQUIRE(graphed.decode_graphs()->entries.size() == 5);
  // Weights that overflowed: the replay fails naming the decoder and the step; restored, it draws again.
  Tensor wte = graphed.params()[0].second, kept = wte.to(Device::CPU);
  copy_(wte, Tensor::full(wte.shape(), std::nan(""), DType::F32, Device::CUDA));
  REQUIRE_THROWS_WITH(sample_sequences(graphed, Prompts::unconditional(0, 5), 8, {}, 3),
                      Catch::Contains("decoding (sample): the generator's logits of 5 row(s) at token step 1 are not finite"));
  copy_(wte, kept.to(Device::CUDA));
  same(sample_sequences(eager, Prompts::unconditional(0, 5), 8, {}, 3),
       sample_sequences(graphed, Prompts::unconditional(0, 5), 8, {}, 3));
  // A replay costs one launch and one wait beyond the prefill's.
  const PerfCounters graph_counts;
  sample_sequences(graphed, Prompts::unconditional(0, 5), 8, {}, 4);
  const DeviceCounters gc = graph_counts.read();
  const PerfCounters eager_counts;
  sample_sequences(eager, Prompts::unconditional(0, 5), 8, {}, 4);
  const DeviceCounters ec = eager_counts.read();
  INFO("graph: " << gc.launches << " launches, " << gc.syncs << " waits; eager: " << ec.launches << ", " << ec.syncs);
  REQUIRE(gc.syncs == 1);
  REQUIRE(ec.syncs == 8);
  REQUIRE(gc.launches * 4 < ec.launches);
}

TEST_CASE("cooperative decoding through the CUDA path: lookahead, cache-row gathers, MCTS, DAS, guided and rerank match the CPU", "[gpu]") {
  const GeneratorConfig cfg = small_generator(0.3);
  const Generator gc(cfg, 13, 5, Device::CPU), gg(cfg, 13, 5, Device::CUDA);
  Generator::Cache cc = gc.new_cache(3), cg = gg.new_cache(3);
  const std::vector<int32_t> first{1, 4, 7}, paths{6, 2, 8, 1, 0, 0, 10, 3, 4};
  gc.step(Tensor::from(first, {3}), cc);
  gg.step(Tensor::from(first, {3}, Device::CUDA), cg);
  require_close(gc.lookahead(Tensor::from(paths, {3, 3}), {2, 0, 1}, cc),
                gg.lookahead(Tensor::from(paths, {3, 3}, Device::CUDA), {2, 0, 1}, cg), "lookahead logits");
  gc.gather_cache_rows(cc, {2, 0, 0});
  gg.gather_cache_rows(cg, {2, 0, 0});
  for (size_t l = 0; l < cc.k.size(); ++l) require_close(cc.k[l], cg.k[l], "gathered keys");
  {  // A causal D's prefix cache (the tree search's): committed contexts and a token, paths scored.
    DiscriminatorConfig dc;
    dc.d_model = 16, dc.layers = 2, dc.heads = 2, dc.max_len = 10, dc.init_std = 0.5;
    const TransformerDiscriminator dcpu(dc, 13, 6, Device::CPU, true), dgpu(dc, 13, 6, Device::CUDA, true);
    const std::vector<std::vector<int32_t>> contexts{{1, 4}, {2, 9}, {3, 5}};
    const std::vector<const std::vector<int32_t>*> ctx{&contexts[0], &contexts[1], &contexts[2]};
    const std::unique_ptr<PrefixCache> pc = learned_scorer(dcpu, 0, Device::CPU).cached(ctx),
                                       pg = learned_scorer(dgpu, 0, Device::CUDA).cached(ctx);
    pc->commit({7, 0, 5});
    pg->commit({7, 0, 5});
    const std::vector<std::vector<int32_t>> dpaths{{6, 2, 8}, {1}, {10, 3}};
    const std::vector<double> xc = pc->score(dpaths, {0, 1, 2}), xg = pg->score(dpaths, {0, 1, 2});
    for (size_t r = 0; r < 3; ++r) REQUIRE(xg[r] == Approx(xc[r]).margin(1e-4));
    // The guided proposal through that cache, drawn on each backend; with one candidate the top-k
    // runs on the device (8k ≤ V), with four on the host.
    for (int64_t k : {1, 4}) {
      GuidedConfig guided;
      guided.candidates = k;
      const Prompts prompts{0, {{1, 4}, {2}}, 3};
      const SampledSet sc = guided_sequences(gc, learned_scorer(dcpu, 0, Device::CPU), prompts, 5, guided, 4),
                       sg = guided_sequences(gg, learned_scorer(dgpu, 0, Device::CUDA), prompts, 5, guided, 4);
      int same = 0;  // a draw at a CDF boundary may split on float rounding, as the sampler's test allows
      for (size_t r = 0; r < sc.seqs.size(); ++r) {
        if (sg.seqs[r] != sc.seqs[r]) continue;
        ++same;
        REQUIRE(sg.logq[r] == Approx(sc.logq[r]).margin(1e-4));
        REQUIRE(sg.logp[r] == Approx(sc.logp[r]).margin(1e-4));
      }
      REQUIRE(same >= 5);
    }
  }
  // Decoders on both backends with a D that rewards token 3: the same searches, so the same tokens
  // unless a PUCT or beam tie is split differently by float rounding.
  const PrefixScorer d = [](const Sequences& seqs) {
    std::vector<double> x;
    for (const auto& q : seqs) x.push_back(std::count(q.begin(), q.end(), 3) > 0 ? 4.0 : -4.0);
    return x;
  };
  MctsConfig mcts;
  mcts.simulations = 12;
  mcts.top_k = 5;
  DasConfig das;
  das.beams = 3, das.candidates = 4;
  const Prompts prompts{0, {{}, {2, 5}}, 3};
  GuidedConfig guided;
  guided.candidates = 4;
  RerankConfig rerank;
  rerank.candidates = 3;
  SamplingConfig mix;
  mix.top_p = 0.7, mix.mix = 0.3;
  const char* names[] = {"mcts", "das", "guided", "rerank"};
  for (int decoder = 0; decoder < 4; ++decoder) {
    auto run = [&](const Generator& g) {
      switch (decoder) {
        case 0: return mcts_sequences(g, d, prompts, 5, mcts, 4);
        case 1: return das_sequences(g, d, prompts, 5, das, 4);
        case 2: return guided_sequences(g, d, prompts, 5, guided, 4);
        default: return rerank_sequences(g, d, prompts, 5, mix, rerank, 4);
      }
    };
    const SampledSet sc = run(gc), sg = run(gg);
    int same = 0;
    for (size_t r = 0; r < sc.seqs.size(); ++r) {
      if (sc.seqs[r] != sg.seqs[r]) continue;
      ++same;
      REQUIRE(sg.logp[r] == Approx(sc.logp[r]).margin(1e-4));
      REQUIRE(sg.logq[r] == Approx(sc.logq[r]).margin(1e-4));
    }
    INFO(names[decoder]);
    REQUIRE(same >= 5);
  }
}

// bf16 activations (precision bf16): what the bf16 path computes is the f32 math on bf16-rounded
// inputs, each op's result rounded once more (composite ops: once per kernel). So the CPU runs
// in f32 on the inputs the GPU saw, and the bound is a few bf16 ulps (2⁻⁸ relative) of the
// tensor's scale; a wrong index or a missed conversion gives errors of the scale itself.
static void require_bf16_close(const Tensor& ref, const Tensor& got, const std::string& what) {
  REQUIRE(ref.shape() == got.shape());
  const std::vector<float> r = ref.to(Device::CPU).to(DType::F32).to_vector<float>();
  const std::vector<float> g = got.to(Device::CPU).to(DType::F32).to_vector<float>();
  double scale = 0;
  for (float x : r) scale = std::max(scale, std::fabs(double(x)));
  for (size_t k = 0; k < r.size(); ++k) {
    INFO(what << " element " << k << ": cpu " << r[k] << ", cuda (bf16) " << g[k] << ", scale " << scale);
    REQUIRE(std::fabs(double(r[k]) - double(g[k])) <= 2e-2 * scale + 2e-2 * std::fabs(double(r[k])) + 1e-6);
  }
}

// x rounded to bf16 and back: the values a bf16 tensor holds, as f32.
static Tensor bf16_rounded(const Tensor& x) { return x.to(DType::BF16).to(DType::F32); }

TEST_CASE("every op of a transformer step with bf16 activations on CUDA matches the f32 CPU on the same inputs", "[gpu]") {
  allocator(Device::CUDA).set_poison(true);
  const std::set<std::string> bf16_cases{"add", "sub", "mul", "scale", "gelu", "sigmoid", "tanh", "bias_add",
                                         "matmul_weight", "matmul_weight_tb", "matmul_weight_ta", "matmul_batched",
                                         "matmul_batched_ta_tb", "linear", "linear_residual", "linear_gelu", "layernorm",
                                         "layernorm_rows", "attention_padded", "attention_causal", "attention_causal_cached",
                                         "attention_tiles_causal", "attention_tiles_cached_padded", "views",
                                         "weighted_logprob", "weighted_logprob_linear",
                                         "weighted_logprob_linear_one_chunk", "cross_entropy"};
  uint64_t seed = 3000;
  int covered = 0;
  for (const OpCase& c : op_cases()) {
    if (!bf16_cases.count(c.name)) continue;
    ++covered;
    SECTION(c.name) {
      // Differentiable inputs (activations, weights) in bf16; masks, weights, ids as the model keeps them.
      std::vector<Tensor> xc = make_inputs(c, DType::F32, Device::CPU, seed), xg;
      for (size_t i = 0; i < xc.size(); ++i) {
        if (!differentiable(c.inputs[i].kind)) {
          xg.push_back(xc[i].to(Device::CUDA));
          continue;
        }
        xc[i] = bf16_rounded(xc[i].detach()).requires_grad_();
        xg.push_back(xc[i].detach().to(DType::BF16).to(Device::CUDA).requires_grad_());
      }
      Tensor yc = c.fn(xc), yg = c.fn(xg);
      // Losses are f32 (from bf16 logits); every other output stays in the activations' bf16.
      const bool loss = c.name.find("logprob") != std::string::npos || c.name == "cross_entropy";
      REQUIRE(yg.dtype() == (loss ? DType::F32 : DType::BF16));
      require_bf16_close(yc, yg, c.name + " output");
      Tensor r = Tensor::uniform(yc.shape(), 5, 0, -1, 1);
      if (yg.dtype() == DType::BF16) r = bf16_rounded(r);
      yc.backward(r);
      yg.backward(r.to(yg.dtype()).to(Device::CUDA));
      for (size_t i = 0; i < xc.size(); ++i)
        if (differentiable(c.inputs[i].kind)) {
          REQUIRE(xg[i].grad().dtype() == DType::BF16);
          require_bf16_close(xc[i].grad(), xg[i].grad(), c.name + " gradient of input " + std::to_string(i));
        }
    }
    ++seed;
  }
  REQUIRE(covered == int(bf16_cases.size()));
}

TEST_CASE("token and position embeddings from f32 tables into bf16 rows, and their f32 gradients", "[gpu]") {
  allocator(Device::CUDA).set_poison(true);
  const std::vector<int32_t> ids{3, 0, 6, 3, 2, 5}, pos{0, 1, 2, 0, 1, 2};
  const Tensor wc = Tensor::uniform({7, 9}, 61, 0, -1, 1).requires_grad_(), pc = Tensor::uniform({3, 9}, 62, 0, -1, 1).requires_grad_();
  const Tensor wg = wc.detach().to(Device::CUDA).requires_grad_(), pg = pc.detach().to(Device::CUDA).requires_grad_();
  const Tensor yc = embedding(Tensor::from(ids, {2, 3}), wc, Tensor::from(pos, {2, 3}), pc, DType::F32);
  const Tensor yg = embedding(Tensor::from(ids, {2, 3}, Device::CUDA), wg, Tensor::from(pos, {2, 3}, Device::CUDA), pg, DType::BF16);
  REQUIRE(yg.dtype() == DType::BF16);
  require_bf16_close(yc, yg, "embedding rows");
  const Tensor r = bf16_rounded(Tensor::uniform({2, 3, 9}, 63, 0, -1, 1));
  yc.backward(r);
  yg.backward(r.to(DType::BF16).to(Device::CUDA));
  REQUIRE(wg.grad().dtype() == DType::F32);
  require_close(wc.grad(), wg.grad(), "token table gradient");  // sums of bf16-exact values: f32-close
  require_close(pc.grad(), pg.grad(), "position table gradient");
}

TEST_CASE("a generator step with bf16 activations on CUDA tracks the f32 CPU step; decoding runs on a bf16 KV cache", "[gpu]") {
  GeneratorConfig cfg = small_generator(0.2);
  cfg.d_model = 64, cfg.heads = 1;  // head dim 64: attention on the bf16 tensor cores too
  Generator gc(cfg, 29, 3, Device::CPU), gg(cfg, 29, 3, Device::CUDA, Precision::BF16);
  std::vector<int32_t> ids(3 * 7), next(3 * 7);
  for (size_t k = 0; k < ids.size(); ++k) ids[k] = int32_t((k * 7 + 3) % 29), next[k] = int32_t((k * 5 + 1) % 29);
  const Tensor w = Tensor::full({3}, 1.0 / 21, DType::F32);
  const Tensor m = Tensor::full({3, 7}, 1.0, DType::F32);
  Tensor lc = gc.weighted_logprob(Tensor::from(ids, {3, 7}), Tensor::from(next, {3, 7}), m, w);
  Tensor lg = gg.weighted_logprob(Tensor::from(ids, {3, 7}, Device::CUDA), Tensor::from(next, {3, 7}, Device::CUDA),
                                  m.to(Device::CUDA), w.to(Device::CUDA));
  REQUIRE(lg.dtype() == DType::F32);
  REQUIRE(lg.item() == Approx(lc.item()).epsilon(2e-2));
  lc.backward();
  lg.backward();
  for (size_t k = 0; k < gc.params().size(); ++k) {
    const Tensor& pg = gg.params()[k].second;
    REQUIRE(pg.dtype() == DType::F32);  // master weights and their gradients stay f32
    const std::vector<float> a = gc.params()[k].second.grad().to_vector<float>(), b = pg.grad().to(Device::CPU).to_vector<float>();
    double dot = 0, na = 0, nb = 0;
    for (size_t i = 0; i < a.size(); ++i) dot += double(a[i]) * b[i], na += double(a[i]) * a[i], nb += double(b[i]) * b[i];
    INFO("gradient of " << gc.params()[k].first << ": cosine " << dot / std::sqrt(na * nb + 1e-30));
    REQUIRE((na == 0 || dot / std::sqrt(na * nb) > 0.995));
  }
  // Decoding: a bf16 KV cache, f32 logits out, next-token distributions close to the CPU's.
  Generator::Cache cg = gg.new_cache(3), cc = gc.new_cache(3);
  REQUIRE(cg.k[0].dtype() == DType::BF16);
  const std::vector<int32_t> first{1, 4, 7};
  for (int t = 0; t < 3; ++t) {
    const Tensor zg = gg.step(Tensor::from(first, {3}, Device::CUDA), cg), zc = gc.step(Tensor::from(first, {3}), cc);
    REQUIRE(zg.dtype() == DType::F32);
    require_bf16_close(zc, zg, "step logits");
  }
}
