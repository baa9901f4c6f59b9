// AdamW step (math in kernels/cpu/adamw.h): one thread per parameter; reads p, g, m, v and
// writes p, m, v (28 bytes per parameter). Bias corrections are computed once on the host.
#include <cmath>

#include "kernels/cuda/adamw.cuh"
#include "kernels/cuda/common.cuh"

namespace coopgen::cuda {

namespace {
__global__ void __launch_bounds__(kBlock)
    adamw_kernel(float* p, const float* g, float* m, float* v, int64_t n, float lr, float b1, float b2,
                 float eps, float wd, float gscale, float c1, float c2) {
  for (int64_t k = global_index(); k < n; k += grid_stride()) {
    const float gk = gscale * g[k];
    const float mk = b1 * m[k] + (1 - b1) * gk;
    const float vk = b2 * v[k] + (1 - b2) * gk * gk;
    m[k] = mk;
    v[k] = vk;
    p[k] -= lr * ((mk / c1) / (sqrtf(vk / c2) + eps) + wd * p[k]);
  }
}
}  // namespace

void adamw(float* p, const float* g, float* m, float* v, int64_t n, const AdamWParams& a, cudaStream_t s) {
  const double c1 = 1.0 - std::pow(a.beta1, double(a.step)), c2 = 1.0 - std::pow(a.beta2, double(a.step));
  if (n)
    launch("adamw", adamw_kernel, grid_for(n), kBlock, 0, s, p, g, m, v, n, float(a.lr), float(a.beta1),
           float(a.beta2), float(a.eps), float(a.weight_decay), float(a.grad_scale), float(c1), float(c2));
}

}  // namespace coopgen::cuda
