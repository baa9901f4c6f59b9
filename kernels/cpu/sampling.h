// CPU reference of the sampler: one token per row of logits [N,V] from the proposal q̂, which is
// p (the softmax of the logits) at temperature τ, truncated by the rules of
// kernels/truncation/rules.def in order — to the k most likely tokens (top-k), to the smallest set
// of most likely tokens holding a fraction top_p of the remaining mass (nucleus), to the tokens at
// least min_p times as likely as the most likely (min-p); ties at a threshold are kept — and
// renormalised; with mix ε > 0 that truncated
// distribution t is mixed with the untruncated tempered one, q̂ = ε·p_τ + (1 − ε)·t. τ ≤ 0 is
// greedy (argmax, q̂ = 1; ε is ignored).
//   token  ~ q̂, drawn by inverting the CDF in vocabulary order with u = Philox(seed, offset, row):
//          with ε > 0, u < ε draws from p_τ with u/ε, else from t with (u − ε)/(1 − ε)
//   logp   = log p(token)    (untempered, untruncated: the model's own probability)
//   logq   = log q̂(token)   (what importance weights divide by)
// A row with a NaN or +∞ logit, or with no finite one, defines no distribution: its token is −1
// and its logp and logq NaN, for the caller to report (−∞ logits alone are impossible tokens).
#pragma once
#include <cstdint>

#include "kernels/params.h"

namespace coopgen::cpu {

template <class T>
void sample_logits(int32_t* tokens, T* logp, T* logq, const T* logits, int64_t rows, int64_t vocab,
                   const SampleParams& args);

}  // namespace coopgen::cpu
