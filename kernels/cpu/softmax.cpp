#include "kernels/cpu/softmax.h"

#include <cmath>
#include <limits>

namespace coopgen::cpu {

template <class T> void softmax_forward(T* y, const T* x, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    double mx = -std::numeric_limits<double>::infinity();
    for (int64_t c = 0; c < cols; ++c) mx = std::fmax(mx, double(xr[c]));
    if (std::isinf(mx) && mx < 0) {
      for (int64_t c = 0; c < cols; ++c) yr[c] = T(0);
      continue;
    }
    double s = 0;
    for (int64_t c = 0; c < cols; ++c) s += std::exp(double(xr[c]) - mx);
    for (int64_t c = 0; c < cols; ++c) yr[c] = T(std::exp(double(xr[c]) - mx) / s);
  }
}

template <class T> void softmax_backward(T* dx, const T* y, const T* dy, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    double dot = 0;
    for (int64_t c = 0; c < cols; ++c) dot += double(dy[r * cols + c]) * double(y[r * cols + c]);
    for (int64_t c = 0; c < cols; ++c)
      dx[r * cols + c] = T(double(y[r * cols + c]) * (double(dy[r * cols + c]) - dot));
  }
}

template void softmax_forward<float>(float*, const float*, int64_t, int64_t);
template void softmax_forward<double>(double*, const double*, int64_t, int64_t);
template void softmax_backward<float>(float*, const float*, const float*, int64_t, int64_t);
template void softmax_backward<double>(double*, const double*, const double*, int64_t, int64_t);

}  // namespace coopgen::cpu
