// CPU reference: the per-sequence weighted token log-prob loss and binary cross-entropy.
//   weighted_logprob: rows n = b·T + t of logits [N,V]; c_n = w[b]·m[n];
//     lse_n = log Σ_v exp(logits[n,v]); loss = −Σ_n c_n (logits[n,y_n] − lse_n)
//     dlogits[n,v] = dloss · c_n · (exp(logits[n,v] − lse_n) − [v = y_n])
//   bce_with_logits: loss = (1/N) Σ max(x,0) − x·t + log(1 + e^−|x|);  dx = dloss·(σ(x) − t)/N
#pragma once
#include <cstdint>

namespace coopgen::cpu {

template <class T>
void weighted_logprob_forward(T* loss, T* lse, const T* logits, const int32_t* y, const T* m,
                              const T* w, int64_t rows, int64_t time, int64_t vocab);
template <class T>
void weighted_logprob_backward(T* dlogits, const T* logits, const T* lse, const int32_t* y,
                               const T* m, const T* w, const T* dloss, int64_t rows, int64_t time,
                               int64_t vocab);
template <class T> void bce_with_logits_forward(T* loss, const T* x, const T* t, int64_t n);
template <class T>
void bce_with_logits_backward(T* dx, const T* x, const T* t, const T* dloss, int64_t n);

}  // namespace coopgen::cpu
