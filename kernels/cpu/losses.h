// CPU reference: the per-sequence weighted token log-prob loss and binary cross-entropy.
//   weighted_logprob: rows n = b·T + t of logits [N,V]; c_n = w[b]·m[n];
//     lse_n = log Σ_v exp(logits[n,v]); loss = −Σ_n c_n (logits[n,y_n] − lse_n)
//     dlogits[n,v] = dloss · c_n · (exp(logits[n,v] − lse_n) − [v = y_n])
//   The vocabulary may come in chunks [v0, v0+C) (the fused output layer never holds N×V logits):
//     logsumexp_chunk folds one chunk into the running (mx_n, s_n) with lse_n = mx_n + log s_n
//     and picks zy_n = logits[n,y_n]; weighted_logprob turns the state into the loss and lse;
//     weighted_logprob_backward writes one chunk of dlogits.
//   bce_with_logits: loss = (1/N) Σ max(x,0) − x·t + log(1 + e^−|x|);  dx = dloss·(σ(x) − t)/N
#pragma once
#include <cstdint>

namespace coopgen::cpu {

template <class T>
void logsumexp_chunk(T* mx, T* s, T* zy, const T* z, const int32_t* y, int64_t rows, int64_t cols, int64_t v0);
template <class T>
void weighted_logprob(T* loss, T* lse, const T* mx, const T* s, const T* zy, const T* m, const T* w,
                      int64_t rows, int64_t time);
template <class T>
void weighted_logprob_backward(T* dz, const T* z, const T* lse, const int32_t* y, const T* m, const T* w,
                               const T* dloss, int64_t rows, int64_t cols, int64_t time, int64_t v0);
template <class T> void bce_with_logits_forward(T* loss, const T* x, const T* t, int64_t n);
template <class T>
void bce_with_logits_backward(T* dx, const T* x, const T* t, const T* dloss, int64_t n);

}  // namespace coopgen::cpu
