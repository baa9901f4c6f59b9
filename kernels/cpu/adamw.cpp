#include "kernels/cpu/adamw.h"

#include <cmath>

namespace coopgen::cpu {

template <class T> void adamw(T* p, const T* g, T* m, T* v, int64_t n, const AdamWParams& a) {
  const double c1 = 1.0 - std::pow(a.beta1, double(a.step));
  const double c2 = 1.0 - std::pow(a.beta2, double(a.step));
  for (int64_t k = 0; k < n; ++k) {
    double gk = a.grad_scale * double(g[k]);
    double mk = a.beta1 * double(m[k]) + (1 - a.beta1) * gk;
    double vk = a.beta2 * double(v[k]) + (1 - a.beta2) * gk * gk;
    m[k] = T(mk);
    v[k] = T(vk);
    double pk = double(p[k]);
    p[k] = T(pk - a.lr * ((mk / c1) / (std::sqrt(vk / c2) + a.eps) + a.weight_decay * pk));
  }
}
template void adamw<float>(float*, const float*, float*, float*, int64_t, const AdamWParams&);
template void adamw<double>(double*, const double*, double*, double*, int64_t, const AdamWParams&);

}  // namespace coopgen::cpu
