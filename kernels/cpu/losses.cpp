#include "kernels/cpu/losses.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/vecmath.h"

namespace coopgen::cpu {

template <class T>
void logsumexp_chunk(T* mx, T* s, T* zy, const T* z, const int32_t* y, int64_t rows, int64_t cols, int64_t v0) {
  for (int64_t n = 0; n < rows; ++n) {
    const T* zr = z + n * cols;
    // A NaN or +∞ in the chunk makes its sum below NaN, and so the row's log-sum-exp (as before
    // this maximum was vectorised; engine/logspace.h's log_sum_exp returns +∞ for +∞ instead).
    [[maybe_unused]] bool bad;
    const double top = std::max(double(mx[n]), double(row_max(zr, cols, bad)));
    double acc = double(s[n]) == 0 ? 0.0 : double(s[n]) * std::exp(double(mx[n]) - top);
    acc += sum_exp_shifted(zr, cols, T(top));
    mx[n] = T(top);
    s[n] = T(acc);
    if (y[n] >= v0 && y[n] < v0 + cols) zy[n] = zr[y[n] - v0];
  }
}

template <class T>
void weighted_logprob(T* loss, T* lse, const T* mx, const T* s, const T* zy, const T* m, const T* w,
                      int64_t rows, int64_t time) {
  double total = 0;
  for (int64_t n = 0; n < rows; ++n) {
    const double l = double(mx[n]) + std::log(double(s[n])), c = double(w[n / time]) * double(m[n]);
    lse[n] = T(l);
    if (c != 0) total -= c * (double(zy[n]) - l);
  }
  loss[0] = T(total);
}

template <class T>
void weighted_logprob_backward(T* dz, const T* z, const T* lse, const int32_t* y, const T* m, const T* w,
                               const T* dloss, int64_t rows, int64_t cols, int64_t time, int64_t v0) {
  for (int64_t n = 0; n < rows; ++n) {
    const double c = double(dloss[0]) * double(w[n / time]) * double(m[n]);
    T* d = dz + n * cols;
    exp_shifted(d, z + n * cols, cols, lse[n], T(1));  // p_j, then c·(p_j − [j = y])
    const int64_t hit = y[n] - v0;                      // the target's column, when in this chunk
    const bool here = hit >= 0 && hit < cols;
    const double p_y = here ? double(d[hit]) : 0.0;
    for (int64_t j = 0; j < cols; ++j) d[j] = T(c * double(d[j]));
    if (here) d[hit] = T(c * (p_y - 1.0));
  }
}

template <class T> void bce_with_logits_forward(T* loss, const T* x, const T* t, int64_t n) {
  double s = 0;
  for (int64_t k = 0; k < n; ++k) {
    double v = double(x[k]);
    s += std::max(v, 0.0) - v * double(t[k]) + std::log1p(std::exp(-std::fabs(v)));
  }
  loss[0] = T(n ? s / double(n) : 0.0);
}

template <class T>
void bce_with_logits_backward(T* dx, const T* x, const T* t, const T* dloss, int64_t n) {
  for (int64_t k = 0; k < n; ++k) {
    double sig = 1.0 / (1.0 + std::exp(-double(x[k])));
    dx[k] = T(double(dloss[0]) * (sig - double(t[k])) / double(n));
  }
}

#define COOPGEN_LOSSES(T)                                                                              \
  template void logsumexp_chunk<T>(T*, T*, T*, const T*, const int32_t*, int64_t, int64_t, int64_t);     \
  template void weighted_logprob<T>(T*, T*, const T*, const T*, const T*, const T*, const T*, int64_t,   \
                                    int64_t);                                                            \
  template void weighted_logprob_backward<T>(T*, const T*, const T*, const int32_t*, const T*, const T*, \
                                             const T*, int64_t, int64_t, int64_t, int64_t);
COOPGEN_LOSSES(float)
COOPGEN_LOSSES(double)
#undef COOPGEN_LOSSES
template void bce_with_logits_forward<float>(float*, const float*, const float*, int64_t);
template void bce_with_logits_forward<double>(double*, const double*, const double*, int64_t);
template void bce_with_logits_backward<float>(float*, const float*, const float*, const float*, int64_t);
template void bce_with_logits_backward<double>(double*, const double*, const double*, const double*, int64_t);

}  // namespace coopgen::cpu
