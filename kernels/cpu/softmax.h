// CPU reference: row softmax and its gradient.
//   y = exp(x − max x)/Σ exp(x − max x); a row that is all −∞ (every key masked) gives zeros.
//   dx = y ⊙ (dy − Σ dy·y)
#pragma once
#include <cstdint>

namespace coopgen::cpu {

template <class T> void softmax_forward(T* y, const T* x, int64_t rows, int64_t cols);
template <class T> void softmax_backward(T* dx, const T* y, const T* dy, int64_t rows, int64_t cols);

}  // namespace coopgen::cpu
