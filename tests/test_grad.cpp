// Every differentiable op: autograd gradient against central finite differences, in f64 on the
// CPU. The loss is ⟨out, R⟩ for a fixed random R, so every output element matters.
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/allocator.h"
#include "tests/op_cases.h"

using namespace coopgen;
using namespace coopgen::testing;

static double project(const Tensor& out, const std::vector<double>& r) {
  std::vector<double> v = out.to_vector<double>();
  double s = 0;
  for (size_t k = 0; k < v.size(); ++k) s += v[k] * r[k];
  return s;
}

TEST_CASE("every op's gradient matches central finite differences (f64)", "[grad]") {
  for (const OpCase& c : op_cases()) {
    SECTION(c.name) {
      std::vector<Tensor> x = make_inputs(c, DType::F64, Device::CPU, 7);
      Tensor out = c.fn(x);
      std::vector<double> r = Tensor::uniform(out.shape(), 99, 0, -1, 1, DType::F64).to_vector<double>();
      out.backward(Tensor::from(r, out.shape()));
      for (size_t i = 0; i < x.size(); ++i) {
        if (!differentiable(c.inputs[i].kind)) continue;
        INFO(c.name << ": input " << i << " " << describe(x[i]));
        Tensor g = x[i].grad();
        REQUIRE(g.defined());
        std::vector<double> analytic = g.to_vector<double>();
        double* p = x[i].data<double>();
        const double h = 1e-6;
        for (int64_t k = 0; k < x[i].numel(); ++k) {
          NoGradGuard no_grad;
          const double orig = p[k];
          p[k] = orig + h;
          const double up = project(c.fn(x), r);
          p[k] = orig - h;
          const double down = project(c.fn(x), r);
          p[k] = orig;
          const double numeric = (up - down) / (2 * h);
          INFO("element " << k << ": autograd " << analytic[size_t(k)] << ", finite difference " << numeric);
          REQUIRE(std::fabs(analytic[size_t(k)] - numeric) <= 1e-6 + 1e-6 * std::fabs(numeric));
        }
      }
    }
  }
}

TEST_CASE("a broken backward rule is caught by the gradient check", "[grad]") {
  // The check must be able to fail: scale(x, 2) with its gradient replaced by that of scale(x, 3).
  Tensor x = Tensor::uniform({4}, 1, 0, -1, 1, DType::F64).requires_grad_();
  Tensor y = record(scale(x.detach(), 2.0), "broken", {x},
                    [](const Tensor& g) -> std::vector<Tensor> { return {scale(g, 3.0)}; });
  y.backward(Tensor::full({4}, 1.0, DType::F64));
  const double numeric = 2.0, analytic = x.grad().to_vector<double>()[0];
  REQUIRE_FALSE(std::fabs(analytic - numeric) <= 1e-6 + 1e-6 * std::fabs(numeric));
}
