// CPU reference of attention, per (batch b, head h): q [Tq, d], k, v [Tk, d], scale = 1/√d,
//   s_ij = scale·q_i·k_j, masked (−∞) where keymask[b, j] = 0 or, causal, j > i + Tk − Tq;
//   lse_i = log Σ_j e^(s_ij);  o_i = Σ_j e^(s_ij − lse_i) v_j.
// A query whose keys are all masked gets o_i = 0 and lse_i = −∞. Backward, from lse (nothing of
// size Tq×Tk is kept), with p_ij = e^(s_ij − lse_i) and D_i = dO_i·o_i:
//   dv_j = Σ_i p_ij dO_i;  ds_ij = p_ij (dO_i·v_j − D_i);  dq_i = scale Σ_j ds_ij k_j;  dk_j = scale Σ_i ds_ij q_i.
// Tensors are [B, H, T, d] and contiguous, except that the forward pass may read K and V in place
// from a KV cache: head (b, h)'s key j at row (b·H + h)·kv_rows + j (kv_rows ≥ Tk, the cache's
// capacity; kv_rows = Tk when contiguous). keymask [B, Tk] or null. The CPU computes one head's
// Tq×Tk probabilities at a time with CBLAS products (scratch, not kept between the passes).
#pragma once
#include <cstdint>

#include "kernels/params.h"

namespace coopgen::cpu {

template <class T>
void attention_forward(T* o, T* lse, const T* q, const T* k, const T* v, const T* keymask, const AttentionParams& s);
template <class T>
void attention_backward(T* dq, T* dk, T* dv, const T* q, const T* k, const T* v, const T* o, const T* lse,
                        const T* dout, const T* keymask, const AttentionParams& s);

}  // namespace coopgen::cpu
