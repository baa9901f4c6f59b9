#include "kernels/cpu/vecmath.h"

#include <limits>
#include <type_traits>

namespace coopgen::cpu {

// GCC on x86-64 builds the f32 loops below three times, for the baseline, x86-64-v3 (AVX2, FMA)
// and x86-64-v4 (AVX-512: twice v3's lanes; a GCN test run 17% faster on an AVX-512 machine,
// 2026-12-07), and the loader picks one (an ifunc); elsewhere, under clang (whose loops are not
// faster there) and under the sanitizers (an ifunc resolver runs before their runtime is up: TSan
// crashes there), the baseline only. The v3 and v4 builds of a loop with products fuse
// multiply-adds, so their last bits differ from the baseline's (v3 and v4 agree: the same fused
// operations, sums in the same fixed lanes): a run's last digits already depend on the CPU through
// OpenBLAS, which picks its kernels per CPU too. Sums and maxima come out the same to the bit.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__) && \
    !defined(__SANITIZE_ADDRESS__)
#define COOPGEN_X86_64_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define COOPGEN_X86_64_CLONES
#endif
// Inlined into each clone (and into the double instantiation) as it is.
#define COOPGEN_ALWAYS_INLINE static inline __attribute__((always_inline))

COOPGEN_X86_64_CLONES static void exp_shifted_f32(float* out, const float* z, int64_t n, float zmax, float scale) {
  for (int64_t v = 0; v < n; ++v) out[v] = vexpf(scale * (z[v] - zmax));
}

template <class T> void exp_shifted(T* out, const T* z, int64_t n, T zmax, T scale) {
  if constexpr (std::is_same_v<T, float>)
    exp_shifted_f32(out, z, n, zmax, scale);
  else
    for (int64_t v = 0; v < n; ++v) out[v] = std::exp(scale * (z[v] - zmax));
}

template <class T> COOPGEN_ALWAYS_INLINE double sum_f64_loop(const T* x, int64_t n, T floor) {
  constexpr int64_t lanes = 8;
  double part[lanes] = {};
  int64_t v = 0;
  for (; v + lanes <= n; v += lanes)
    for (int64_t k = 0; k < lanes; ++k) part[k] += x[v + k] >= floor ? double(x[v + k]) : 0.0;
  double s = 0;
  for (; v < n; ++v) s += x[v] >= floor ? double(x[v]) : 0.0;
  for (double p : part) s += p;
  return s;
}
COOPGEN_X86_64_CLONES static double sum_f64_f32(const float* x, int64_t n, float floor) {
  return sum_f64_loop(x, n, floor);
}
template <class T> double sum_f64(const T* x, int64_t n, T floor) {
  if constexpr (std::is_same_v<T, float>)
    return sum_f64_f32(x, n, floor);
  else
    return sum_f64_loop(x, n, floor);
}

template <class T> double sum_exp_shifted(const T* z, int64_t n, T zmax, T scale) {
  constexpr int64_t block = 256;
  T e[block];
  double s = 0;
  for (int64_t v0 = 0; v0 < n; v0 += block) {
    const int64_t k = n - v0 < block ? n - v0 : block;
    exp_shifted(e, z + v0, k, zmax, scale);
    s += sum_f64(e, k);
  }
  return s;
}

template <class T> COOPGEN_ALWAYS_INLINE T row_max_loop(const T* z, int64_t n, bool& bad) {
  using I = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
  constexpr int shift = 8 * sizeof(T) - 1;
  constexpr I magnitude = std::numeric_limits<I>::max();
  const auto key = [](I i) { return I(i ^ ((i >> shift) & magnitude)); };  // its own inverse
  I top = key(std::bit_cast<I>(T(-INFINITY)));
  int nan = 0;
  for (int64_t v = 0; v < n; ++v) {
    const I k = key(std::bit_cast<I>(z[v]));
    top = k > top ? k : top;
    nan |= int(z[v] != z[v]);
  }
  const T m = std::bit_cast<T>(key(top));
  bad = nan != 0 || m == T(INFINITY);
  return m;
}

COOPGEN_X86_64_CLONES static float row_max_f32(const float* z, int64_t n, bool& bad) { return row_max_loop(z, n, bad); }
template <class T> T row_max(const T* z, int64_t n, bool& bad) {
  if constexpr (std::is_same_v<T, float>)
    return row_max_f32(z, n, bad);
  else
    return row_max_loop(z, n, bad);
}

// GELU's tanh form through the logistic: ½v(1 + tanh u) = v·σ(2u), σ(2u) = 1/(1 + e), e = e^(−2u),
// so 1 + tanh u never cancels (v ≪ 0), nor 1 − σ, taken as e·σ where σ ≥ ½ (v ≫ 0); f32 by vexpf (whose
// argument is clamped at 88: σ = 0 past v ≈ −10.03, where the true value is below 6e-38), f64 by
// std::exp. gelu'(v) = σ + 2v·σ(1 − σ)·u'(v), u' = √(2/π)(1 + 3·0.044715v²); σ(1 − σ) is exactly 0
// in f32 past |v| = 16 (in f64 past 40), so v is clamped there in that term: v² cannot overflow
// into 0·∞.
// u = √(2/π)(v + 0.044715v³)
template <class T> constexpr T kGeluScale = T(0.7978845608028654);
template <class T> constexpr T kGeluCubic = T(0.044715);
template <class T> struct GeluTerms {
  T sigma, one_minus_sigma;
};
template <class T> COOPGEN_ALWAYS_INLINE GeluTerms<T> gelu_terms(T v) {
  const T x = T(-2) * kGeluScale<T> * (v + kGeluCubic<T> * v * v * v);
  T e;
  if constexpr (std::is_same_v<T, float>)
    e = vexpf(x);
  else
    e = std::exp(x);
  const T sigma = T(1) / (T(1) + e);
  return {sigma, e <= T(1) ? e * sigma : T(1) - sigma};  // (1 − σ ≥ ½ in the second case: no cancelling)
}
template <class T> COOPGEN_ALWAYS_INLINE void gelu_loop(T* out, const T* x, const T* bias, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const T v = x[r * cols + c] + (bias ? bias[c] : T(0));
      out[r * cols + c] = v * gelu_terms(v).sigma;
    }
}
template <class T>
COOPGEN_ALWAYS_INLINE void gelu_backward_loop(T* dx, const T* x, const T* bias, const T* dy, int64_t rows, int64_t cols) {
  constexpr T edge = std::is_same_v<T, float> ? T(16) : T(40);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const T v = x[r * cols + c] + (bias ? bias[c] : T(0)), vc = v < -edge ? -edge : v > edge ? edge : v;
      const GeluTerms<T> g = gelu_terms(v);
      dx[r * cols + c] = dy[r * cols + c] *
                         (g.sigma + T(2) * vc * g.sigma * g.one_minus_sigma * kGeluScale<T> * (T(1) + T(3) * kGeluCubic<T> * vc * vc));
    }
}
COOPGEN_X86_64_CLONES static void gelu_f32(float* out, const float* x, const float* bias, int64_t rows, int64_t cols) {
  gelu_loop(out, x, bias, rows, cols);
}
COOPGEN_X86_64_CLONES static void gelu_backward_f32(float* dx, const float* x, const float* bias, const float* dy,
                                                    int64_t rows, int64_t cols) {
  gelu_backward_loop(dx, x, bias, dy, rows, cols);
}
template <class T> void gelu_rows(T* out, const T* x, const T* bias, int64_t rows, int64_t cols) {
  if constexpr (std::is_same_v<T, float>)
    gelu_f32(out, x, bias, rows, cols);
  else
    gelu_loop(out, x, bias, rows, cols);
}
template <class T> void gelu_rows_backward(T* dx, const T* x, const T* bias, const T* dy, int64_t rows, int64_t cols) {
  if constexpr (std::is_same_v<T, float>)
    gelu_backward_f32(dx, x, bias, dy, rows, cols);
  else
    gelu_backward_loop(dx, x, bias, dy, rows, cols);
}

#define COOPGEN_VECMATH(T)                                                \
  template void exp_shifted<T>(T*, const T*, int64_t, T, T);              \
  template double sum_f64<T>(const T*, int64_t, T);                      \
  template double sum_exp_shifted<T>(const T*, int64_t, T, T);           \
  template T row_max<T>(const T*, int64_t, bool&);                       \
  template void gelu_rows<T>(T*, const T*, const T*, int64_t, int64_t);  \
  template void gelu_rows_backward<T>(T*, const T*, const T*, const T*, int64_t, int64_t);
COOPGEN_VECMATH(float)
COOPGEN_VECMATH(double)

}  // namespace coopgen::cpu
