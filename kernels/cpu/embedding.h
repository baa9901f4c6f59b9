// CPU reference: embedding lookup out[n,:] = W[ids[n],:] and its gradient dW[ids[n],:] += dout[n,:].
#pragma once
#include <cstdint>

namespace coopgen::cpu {

template <class T> void embedding_forward(T* out, const int32_t* ids, const T* w, int64_t n, int64_t dim);
template <class T> void embedding_backward(T* dw, const int32_t* ids, const T* dout, int64_t n, int64_t dim);

}  // namespace coopgen::cpu
