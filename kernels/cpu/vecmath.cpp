#include "kernels/cpu/vecmath.h"

#include <limits>
#include <type_traits>

namespace coopgen::cpu {

// GCC on x86-64 builds the f32 loops below twice, for the baseline and for x86-64-v3 (AVX2, FMA),
// and the loader picks one (an ifunc); elsewhere, under clang (whose loops are not faster there)
// and under the sanitizers (an ifunc resolver runs before their runtime is up: TSan crashes there),
// the baseline only. The x86-64-v3 build of a loop with products fuses multiply-adds, so its last
// bits differ from the baseline's: a run's last digits already depend on the CPU through OpenBLAS,
// which picks its kernels per CPU too. Sums and maxima come out the same to the bit.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__) && \
    !defined(__SANITIZE_ADDRESS__)
#define COOPGEN_X86_64_V3_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define COOPGEN_X86_64_V3_CLONES
#endif
// A loop's body, inlined into each clone (and into the double instantiation) as it is.
#define COOPGEN_LOOP_BODY static inline __attribute__((always_inline))

COOPGEN_X86_64_V3_CLONES static void exp_shifted_f32(float* out, const float* z, int64_t n, float zmax, float scale) {
  for (int64_t v = 0; v < n; ++v) out[v] = vexpf(scale * (z[v] - zmax));
}

template <class T> void exp_shifted(T* out, const T* z, int64_t n, T zmax, T scale) {
  if constexpr (sizeof(T) == sizeof(float))
    exp_shifted_f32(out, z, n, zmax, scale);
  else
    for (int64_t v = 0; v < n; ++v) out[v] = std::exp(scale * (z[v] - zmax));
}

template <class T> COOPGEN_LOOP_BODY double sum_f64_loop(const T* x, int64_t n, T floor) {
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
COOPGEN_X86_64_V3_CLONES static double sum_f64_f32(const float* x, int64_t n, float floor) {
  return sum_f64_loop(x, n, floor);
}
template <class T> double sum_f64(const T* x, int64_t n, T floor) {
  if constexpr (sizeof(T) == sizeof(float))
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

template <class T> COOPGEN_LOOP_BODY T row_max_loop(const T* z, int64_t n, bool& bad) {
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

COOPGEN_X86_64_V3_CLONES static float row_max_f32(const float* z, int64_t n, bool& bad) { return row_max_loop(z, n, bad); }
template <class T> T row_max(const T* z, int64_t n, bool& bad) {
  if constexpr (sizeof(T) == sizeof(float))
    return row_max_f32(z, n, bad);
  else
    return row_max_loop(z, n, bad);
}

// GELU's tanh form through the logistic: ½v(1 + tanh u) = v·σ(2u), so no 1 + tanh u cancels where
// v ≪ 0; σ(2u) = 1/(1 + e^(−2u)) by vexpf (e^(−2u) = +∞ past v ≈ −10.5: σ = 0 exactly).
constexpr float kGeluScale = 0.7978845608f, kGeluCubic = 0.044715f;  // u = √(2/π)(v + 0.044715v³)
COOPGEN_LOOP_BODY float gelu_sigma(float v) {
  return 1.0f / (1.0f + vexpf(-2.0f * kGeluScale * (v + kGeluCubic * v * v * v)));
}
COOPGEN_X86_64_V3_CLONES void gelu_f32(float* out, const float* x, const float* bias, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const float v = x[r * cols + c] + (bias ? bias[c] : 0.0f);
      out[r * cols + c] = v * gelu_sigma(v);
    }
}
// gelu'(v) = σ + 2v·σ(1 − σ)·u'(v), u' = √(2/π)(1 + 3·0.044715v²). σ(1 − σ) is exactly 0 in f32
// past |v| = 16, so v is clamped there in the second term: v² cannot overflow into 0·∞.
COOPGEN_X86_64_V3_CLONES void gelu_backward_f32(float* dx, const float* x, const float* bias, const float* dy,
                                                int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const float v = x[r * cols + c] + (bias ? bias[c] : 0.0f), sig = gelu_sigma(v);
      const float vc = v < -16.0f ? -16.0f : v > 16.0f ? 16.0f : v;
      dx[r * cols + c] = dy[r * cols + c] * (sig + 2.0f * vc * sig * (1.0f - sig) * kGeluScale * (1.0f + 3.0f * kGeluCubic * vc * vc));
    }
}

#define COOPGEN_VECMATH(T)                                                \
  template void exp_shifted<T>(T*, const T*, int64_t, T, T);              \
  template double sum_f64<T>(const T*, int64_t, T);                      \
  template double sum_exp_shifted<T>(const T*, int64_t, T, T);           \
  template T row_max<T>(const T*, int64_t, bool&);
COOPGEN_VECMATH(float)
COOPGEN_VECMATH(double)

}  // namespace coopgen::cpu
