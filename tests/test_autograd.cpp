#include <catch2/catch.hpp>

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
