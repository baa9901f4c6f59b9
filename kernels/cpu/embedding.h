// CPU reference: embedding lookup out[n,:] = W[ids[n],:] (+ P[pos[n],:] when pos is not null: token
// and position embeddings summed in the same pass) and its gradient dW[ids[n],:] += dout[n,:].
#pragma once
#include <cstdint>

namespace coopgen::cpu {

template <class T>
void embedding_forward(T* out, const int32_t* ids, const T* w, const int32_t* pos, const T* p, int64_t n, int64_t dim);
template <class T> void embedding_backward(T* dw, const int32_t* ids, const T* dout, int64_t n, int64_t dim);

}  // namespace coopgen::cpu
