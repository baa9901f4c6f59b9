// Models against numbers published or computed elsewhere.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>

#include "engine/ops.h"
#include "models/discriminator.h"
#include "models/generator.h"
#include "models/oracle.h"
#include "tests/testing.h"

using namespace coopgen;

TEST_CASE("the oracle's own samples score its entropy rate; uniform tokens score log-ish 11.43", "[models]") {
  COOPGEN_SKIP_WITHOUT_ORACLE();
  OracleLSTM oracle(testing::oracle_file());
  REQUIRE(oracle.vocab() == 5000);
  // Published anchors (../shared/data/README.md): oracle samples ≈ 5.74, uniform tokens ≈ 11.43.
  Sequences own = oracle.generate(400, 17);
  REQUIRE(own.size() == 400);
  REQUIRE(oracle.nll(own) == Approx(5.74).margin(0.15));
  std::vector<float> u = Tensor::uniform({400 * 20}, 3, 0, 0, 5000).to_vector<float>();
  Sequences uniform(400, std::vector<int32_t>(20));
  for (size_t k = 0; k < u.size(); ++k) uniform[k / 20][k % 20] = int32_t(u[k]);
  REQUIRE(oracle.nll(uniform) == Approx(11.43).margin(0.1));
  REQUIRE_THROWS_WITH(oracle.nll({{1, 2, 3}}), Catch::Contains("exactly 20"));
}

// A 16-wide generator with large weights (init_std 0.3), so that a wrong index shows.
static GeneratorConfig small_generator(int64_t layers, int64_t max_len, int64_t output_chunk = 0) {
  GeneratorConfig cfg;
  cfg.d_model = 16;
  cfg.layers = layers;
  cfg.heads = 2;
  cfg.max_len = max_len;
  cfg.init_std = 0.3;
  cfg.output_chunk = output_chunk;
  return cfg;
}

TEST_CASE("KV-cached decoding gives the logits of full recomputation", "[models]") {
  Generator g(small_generator(2, 9), 11, 5, Device::CPU);
  std::vector<int32_t> ids{1, 4, 7, 2, 9, 0, 3, 5, 5, 10, 6, 1, 8, 2, 4, 4, 0, 7, 3, 2, 1};
  Tensor x = Tensor::from(ids, {3, 7});
  std::vector<float> full = g.forward(x).to_vector<float>();  // [3,7,11]
  Generator::Cache cache = g.new_cache(3);
  for (int64_t t = 0; t < 7; ++t) {
    std::vector<int32_t> col{ids[size_t(t)], ids[size_t(7 + t)], ids[size_t(14 + t)]};
    std::vector<float> step = g.step(Tensor::from(col, {3}), cache).to_vector<float>();
    for (int64_t b = 0; b < 3; ++b)
      for (int64_t v = 0; v < 11; ++v)
        REQUIRE(step[size_t(b * 11 + v)] == Approx(full[size_t((b * 7 + t) * 11 + v)]).margin(1e-5));
  }
  REQUIRE_THROWS_WITH(g.forward(Tensor::zeros({1, 10}, DType::I32)), Catch::Contains("max_len"));
}

TEST_CASE("the generator's loss is the same through the fused output layer, gradients included", "[models]") {
  Generator full(small_generator(1, 6), 23, 5, Device::CPU);
  Generator fused(small_generator(1, 6, 7), 23, 5, Device::CPU);  // 23 = 7 + 7 + 7 + 2
  std::vector<int32_t> ids{1, 4, 7, 2, 9, 0, 3, 5, 22, 10, 6, 1}, next{4, 7, 2, 9, 0, 3, 5, 22, 10, 6, 1, 8};
  const Tensor x = Tensor::from(ids, {2, 6}), y = Tensor::from(next, {2, 6});
  const Tensor m = Tensor::from(std::vector<float>{1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1}, {2, 6});
  const Tensor w = Tensor::from(std::vector<float>{0.3f, 1.7f}, {2});
  const Tensor a = full.weighted_logprob(x, y, m, w), b = fused.weighted_logprob(x, y, m, w);
  REQUIRE(b.item() == Approx(a.item()).epsilon(1e-5));
  // Closed form from the logits: −Σ w_b m_bt (z[y] − log Σ e^z).
  const std::vector<float> z = full.forward(x).to_vector<float>();
  double want = 0;
  for (size_t n = 0; n < 12; ++n) {
    double mx = -1e30, s = 0;
    for (size_t v = 0; v < 23; ++v) mx = std::max(mx, double(z[n * 23 + v]));
    for (size_t v = 0; v < 23; ++v) s += std::exp(double(z[n * 23 + v]) - mx);
    want -= double(w.to_vector<float>()[n / 6]) * double(m.to_vector<float>()[n]) * (double(z[n * 23 + size_t(next[n])]) - mx - std::log(s));
  }
  REQUIRE(a.item() == Approx(want).epsilon(1e-5));
  a.backward();
  b.backward();
  for (size_t k = 0; k < full.params().size(); ++k) {
    const std::vector<float> ga = full.params()[k].second.grad().to_vector<float>(),
                             gb = fused.params()[k].second.grad().to_vector<float>();
    for (size_t i = 0; i < ga.size(); ++i) REQUIRE(gb[i] == Approx(ga[i]).margin(1e-5));
  }
}

TEST_CASE("the discriminator scores prefixes, ignores padding, and learns", "[models]") {
  DiscriminatorConfig cfg;
  cfg.d_model = 16;
  cfg.layers = 1;
  cfg.heads = 2;
  cfg.max_len = 8;
  cfg.init_std = 0.3;
  TransformerDiscriminator d(cfg, 13, 3, Device::CPU);
  // Row 0 is "3 5 7" padded to 6 positions with token 11; row 1 is the same prefix padded with 2.
  Tensor ids = Tensor::from(std::vector<int32_t>{3, 5, 7, 11, 11, 11, 3, 5, 7, 2, 2, 2}, {2, 6});
  Tensor mask = Tensor::from(std::vector<float>{1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0}, {2, 6});
  std::vector<float> l = d.forward(ids, mask).to_vector<float>();
  REQUIRE(l[0] == Approx(l[1]).margin(1e-6));  // padding content is invisible
  Tensor alone = Tensor::from(std::vector<int32_t>{3, 5, 7}, {1, 3});
  REQUIRE(d.forward(alone, Tensor::full({1, 3}, 1.0)).item() == Approx(l[0]).margin(1e-5));
  // A few AdamW steps separate two sequences labelled 1 and 0.
  Tensor two = Tensor::from(std::vector<int32_t>{1, 2, 3, 4, 9, 8, 7, 6}, {2, 4});
  Tensor full = Tensor::full({2, 4}, 1.0), labels = Tensor::from(std::vector<float>{1, 0}, {2});
  OptimConfig o;
  o.lr = 0.01;
  AdamW opt(d.params(), o);
  double first = 0, last = 0;
  for (int s = 0; s < 30; ++s) {
    Tensor loss = bce_with_logits(d.forward(two, full), labels);
    (s == 0 ? first : last) = loss.item();
    loss.backward();
    opt.step();
    opt.zero_grad();
  }
  REQUIRE(last < 0.1 * first);
}
