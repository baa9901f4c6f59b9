// CPU reference: one AdamW step (Loshchilov & Hutter), in place, for one parameter tensor.
//   g ← gscale·g;  m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²
//   p ← p − lr·( (m/c1) / (√(v/c2) + ε) + wd·p ),  c1 = 1 − β1^step, c2 = 1 − β2^step
// gscale carries global-norm clipping (min(1, clip/‖g‖)).
#pragma once
#include <cstdint>

namespace coopgen::cpu {

struct AdamWArgs {
  double lr, beta1, beta2, eps, weight_decay, grad_scale;
  int64_t step;  // 1-based
};

template <class T> void adamw(T* p, const T* g, T* m, T* v, int64_t n, const AdamWArgs& a);

}  // namespace coopgen::cpu
