// The row loops of the CPU kernels that run over a whole vocabulary (a softmax's exponentials,
// its normaliser, a sampler's scans), written so that the compiler vectorises them: plain
// element-wise bodies and sums kept in fixed lanes. glibc's exp and expf are one call per element,
// and the CPU cost of sampling, of a log-sum-exp over the vocabulary and of its backward pass was
// mostly these loops (ggml's ggml_v_expf takes the same route with intrinsics).
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>

namespace coopgen::cpu {

// e^x in f32 for x ≤ 88 (callers pass x − max ≤ 0): x = n·ln2 + r with |r| ≤ ln2/2 (Cody–Waite,
// ln2 split in two so that n·ln2 is exact), e^r by Cephes expf's minimax polynomial, 2^n from the
// exponent bits. Relative error within 2⁻²³ (tests/test_sampling.cpp checks it against std::exp in
// double). 0 below −87.3 (where f32 turns subnormal: a term 2^−126 of a sum ≥ 1
// is below f32's resolution), +∞ above 88, NaN for NaN; branch-free (the selects vectorise
// under -fno-trapping-math, CMakeLists.txt).
inline float vexpf(float x) {
  constexpr float lo = -87.3f, hi = 88.0f, log2e = 1.44269504f, ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;
  constexpr float round = 12582912.0f;  // 1.5·2²³: adding and subtracting it rounds to an integer
  const float xc = x > lo ? (x < hi ? x : hi) : lo;  // NaN too becomes lo: no NaN reaches int32_t(n)
  const float n = (xc * log2e + round) - round;
  const float r = (xc - n * ln2_hi) - n * ln2_lo;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float er = p * r * r + r + 1.0f;
  const float two_n = std::bit_cast<float>((int32_t(n) + 127) << 23);
  const float y = er * two_n;
  return x < lo ? 0.0f : x > hi ? INFINITY : x != x ? x : y;
}

// The loops below live in vecmath.cpp, compiled at -O3 in every build (CMakeLists.txt): in the
// -O0 sanitizer builds and the -O2 test build they would otherwise run unvectorised, slower than
// the libm calls they replace. Each is instantiated for float and double.

// out[v] = e^(scale·(z[v] − zmax)) for v < n, with scale > 0 and z[v] ≤ zmax: f32 by vexpf
// (also compiled for x86-64-v3 — AVX2 and FMA: 2.3–2.4 times the baseline's speed on 5,000-element
// rows — and x86-64-v4, AVX-512, chosen at load time where the CPU has them), f64 by std::exp (the double
// instantiations are references and keep libm's accuracy). out may be z.
template <class T> void exp_shifted(T* out, const T* z, int64_t n, T zmax, T scale);

// Σ_v x[v] in double, over x[v] ≥ floor only when floor is given: 8 partial sums in a fixed
// order (vectorised; the same result on every run), added together at the end.
template <class T> double sum_f64(const T* x, int64_t n, T floor = T(-INFINITY));

// Σ_v e^(scale·(z[v] − zmax)) over v < n in double: exp_shifted in blocks on the stack, each
// summed by sum_f64.
template <class T> double sum_exp_shifted(const T* z, int64_t n, T zmax, T scale = T(1));

// The largest of z[0, n) (−∞ for n = 0), and whether any is NaN or +∞ (then the largest means
// nothing). Compared as integers (a float's bits, the negative ones' magnitude bits flipped, order
// as the floats do): the compiler vectorises an integer max, not a floating one.
template <class T> T row_max(const T* z, int64_t n, bool& bad);

// GELU (tanh form) and its gradient over rows × cols, bias (cols, may be null) added first:
// out = gelu(x + bias), dx = dy · gelu'(x + bias), computed as v·σ(2u) (vecmath.cpp); f32 by vexpf,
// f64 by std::exp. tests/test_tensor.cpp bounds the f32 error against long double. out may be x,
// dx may be dy.
template <class T> void gelu_rows(T* out, const T* x, const T* bias, int64_t rows, int64_t cols);
template <class T>
void gelu_rows_backward(T* dx, const T* x, const T* bias, const T* dy, int64_t rows, int64_t cols);

}  // namespace coopgen::cpu
