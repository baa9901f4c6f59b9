#include "kernels/cpu/layernorm.h"

#include <cmath>
#include <vector>

namespace coopgen::cpu {

template <class T>
void layernorm_forward(T* y, T* mean, T* rstd, const T* x, const T* g, const T* b, int64_t rows,
                       int64_t cols, double eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    double m = 0, v = 0;
    for (int64_t c = 0; c < cols; ++c) m += double(xr[c]);
    m /= double(cols);
    for (int64_t c = 0; c < cols; ++c) v += (double(xr[c]) - m) * (double(xr[c]) - m);
    double s = 1.0 / std::sqrt(v / double(cols) + eps);
    for (int64_t c = 0; c < cols; ++c)
      y[r * cols + c] = T((double(xr[c]) - m) * s * double(g[c]) + double(b[c]));
    mean[r] = T(m);
    rstd[r] = T(s);
  }
}

template <class T>
void layernorm_backward(T* dx, T* dg, T* db, const T* dy, const T* x, const T* g, const T* mean,
                        const T* rstd, int64_t rows, int64_t cols) {
  std::vector<double> sg(size_t(cols), 0.0), sb(size_t(cols), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    const T* dyr = dy + r * cols;
    double m = double(mean[r]), s = double(rstd[r]);
    double mean_dyg = 0, mean_dyg_xh = 0;
    for (int64_t c = 0; c < cols; ++c) {
      double xh = (double(xr[c]) - m) * s, dyg = double(dyr[c]) * double(g[c]);
      mean_dyg += dyg;
      mean_dyg_xh += dyg * xh;
      sg[size_t(c)] += double(dyr[c]) * xh;
      sb[size_t(c)] += double(dyr[c]);
    }
    mean_dyg /= double(cols);
    mean_dyg_xh /= double(cols);
    for (int64_t c = 0; c < cols; ++c) {
      double xh = (double(xr[c]) - m) * s;
      dx[r * cols + c] = T(s * (double(dyr[c]) * double(g[c]) - mean_dyg - xh * mean_dyg_xh));
    }
  }
  for (int64_t c = 0; c < cols; ++c) {
    dg[c] = T(sg[size_t(c)]);
    db[c] = T(sb[size_t(c)]);
  }
}

template void layernorm_forward<float>(float*, float*, float*, const float*, const float*,
                                       const float*, int64_t, int64_t, double);
template void layernorm_forward<double>(double*, double*, double*, const double*, const double*,
                                        const double*, int64_t, int64_t, double);
template void layernorm_backward<float>(float*, float*, float*, const float*, const float*,
                                        const float*, const float*, const float*, int64_t, int64_t);
template void layernorm_backward<double>(double*, double*, double*, const double*, const double*,
                                         const double*, const double*, const double*, int64_t, int64_t);

}  // namespace coopgen::cpu
