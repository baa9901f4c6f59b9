// CPU reference: row softmax and its gradient, and the attention score mask.
//   y = exp(x − max x)/Σ exp(x − max x); a row that is all −∞ (every key masked) gives zeros.
//   dx = y ⊙ (dy − Σ dy·y)
//   mask_fill: scores [B,H,Tq,Tk]; position (i, j) is masked when keymask[b,j] = 0 or, causal,
//   j > i + Tk − Tq; masked positions get `fill`, others keep x.
#pragma once
#include <cstdint>

namespace coopgen::cpu {

template <class T> void softmax_forward(T* y, const T* x, int64_t rows, int64_t cols);
template <class T> void softmax_backward(T* dx, const T* y, const T* dy, int64_t rows, int64_t cols);
template <class T>
void mask_fill(T* out, const T* x, const T* keymask, int64_t batch, int64_t heads, int64_t tq,
               int64_t tk, bool causal, double fill);

}  // namespace coopgen::cpu
