#include "kernels/cpu/vecmath.h"

namespace coopgen::cpu {

// GCC on x86-64 builds this loop twice, for the baseline and for x86-64-v3, and the loader picks
// one (an ifunc); elsewhere, and under clang (whose loop is not faster there), the baseline only.
// The x86-64-v3 build fuses multiply-adds, so its last bits differ from the baseline's: a run's
// last digits already depend on the CPU through OpenBLAS, which picks its kernels per CPU too.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
void exp_shifted_f32(float* out, const float* z, int64_t n, float zmax, float scale) {
  for (int64_t v = 0; v < n; ++v) out[v] = vexpf(scale * (z[v] - zmax));
}

}  // namespace coopgen::cpu
