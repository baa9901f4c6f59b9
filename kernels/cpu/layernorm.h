// CPU reference: layer normalisation over the last dim (C) of N rows.
//   forward:  μ = mean x, rstd = 1/√(var x + eps), x̂ = (x − μ)·rstd, y = x̂·g + b
//   backward: dx = rstd·(dy·g − mean(dy·g) − x̂·mean(dy·g·x̂)), dg = Σ_n dy·x̂, db = Σ_n dy
#pragma once
#include <cstdint>

namespace coopgen::cpu {

template <class T>
void layernorm_forward(T* y, T* mean, T* rstd, const T* x, const T* g, const T* b, int64_t rows,
                       int64_t cols, double eps);
template <class T>
void layernorm_backward(T* dx, T* dg, T* db, const T* dy, const T* x, const T* g, const T* mean,
                        const T* rstd, int64_t rows, int64_t cols);

}  // namespace coopgen::cpu
