#include "kernels/cpu/reduce.h"

namespace coopgen::cpu {

template <class T> static double pool_scale(const T* m, int64_t b, int64_t time, bool mean) {
  if (!mean) return 1.0;
  double count = 0;
  for (int64_t t = 0; t < time; ++t) count += double(m[b * time + t]);
  return count > 0 ? 1.0 / count : 0.0;
}

template <class T>
void masked_pool(T* out, const T* x, const T* m, int64_t batch, int64_t time, int64_t cols, bool mean) {
  for (int64_t b = 0; b < batch; ++b) {
    double s = pool_scale(m, b, time, mean);
    for (int64_t c = 0; c < cols; ++c) {
      double acc = 0;
      for (int64_t t = 0; t < time; ++t)
        acc += double(m[b * time + t]) * double(x[(b * time + t) * cols + c]);
      out[b * cols + c] = T(s * acc);
    }
  }
}

template <class T>
void masked_pool_backward(T* dx, const T* dout, const T* m, int64_t batch, int64_t time,
                          int64_t cols, bool mean) {
  for (int64_t b = 0; b < batch; ++b) {
    double s = pool_scale(m, b, time, mean);
    for (int64_t t = 0; t < time; ++t)
      for (int64_t c = 0; c < cols; ++c)
        dx[(b * time + t) * cols + c] = T(s * double(m[b * time + t]) * double(dout[b * cols + c]));
  }
}

template <class T> void sum_all(T* out, const T* x, int64_t n) {
  double s = 0;
  for (int64_t k = 0; k < n; ++k) s += double(x[k]);
  out[0] = T(s);
}
template <class T> void sum_squares(T* out, const T* x, int64_t n) {
  double s = 0;
  for (int64_t k = 0; k < n; ++k) s += double(x[k]) * double(x[k]);
  out[0] = T(s);
}

template void masked_pool<float>(float*, const float*, const float*, int64_t, int64_t, int64_t, bool);
template void masked_pool<double>(double*, const double*, const double*, int64_t, int64_t, int64_t, bool);
template void masked_pool_backward<float>(float*, const float*, const float*, int64_t, int64_t, int64_t, bool);
template void masked_pool_backward<double>(double*, const double*, const double*, int64_t, int64_t, int64_t, bool);
template void sum_all<float>(float*, const float*, int64_t);
template void sum_all<double>(double*, const double*, int64_t);
template void sum_squares<float>(float*, const float*, int64_t);
template void sum_squares<double>(double*, const double*, int64_t);

}  // namespace coopgen::cpu
