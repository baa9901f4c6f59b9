#include "kernels/cpu/losses.h"

#include <algorithm>
#include <cmath>

namespace coopgen::cpu {

// exp in the element type (expf for f32 — the CPU cost of a training step is mostly these V-wide
// exponentials), accumulated in double by the callers.
template <class T> static double exp_t(double x) { return double(std::exp(T(x))); }

template <class T>
void weighted_logprob_forward(T* loss, T* lse, const T* logits, const int32_t* y, const T* m,
                              const T* w, int64_t rows, int64_t time, int64_t vocab) {
  double total = 0;
  for (int64_t n = 0; n < rows; ++n) {
    const T* z = logits + n * vocab;
    double mx = double(z[0]);
    for (int64_t v = 1; v < vocab; ++v) mx = std::max(mx, double(z[v]));
    double s = 0;
    for (int64_t v = 0; v < vocab; ++v) s += exp_t<T>(double(z[v]) - mx);
    double l = mx + std::log(s);
    lse[n] = T(l);
    double c = double(w[n / time]) * double(m[n]);
    if (c != 0) total -= c * (double(z[y[n]]) - l);
  }
  loss[0] = T(total);
}

template <class T>
void weighted_logprob_backward(T* dlogits, const T* logits, const T* lse, const int32_t* y,
                               const T* m, const T* w, const T* dloss, int64_t rows, int64_t time,
                               int64_t vocab) {
  for (int64_t n = 0; n < rows; ++n) {
    double c = double(dloss[0]) * double(w[n / time]) * double(m[n]);
    for (int64_t v = 0; v < vocab; ++v) {
      double p = exp_t<T>(double(logits[n * vocab + v]) - double(lse[n]));
      dlogits[n * vocab + v] = T(c * (p - (v == y[n] ? 1.0 : 0.0)));
    }
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

template void weighted_logprob_forward<float>(float*, float*, const float*, const int32_t*,
                                              const float*, const float*, int64_t, int64_t, int64_t);
template void weighted_logprob_forward<double>(double*, double*, const double*, const int32_t*,
                                               const double*, const double*, int64_t, int64_t, int64_t);
template void weighted_logprob_backward<float>(float*, const float*, const float*, const int32_t*,
                                               const float*, const float*, const float*, int64_t,
                                               int64_t, int64_t);
template void weighted_logprob_backward<double>(double*, const double*, const double*, const int32_t*,
                                                const double*, const double*, const double*, int64_t,
                                                int64_t, int64_t);
template void bce_with_logits_forward<float>(float*, const float*, const float*, int64_t);
template void bce_with_logits_forward<double>(double*, const double*, const double*, int64_t);
template void bce_with_logits_backward<float>(float*, const float*, const float*, const float*, int64_t);
template void bce_with_logits_backward<double>(double*, const double*, const double*, const double*, int64_t);

}  // namespace coopgen::cpu
