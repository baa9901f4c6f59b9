// CPU reference: one AdamW step (Loshchilov & Hutter), in place, for one parameter tensor.
//   g ← gscale·g;  m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²
//   p ← p − lr·( (m/c1) / (√(v/c2) + ε) + wd·p ),  c1 = 1 − β1^step, c2 = 1 − β2^step
// gscale carries global-norm clipping (min(1, clip/‖g‖)).
#pragma once
#include <cstdint>

#include "kernels/params.h"

namespace coopgen::cpu {

template <class T> void adamw(T* p, const T* g, T* m, T* v, int64_t n, const AdamWParams& a);

}  // namespace coopgen::cpu
