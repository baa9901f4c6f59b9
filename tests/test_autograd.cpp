#include <catch2/catch.hpp>

#include <cmath>

#include "engine/autograd.h"
#include "engine/ops.h"

using namespace coopgen;

static Tensor f64(std::vector<double> v, Shape s) { return Tensor::from(v, s); }

TEST_CASE("fan-out adds gradients; leaves accumulate across backward calls", "[autograd]") {
  Tensor x = f64({3.0}, {1}).requires_grad_();
  Tensor y = add(mul(x, x), x);  // x² + x: dy/dx = 2x + 1 = 7
  y.backward();
  REQUIRE(x.grad().item() == Approx(7.0));
  add(mul(x, x), x).backward();
  REQUIRE(x.grad().item() == Approx(14.0));  // accumulated until zero_grad
  x.zero_grad();
  REQUIRE_FALSE(x.grad().defined());
}

TEST_CASE("no-grad scopes, detach and constants", "[autograd]") {
  Tensor x = f64({1.0, 2.0}, {2}).requires_grad_();
  {
    NoGradGuard guard;
    Tensor y = mul(x, x);
    REQUIRE_FALSE(y.requires_grad());
    REQUIRE_FALSE(grad_enabled());
  }
  REQUIRE(grad_enabled());
  Tensor d = x.detach();
  REQUIRE_FALSE(d.requires_grad());
  REQUIRE(d.same_storage(x));
  Tensor z = mul(d, x);  // the detached factor is a constant: dz/dx = d
  sum(z).backward();
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{1.0, 2.0});
  REQUIRE_THROWS_WITH(sum(d).backward(), Catch::Contains("does not require grad"));
  Tensor w = f64({1.0}, {1}).requires_grad_();
  REQUIRE_THROWS_WITH(weighted_logprob(Tensor::zeros({1, 3}, DType::F64), Tensor::from(std::vector<int32_t>{0}, {1}),
                                       f64({1.0}, {1}), w),
                      Catch::Contains("constants"));
}

TEST_CASE("gradients reach only what requires them, through views", "[autograd]") {
  Tensor a = Tensor::uniform({2, 3}, 1, 0, -1, 1, DType::F64).requires_grad_();
  Tensor b = Tensor::uniform({2, 3}, 2, 0, -1, 1, DType::F64);
  Tensor y = sum(mul(a.transpose(0, 1).contiguous(), b.transpose(0, 1).contiguous()));
  y.backward();
  REQUIRE(a.grad().to_vector<double>() == b.to_vector<double>());
  REQUIRE_FALSE(b.grad().defined());
}

TEST_CASE("a leaf is reported ready once, during the pass, when its gradient is final", "[autograd]") {
  // loss = Σ c·tanh(a∘b) + Σ a∘k: c's only use is next to the root, a and b are used deepest,
  // k needs no gradient. Data parallelism sums a gradient from the moment it is reported.
  Tensor a = f64({0.5, -1.0, 2.0}, {3}).requires_grad_();
  Tensor b = f64({1.5, 0.25, -0.75}, {3}).requires_grad_();
  Tensor c = f64({-2.0, 1.0, 0.5}, {3}).requires_grad_();
  Tensor k = f64({3.0, 4.0, 5.0}, {3});
  std::vector<std::pair<const TensorImpl*, std::vector<double>>> reports;  // leaf, its gradient then
  bool b_had_grad_when_c_ready = true;
  const int hook = add_leaf_ready_hook([&](const TensorImpl& leaf) {
    Tensor g(leaf.grad);
    reports.emplace_back(&leaf, g.to_vector<double>());
    if (&leaf == &c.impl()) b_had_grad_when_c_ready = b.grad().defined();
  });
  add(sum(mul(c, tanh(mul(a, b)))), sum(mul(a, k))).backward();
  remove_leaf_ready_hook(hook);
  REQUIRE(reports.size() == 3);  // a, b, c once each; k never
  REQUIRE_FALSE(b_had_grad_when_c_ready);
  std::vector<double> final_a = a.grad().to_vector<double>(), final_b = b.grad().to_vector<double>(),
                      final_c = c.grad().to_vector<double>();
  for (const auto& [leaf, g] : reports) {
    REQUIRE((leaf == &a.impl() || leaf == &b.impl() || leaf == &c.impl()));
    const std::vector<double>& want = leaf == &a.impl() ? final_a : leaf == &b.impl() ? final_b : final_c;
    REQUIRE(g == want);
  }
  // ∂/∂a = c·(1 − tanh²(ab))·b + k, in closed form.
  for (size_t i = 0; i < 3; ++i) {
    const double av = std::vector<double>{0.5, -1.0, 2.0}[i], bv = std::vector<double>{1.5, 0.25, -0.75}[i],
                 cv = std::vector<double>{-2.0, 1.0, 0.5}[i], kv = 3.0 + double(i), t = std::tanh(av * bv);
    REQUIRE(final_a[i] == Approx(cv * (1 - t * t) * bv + kv));
  }
  add(sum(mul(a, k)), sum(b)).backward();  // the hook is gone: nothing more reported
  REQUIRE(reports.size() == 3);
}

// Data-parallel ranks start their gradient buckets in the order leaves become ready, so leaves
// made ready by the same node must come in the node's input order on every process (an order
// taken from a hash of addresses broke two-rank runs once a fused op had two parameter inputs).
TEST_CASE("leaves made ready by one node are reported in its input order", "[cpu]") {
  for (int round = 0; round < 5; ++round) {
    std::vector<Tensor> leaves;
    for (int k = 0; k < 6; ++k) leaves.push_back(Tensor::uniform({4, 3}, 40 + uint64_t(k), 0, -1, 1, DType::F64).requires_grad_());
    Tensor g = Tensor::uniform({3}, 50, 0, 0.5, 1.5, DType::F64).requires_grad_(), b = Tensor::uniform({3}, 51, 0, -1, 1, DType::F64).requires_grad_();
    std::vector<const TensorImpl*> reported;
    const int hook = add_leaf_ready_hook([&](const TensorImpl& leaf) { reported.push_back(&leaf); });
    // x's six leaves meet in one chain of adds; then layernorm takes x, g and b (two leaves).
    Tensor x = leaves[0];
    for (int k = 1; k < 6; ++k) x = add(x, leaves[size_t(k)]);
    sum(layernorm(x, g, b)).backward();
    remove_leaf_ready_hook(hook);
    REQUIRE(reported.size() == 8);
    REQUIRE(reported[0] == &g.impl());  // the layernorm node: g, then b
    REQUIRE(reported[1] == &b.impl());
  }
}
