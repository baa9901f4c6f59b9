// Tensors, views and op values against closed forms.
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/device.h"
#include "engine/ops.h"
#include "kernels/cpu/elementwise.h"

using namespace coopgen;

static std::vector<double> vals(const Tensor& t) { return t.to(DType::F64).to_vector<double>(); }

// The f32 GELU (v·σ(2u) with the vectorised f32 exponential) against the same form in long double
// with libm's exponential, bias added first; its gradient too, and the ends: ±∞, NaN, and |v|
// large enough to overflow v³.
TEST_CASE("the f32 GELU and its gradient are within their rounding bound of the logistic form in long double", "[tensor]") {
  std::vector<float> x, bias{0.25f, -0.5f, 0.0f};
  for (float v = -24.0f; v <= 24.0f; v += 0.0137f) x.push_back(v);
  for (float v : {1e-30f, -1e-30f, 3e-6f, -3e-6f, 1e7f, -1e7f, 1e20f, -1e20f}) x.push_back(v);
  while (x.size() % bias.size()) x.push_back(0.5f);
  const int64_t cols = int64_t(bias.size()), rows = int64_t(x.size()) / cols;
  std::vector<float> dy(x.size());
  for (size_t k = 0; k < dy.size(); ++k) dy[k] = 1.0f + 0.001f * float(k % 7);
  std::vector<float> out(x.size(), NAN), dx(x.size(), NAN);
  cpu::bias_gelu_forward(out.data(), x.data(), bias.data(), rows, cols);
  cpu::bias_gelu_backward(dx.data(), x.data(), bias.data(), dy.data(), rows, cols);
  double worst = 0, worst_grad = 0;
  for (size_t k = 0; k < x.size(); ++k) {
    const long double v = (long double)(x[k] + bias[k % cols]), s = std::sqrt(2.0L / 3.14159265358979323846L);
    // ½(1 + tanh u) as 1/(1 + e^(−2u)) and 1 − tanh²u as 4σ(1 − σ): in long double, 1 + tanh u
    // itself cancels to 0 where gelu is still a normal f32 (v near −10).
    const long double u = s * (v + 0.044715L * v * v * v), sig = 1 / (1 + std::exp(-2 * u));
    const long double f = v * sig, a = sig, b = 2 * v * sig * (1 - sig) * s * (1 + 3 * 0.044715L * v * v);
    // A few ulp, plus what computing 2u in f32 (four roundings) does to σ = 1/(1 + e^(−2u)): up to
    // 4|2u|(1 − σ) ulp (measured: at most 0.29 of the bound, 0.36 for the gradient; GCC and clang).
    // Relative to the value, or to 1e-30 below it: vexpf clamps its argument at 88, so past
    // v ≈ −10.03 σ is 0 where the true value is below 6e-38. The gradient a + b relative to
    // |a| + |b|, as it crosses 0 near v = −0.75.
    const long double ulps = (4 + 8 * std::fabs(u) * (1 - sig)) * 0x1p-23L;
    worst = std::max(worst, double(std::fabs(out[k] - f) / std::max(std::fabs(f), 1e-30L) / ulps));
    worst_grad = std::max(worst_grad, double(std::fabs(dx[k] - dy[k] * (a + b)) /
                                             std::max(dy[k] * (std::fabs(a) + std::fabs(b)), 1e-30L) / ulps));
  }
  CHECK(worst < 1);
  CHECK(worst_grad < 1);
  const float ends[] = {INFINITY, -INFINITY, NAN, 0.0f};
  float y[4], d[4], one[4] = {1, 1, 1, 1};
  cpu::bias_gelu_forward(y, ends, (const float*)nullptr, 1, 4);
  cpu::bias_gelu_backward(d, ends, (const float*)nullptr, one, 1, 4);
  CHECK(y[0] == INFINITY);
  CHECK(std::isnan(y[2]));
  CHECK(y[3] == 0.0f);
  CHECK(d[0] == 1.0f);
  CHECK(d[1] == 0.0f);
  CHECK(std::isnan(d[2]));
  CHECK(d[3] == 0.5f);
}

