// CPU reference of the tree search's prior filter: per row of logits z [N,V], the k largest
// logits in decreasing order (ties: the lower token id first) with their ids, and the two
// normalisers the prior needs, lse = log Σ_v e^(z_v) and lse_τ = log Σ_v e^(z_v/τ) (τ > 0; the
// order of z/τ is that of z). So the search copies N·(2k+2) floats to the host instead of N·V.
//   out[n] = (z of the top k, their ids as floats (exact below 2^24), lse, lse_τ)
// With p.gumbel the order is that of the keys z_v + G_v (f32; G: philox::gumbel at p.seed,
// p.offset, element n·V + v): the top k are then k tokens drawn from softmax(z) without
// replacement (Gumbel-top-k), and the values written are still their logits z.
// A row with a NaN or +∞ logit, or with no finite one, has no distribution: lse and lse_τ are NaN
// (the decoders report it); its top-k entries are then unspecified.
#pragma once
#include <cstdint>

#include "kernels/params.h"

namespace coopgen::cpu {

template <class T>
void top_k_logits(T* out, const T* logits, int64_t rows, int64_t vocab, const TopKParams& p);

}  // namespace coopgen::cpu
