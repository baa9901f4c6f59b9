#include "kernels/cpu/vecmath.h"

#include <limits>
#include <type_traits>

namespace coopgen::cpu {

// GCC on x86-64 builds this loop twice, for the baseline and for x86-64-v3, and the loader picks
// one (an ifunc); elsewhere, under clang (whose loop is not faster there) and under the sanitizers
// (an ifunc resolver runs before their runtime is up: TSan crashes there), the baseline only.
// The x86-64-v3 build fuses multiply-adds, so its last bits differ from the baseline's: a run's
// last digits already depend on the CPU through OpenBLAS, which picks its kernels per CPU too.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__) && \
    !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
static void exp_shifted_f32(float* out, const float* z, int64_t n, float zmax, float scale) {
  for (int64_t v = 0; v < n; ++v) out[v] = vexpf(scale * (z[v] - zmax));
}

template <class T> void exp_shifted(T* out, const T* z, int64_t n, T zmax, T scale) {
  if constexpr (sizeof(T) == sizeof(float))
    exp_shifted_f32(out, z, n, zmax, scale);
  else
    for (int64_t v = 0; v < n; ++v) out[v] = std::exp(scale * (z[v] - zmax));
}

template <class T> double sum_f64(const T* x, int64_t n, T floor) {
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

template <class T> T row_max(const T* z, int64_t n, bool& bad) {
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

#define COOPGEN_VECMATH(T)                                                \
  template void exp_shifted<T>(T*, const T*, int64_t, T, T);              \
  template double sum_f64<T>(const T*, int64_t, T);                      \
  template double sum_exp_shifted<T>(const T*, int64_t, T, T);           \
  template T row_max<T>(const T*, int64_t, bool&);
COOPGEN_VECMATH(float)
COOPGEN_VECMATH(double)

}  // namespace coopgen::cpu
