#include <catch2/catch.hpp>

#include <cmath>

#include "engine/ops.h"
#include "engine/tensor.h"
#include "kernels/philox.h"

using namespace coopgen;

TEST_CASE("Philox4x32-10 matches the Random123 known-answer vectors", "[rng]") {
  struct Kat {
    philox::U4 ctr;
    uint32_t k0, k1;
    philox::U4 expect;
  };
  const Kat kats[] = {
      {{{0, 0, 0, 0}}, 0, 0, {{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}}},
      {{{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}}, 0xffffffff, 0xffffffff,
       {{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}}},
      {{{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}}, 0xa4093822, 0x299f31d0,
       {{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}}},
  };
  for (const Kat& k : kats) {
    philox::U4 out = philox::philox4x32_10(k.ctr, k.k0, k.k1);
    for (int w = 0; w < 4; ++w) REQUIRE(out.v[w] == k.expect.v[w]);
  }
}

TEST_CASE("uniform stream: offsets address the same numbers, moments are right", "[rng]") {
  std::vector<float> all = Tensor::uniform({1000}, 42, 0).to_vector<float>();
  // Element k of (seed, offset) is word k of the counter stream starting at block `offset`:
  // a stream started 5 blocks later is the same numbers shifted by 20.
  std::vector<float> later = Tensor::uniform({100}, 42, 5).to_vector<float>();
  for (size_t k = 0; k < later.size(); ++k) REQUIRE(later[k] == all[k + 20]);
  double mean = 0, var = 0;
  std::vector<float> big = Tensor::uniform({100000}, 7, 0).to_vector<float>();
  for (float v : big) {
    REQUIRE(v >= 0.0f);
    REQUIRE(v < 1.0f);
    mean += v;
  }
  mean /= double(big.size());
  for (float v : big) var += (v - mean) * (v - mean);
  var /= double(big.size());
  // Standard error of the mean is √(1/12/1e5) ≈ 9e-4; five of them.
  REQUIRE(std::fabs(mean - 0.5) < 5e-3);
  REQUIRE(std::fabs(var - 1.0 / 12) < 2e-3);
  std::vector<float> other = Tensor::uniform({1000}, 43, 0).to_vector<float>();
  int same = 0;
  for (size_t k = 0; k < other.size(); ++k) same += other[k] == all[k];
  REQUIRE(same < 5);
}

TEST_CASE("dropout: each element kept with probability 1 − p, scaled by 1/(1 − p); its gradient is the mask", "[rng]") {
  const int64_t n = 200000;
  const double p = 0.3;
  Tensor x = Tensor::uniform({n}, 3, 0, 0.5, 1.5, DType::F64).requires_grad_();
  const Tensor y = dropout(x, p, 11, 4);
  const std::vector<double> xs = x.to_vector<double>(), ys = y.to_vector<double>();
  int64_t kept = 0;
  for (int64_t k = 0; k < n; ++k) {
    // The mask of element k, from the Philox uniform directly: dropped where u < p.
    const bool keep = double(philox::uniform(11, 4, uint64_t(k))) >= p;
    kept += keep;
    REQUIRE(ys[size_t(k)] == (keep ? Approx(xs[size_t(k)] / (1 - p)).epsilon(1e-15) : Approx(0.0)));
  }
  REQUIRE(double(kept) / double(n) == Approx(1 - p).margin(4 * std::sqrt(p * (1 - p) / double(n))));
  sum(y).backward();
  const std::vector<double> g = x.grad().to_vector<double>();
  for (int64_t k = 0; k < n; k += 997) REQUIRE(g[size_t(k)] == Approx(ys[size_t(k)] != 0 ? 1 / (1 - p) : 0.0).epsilon(1e-15));
  REQUIRE(dropout(x, 0, 11, 4).to_vector<double>() == xs);  // rate 0: x itself
}