TEST_CASE("views share storage and index correctly", "[tensor]") {
  std::vector<float> v(24);
  for (size_t k = 0; k < v.size(); ++k) v[k] = float(k);
  Tensor x = Tensor::from(v, {2, 3, 4});
  Tensor t = x.transpose(0, 2);  // [4,3,2]: t[i,j,k] = x[k,j,i] = 12k + 4j + i
  REQUIRE(t.shape() == Shape{4, 3, 2});
  REQUIRE(t.same_storage(x));
  REQUIRE_FALSE(t.is_contiguous());
  std::vector<float> c = t.contiguous().to_vector<float>();
  REQUIRE(c[size_t((3 * 3 + 2) * 2 + 1)] == float(12 * 1 + 4 * 2 + 3));
  Tensor s = x.slice(2, 1, 3);  // [2,3,2]
  REQUIRE(s.same_storage(x));
  REQUIRE(s.contiguous().to_vector<float>() == std::vector<float>{1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22});
  REQUIRE(x.reshape({6, -1}).shape() == Shape{6, 4});
  REQUIRE(x.reshape({6, -1}).same_storage(x));
  REQUIRE_THROWS_WITH(x.reshape({5, 5}), Catch::Contains("cannot view"));
  REQUIRE_THROWS_WITH(x.slice(1, 2, 4), Catch::Contains("slice"));
}

// Permuted views made contiguous and cast, each element type: attention's [B,T,H,D] -> [B,H,T,D]
// (its rows of D stay contiguous) and [B,T,H,D] -> [B,D,T,H] (no dimension does); every element
// where index arithmetic puts it; the values (−100 to 109) every type holds exactly.
TEST_CASE("strided copies of permuted views, same type and cast, every element type", "[tensor]") {
  const int64_t n[4] = {2, 3, 5, 7};
  std::vector<float> v(size_t(n[0] * n[1] * n[2] * n[3]));
  for (size_t k = 0; k < v.size(); ++k) v[k] = float(k) - 100.0f;
  for (const std::vector<int64_t>& order : {std::vector<int64_t>{0, 2, 1, 3}, std::vector<int64_t>{0, 3, 1, 2}})
    for (DType from : {DType::F32, DType::F64, DType::BF16, DType::I32})
      for (DType to : {DType::F32, DType::F64, DType::BF16, DType::I32}) {
        Tensor x = Tensor::from(v, {n[0], n[1], n[2], n[3]}).to(from);
        const std::vector<double> got = vals(x.permute(order).to(to).contiguous());
        int64_t i[4], k = 0;  // i: the output's index, in its own (permuted) order
        for (i[0] = 0; i[0] < n[order[0]]; ++i[0])
          for (i[1] = 0; i[1] < n[order[1]]; ++i[1])
            for (i[2] = 0; i[2] < n[order[2]]; ++i[2])
              for (i[3] = 0; i[3] < n[order[3]]; ++i[3], ++k) {
                int64_t src[4];
                for (int d = 0; d < 4; ++d) src[order[size_t(d)]] = i[d];
                CHECK(got[size_t(k)] == v[size_t(((src[0] * n[1] + src[1]) * n[2] + src[2]) * n[3] + src[3])]);
              }
      }
}

TEST_CASE("dtype casts round-trip, bf16 rounds to nearest even", "[tensor]") {
  Tensor x = Tensor::from(std::vector<float>{1.0f, -2.5f, 3.14159265f, 1e-3f}, {4});
  REQUIRE(vals(x.to(DType::F64).to(DType::F32)) == vals(x));
  std::vector<float> b = x.to(DType::BF16).to(DType::F32).to_vector<float>();
  REQUIRE(b[0] == 1.0f);
  REQUIRE(b[1] == -2.5f);
  REQUIRE(b[2] == 3.140625f);  // 8 bits of mantissa
  REQUIRE(std::fabs(b[3] - 1e-3f) < 1e-5f);
  // 1 + 2^-8 is halfway between two bf16 values: ties go to the even one (1.0).
  REQUIRE(bf16_to_float(float_to_bf16(1.0f + 1.0f / 256)) == 1.0f);
  REQUIRE(bf16_to_float(float_to_bf16(1.0f + 3.0f / 256)) == 1.0f + 4.0f / 256);
  Tensor i = Tensor::from(std::vector<int32_t>{3, -7}, {2});
  REQUIRE(vals(i) == std::vector<double>{3, -7});
}

