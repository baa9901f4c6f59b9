#include <catch2/catch.hpp>

#include <cmath>

#include "engine/ops.h"
#include "engine/optim.h"

using namespace coopgen;

static Tensor param(std::vector<double> v, Shape s) { return Tensor::from(v, s).requires_grad_(); }

TEST_CASE("AdamW matches a float64 transcription of the update rule", "[optim]") {
  OptimConfig cfg;
  cfg.lr = 0.1;
  cfg.weight_decay = 0.01;
  cfg.grad_clip = 0;
  Tensor w = param({1.0, -2.0, 0.5, 3.0}, {2, 2});  // a matrix: decayed
  Tensor b = param({0.25}, {1});                    // a bias: not decayed
  AdamW opt({{"w", w}, {"b", b}}, cfg);
  // Reference state, computed here without the engine.
  std::vector<double> pw{1.0, -2.0, 0.5, 3.0}, mw(4, 0), vw(4, 0);
  double pb = 0.25, mb = 0, vb = 0;
  for (int step = 1; step <= 5; ++step) {
    std::vector<double> gw{0.3 * step, -0.1, 0.0, 2.0 / step};
    double gb = -0.7;
    w.set_grad(Tensor::from(gw, {2, 2}));
    b.set_grad(Tensor::from(std::vector<double>{gb}, {1}));
    opt.step();
    const double c1 = 1 - std::pow(0.9, step), c2 = 1 - std::pow(0.999, step);
    for (size_t k = 0; k < 4; ++k) {
      mw[k] = 0.9 * mw[k] + 0.1 * gw[k];
      vw[k] = 0.999 * vw[k] + 0.001 * gw[k] * gw[k];
      pw[k] -= 0.1 * ((mw[k] / c1) / (std::sqrt(vw[k] / c2) + 1e-8) + 0.01 * pw[k]);
    }
    mb = 0.9 * mb + 0.1 * gb;
    vb = 0.999 * vb + 0.001 * gb * gb;
    pb -= 0.1 * (mb / c1) / (std::sqrt(vb / c2) + 1e-8);
  }
  std::vector<double> got = w.to_vector<double>();
  for (size_t k = 0; k < 4; ++k) REQUIRE(got[k] == Approx(pw[k]).epsilon(1e-12));
  REQUIRE(b.item() == Approx(pb).epsilon(1e-12));
  REQUIRE(opt.steps_taken() == 5);
}

TEST_CASE("global-norm clipping scales every gradient by clip/‖g‖", "[optim]") {
  OptimConfig cfg;
  cfg.grad_clip = 1.0;
  Tensor a = param({0.0}, {1}), b = param({0.0}, {1});
  AdamW opt({{"a", a}, {"b", b}}, cfg);
  a.set_grad(Tensor::from(std::vector<double>{3.0}, {1}));
  b.set_grad(Tensor::from(std::vector<double>{4.0}, {1}));
  REQUIRE(opt.step() == Approx(5.0));
  // First moment after one step: (1 − β1)·g·(clip/‖g‖) = 0.1·3·0.2.
  REQUIRE(opt.state()[0].second.item() == Approx(0.06));
  REQUIRE(opt.state()[2].second.item() == Approx(0.08));
}

TEST_CASE("a NaN gradient stops the step with a message and leaves parameters intact", "[optim]") {
  Tensor a = param({1.0}, {1});
  AdamW opt({{"a", a}}, OptimConfig{});
  a.set_grad(Tensor::from(std::vector<double>{NAN}, {1}));
  REQUIRE_THROWS_WITH(opt.step(), Catch::Contains("AdamW step 1: gradient norm is nan"));
  REQUIRE(a.item() == 1.0);
}

TEST_CASE("learning-rate schedules", "[optim]") {
  ScheduleConfig s;
  REQUIRE(s.lr_at(1, 0.5) == 0.5);
  s.warmup_steps = 10;
  REQUIRE(s.lr_at(1, 0.5) == Approx(0.05));
  REQUIRE(s.lr_at(10, 0.5) == Approx(0.5));
  REQUIRE(s.lr_at(1000, 0.5) == Approx(0.5));
  s.kind = Schedule::cosine;
  s.total_steps = 110;
  s.min_lr_ratio = 0.1;
  REQUIRE(s.lr_at(60, 1.0) == Approx(0.1 + 0.9 * 0.5));  // halfway through the decay
  REQUIRE(s.lr_at(110, 1.0) == Approx(0.1));
  REQUIRE(s.lr_at(500, 1.0) == Approx(0.1));
  s.kind = Schedule::warmup_linear;
  REQUIRE(s.lr_at(60, 1.0) == Approx(0.1 + 0.9 * 0.5));
  s.total_steps = 5;
  REQUIRE_THROWS_WITH(s.lr_at(20, 1.0), Catch::Contains("total_steps"));
}

TEST_CASE("AdamW minimises a least-squares problem", "[optim]") {
  // min ‖xW − y‖² for a fixed random W: the gradient path through matmul, sum and the optimizer.
  Tensor x = Tensor::uniform({8, 3}, 1, 0, -1, 1, DType::F64);
  Tensor target = Tensor::uniform({3, 2}, 2, 0, -1, 1, DType::F64);
  Tensor y = matmul(x, target);
  Tensor w = Tensor::zeros({3, 2}, DType::F64).requires_grad_();
  OptimConfig cfg;
  cfg.lr = 0.05;
  AdamW opt({{"w", w}}, cfg);
  double loss = 0;
  for (int step = 0; step < 400; ++step) {
    Tensor r = sub(matmul(x, w), y);
    Tensor l = sum(mul(r, r));
    loss = l.item();
    l.backward();
    opt.step();
    opt.zero_grad();
  }
  REQUIRE(loss < 1e-6);
}
