// CPU reference: masked pooling over time and whole-tensor sums.
//   masked_pool: out[b,c] = s_b Σ_t m[b,t] x[b,t,c], s_b = 1 (sum) or 1/Σ_t m[b,t] (mean; 0 when
//   the row is fully masked).  backward: dx[b,t,c] = s_b m[b,t] dout[b,c].
#pragma once
#include <cstdint>

namespace coopgen::cpu {

template <class T>
void masked_pool(T* out, const T* x, const T* m, int64_t batch, int64_t time, int64_t cols, bool mean);
template <class T>
void masked_pool_backward(T* dx, const T* dout, const T* m, int64_t batch, int64_t time,
                          int64_t cols, bool mean);
template <class T> void sum_all(T* out, const T* x, int64_t n);
template <class T> void sum_squares(T* out, const T* x, int64_t n);

}  // namespace coopgen::cpu