TEST_CASE("op values match closed forms", "[ops]") {
  auto f64 = [](std::vector<double> v, Shape s) { return Tensor::from(v, s); };
  SECTION("softmax of logs is the normalised vector; a fully masked row gives zeros") {
    Tensor y = softmax(f64({0, std::log(2.0), std::log(3.0), -INFINITY, -INFINITY, -INFINITY}, {2, 3}));
    auto v = vals(y);
    REQUIRE(v[0] == Approx(1.0 / 6));
    REQUIRE(v[1] == Approx(2.0 / 6));
    REQUIRE(v[2] == Approx(3.0 / 6));
    REQUIRE(v[3] == 0.0);
    REQUIRE(v[5] == 0.0);
  }
  SECTION("gelu, sigmoid, tanh at known points") {
    REQUIRE(vals(gelu(f64({1.0, 0.0}, {2})))[0] == Approx(0.8411919906082768));
    auto s = vals(sigmoid(f64({0.0, std::log(3.0)}, {2})));
    REQUIRE(s[0] == 0.5);
    REQUIRE(s[1] == Approx(0.75));
    REQUIRE(vals(tanh(f64({0.5}, {1})))[0] == Approx(std::tanh(0.5)));
  }
  SECTION("layernorm of 1,2,3 is ±√1.5 around 0") {
    Tensor y = layernorm(f64({1, 2, 3}, {1, 3}), f64({1, 1, 1}, {3}), f64({0, 0, 0}, {3}), 0.0);
    auto v = vals(y);
    REQUIRE(v[0] == Approx(-std::sqrt(1.5)));
    REQUIRE(v[1] == Approx(0.0).margin(1e-12));
    REQUIRE(v[2] == Approx(std::sqrt(1.5)));
  }
  SECTION("matmul by hand") {
    Tensor c = matmul(f64({1, 2, 3, 4, 5, 6}, {2, 3}), f64({1, 0, 0, 1, 1, 1}, {3, 2}));
    REQUIRE(vals(c) == std::vector<double>{4, 5, 10, 11});
    Tensor ct = matmul(f64({1, 2, 3, 4, 5, 6}, {2, 3}), f64({1, 0, 1, 0, 1, 1}, {2, 3}), false, true);
    REQUIRE(vals(ct) == std::vector<double>{4, 5, 10, 11});
  }
  SECTION("weighted_logprob with uniform logits is Σ w·m·log V") {
    Tensor logits = Tensor::zeros({2, 3, 5}, DType::F64);
    Tensor y = Tensor::from(std::vector<int32_t>{0, 1, 2, 3, 4, 0}, {2, 3});
    Tensor m = f64({1, 1, 0, 1, 0, 0}, {2, 3});
    Tensor w = f64({0.5, 2.0}, {2});
    REQUIRE(weighted_logprob(logits, y, m, w).item() == Approx((0.5 * 2 + 2.0 * 1) * std::log(5.0)));
    REQUIRE(cross_entropy(logits.reshape({6, 5}), y.reshape({6}), m.reshape({6})).item() == Approx(std::log(5.0)));
  }
  SECTION("bce at logit 0 is log 2 whatever the target; large logits are stable") {
    REQUIRE(bce_with_logits(f64({0, 0}, {2}), f64({0, 1}, {2})).item() == Approx(std::log(2.0)));
    REQUIRE(bce_with_logits(f64({1000, -1000}, {2}), f64({1, 0}, {2})).item() == Approx(0.0).margin(1e-12));
    REQUIRE(bce_with_logits(f64({-1000}, {1}), f64({1}, {1})).item() == Approx(1000.0));
  }
  SECTION("attention: one key returns its value; causal first query sees only the first key") {
    Tensor q = Tensor::uniform({1, 1, 2, 3}, 1, 0, -1, 1, DType::F64);
    Tensor k = Tensor::uniform({1, 1, 2, 3}, 2, 0, -1, 1, DType::F64);
    Tensor v = f64({1, 2, 3, 10, 20, 30}, {1, 1, 2, 3});
    auto o = vals(attention(q, k, v, Tensor(), true));
    REQUIRE(o[0] == Approx(1));
    REQUIRE(o[2] == Approx(3));
    Tensor pad = f64({0, 1}, {1, 2});  // only the second key is visible
    auto p = vals(attention(q, k, v, pad, false));
    REQUIRE(p[0] == Approx(10));
    REQUIRE(p[5] == Approx(30));
  }
  SECTION("masked mean and sum") {
    Tensor x = f64({1, 2, 3, 4, 5, 6}, {1, 3, 2});
    Tensor m = f64({1, 0, 1}, {1, 3});
    REQUIRE(vals(masked_sum(x, m)) == std::vector<double>{6, 8});
    REQUIRE(vals(masked_mean(x, m)) == std::vector<double>{3, 4});
  }
  SECTION("embedding gathers rows; ids outside the vocabulary are refused") {
    Tensor w = f64({0, 1, 10, 11, 20, 21}, {3, 2});
    REQUIRE(vals(embedding(Tensor::from(std::vector<int32_t>{2, 0}, {2}), w)) == std::vector<double>{20, 21, 0, 1});
    REQUIRE_THROWS_WITH(embedding(Tensor::from(std::vector<int32_t>{1, 3}, {2}), w),
                        Catch::Contains("outside the vocabulary [0, 3)"));
  }
  SECTION("index_add_ adds rows at their ids, repeats summed; ids outside the table are refused") {
    Tensor t = Tensor::from(std::vector<float>{0, 1, 10, 11, 20, 21}, {3, 2});
    index_add_(t, Tensor::from(std::vector<int32_t>{2, 0, 2}, {3}), Tensor::from(std::vector<float>{1, 2, 3, 4, 5, 6}, {3, 2}));
    REQUIRE(t.to_vector<float>() == std::vector<float>{3, 5, 10, 11, 26, 29});
    REQUIRE_THROWS_WITH(index_add_(t, Tensor::from(std::vector<int32_t>{3}, {1}), Tensor::from(std::vector<float>{1, 1}, {1, 2})),
                        Catch::Contains("index_add_: 1 token id(s) outside the vocabulary [0, 3)"));
  }
}

TEST_CASE("the chunked output layer equals the product then weighted_logprob, in value and gradients", "[ops]") {
  // h [2,5,6], W [13,6]: chunks of 1, 4, 5 (13 = 2·5 + 3), 13 and 64 tokens against the unfused
  // loss on the full logits h·Wᵀ, in float64.
  Tensor h = scale(Tensor::uniform({2, 5, 6}, 11, 0, -1, 1, DType::F64), 3.0).requires_grad_();
  Tensor W = Tensor::uniform({13, 6}, 12, 0, -1, 1, DType::F64).requires_grad_();
  std::vector<int32_t> ids;
  for (int k = 0; k < 10; ++k) ids.push_back(int32_t((k * 7 + 3) % 13));
  const Tensor y = Tensor::from(ids, {2, 5});
  const Tensor m = Tensor::from(std::vector<double>{1, 1, 1, 0, 0, 1, 1, 1, 1, 1}, {2, 5});
  const Tensor w = Tensor::from(std::vector<double>{0.7, 1.9}, {2});
  const Tensor unfused = weighted_logprob(matmul(h, W, false, true), y, m, w);
  unfused.backward();
  const std::vector<double> dh = h.grad().to_vector<double>(), dW = W.grad().to_vector<double>();
  for (int64_t chunk : {1, 4, 5, 13, 64}) {
    h.zero_grad();
    W.zero_grad();
    const Tensor fused = weighted_logprob_linear(h, W, y, m, w, chunk);
    REQUIRE(fused.item() == Approx(unfused.item()).epsilon(1e-12));
    fused.backward();
    const std::vector<double> fh = h.grad().to_vector<double>(), fW = W.grad().to_vector<double>();
    for (size_t k = 0; k < dh.size(); ++k) REQUIRE(fh[k] == Approx(dh[k]).epsilon(1e-10).margin(1e-14));
    for (size_t k = 0; k < dW.size(); ++k) REQUIRE(fW[k] == Approx(dW[k]).epsilon(1e-10).margin(1e-14));
  }
  SECTION("the running maximum moves across chunks without overflow") {
    // One row whose logits are −800 in the first chunk and +800 in the second: log-sum-exp 800 + log 2.
    Tensor hh = Tensor::from(std::vector<double>{1.0}, {1, 1});
    Tensor WW = Tensor::from(std::vector<double>{-800, -800, 800, 800}, {4, 1});
    const Tensor yy = Tensor::from(std::vector<int32_t>{2}, {1});
    const Tensor one = Tensor::from(std::vector<double>{1.0}, {1});
    REQUIRE(weighted_logprob_linear(hh, WW, yy, one, one, 2).item() == Approx(std::log(2.0)));
  }
}

TEST_CASE("cuda requests fail with a clear message when no GPU can run them", "[tensor]") {
  if (device::cuda_available()) return;
  REQUIRE_THROWS_WITH(Tensor::zeros({2}, DType::F32, Device::CUDA), Catch::Contains("cuda"));
}
