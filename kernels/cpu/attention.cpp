#include "kernels/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/matmul.h"

namespace coopgen::cpu {

namespace {

// The probabilities of one (b, h): P = e^(S − lse) row by row from S = scale·Q·Kᵀ (in `p`),
// zero where masked. With `lse` null the rows' log-sum-exp is computed and written to `out_lse`.
template <class T>
void probabilities(T* p, const T* q, const T* k, const T* keymask, const AttentionParams& s, const T* lse, T* out_lse) {
  constexpr double kNegInf = -std::numeric_limits<double>::infinity();
  matmul(p, q, k, 1, s.tq, s.tk, s.dim, false, true, 1.0 / std::sqrt(double(s.dim)), 0.0);
  for (int64_t i = 0; i < s.tq; ++i) {
    T* row = p + i * s.tk;
    auto masked = [&](int64_t j) { return (keymask && keymask[j] == T(0)) || (s.causal && j > i + s.tk - s.tq); };
    double l = lse ? double(lse[i]) : kNegInf;
    if (!lse) {
      double mx = kNegInf, z = 0;
      for (int64_t j = 0; j < s.tk; ++j)
        if (!masked(j)) mx = std::max(mx, double(row[j]));
      for (int64_t j = 0; j < s.tk; ++j)
        if (!masked(j)) z += std::exp(double(row[j]) - mx);
      l = z > 0 ? mx + std::log(z) : kNegInf;
      out_lse[i] = T(l);
    }
    for (int64_t j = 0; j < s.tk; ++j) row[j] = T(masked(j) || l == kNegInf ? 0.0 : std::exp(double(row[j]) - l));
  }
}

}  // namespace

// Per (b, h), through CBLAS: the Tq×Tk probabilities of one head at a time in scratch, never
// all heads' and never kept for the backward pass (recomputed there from lse, as on the GPU).
template <class T>
void attention_forward(T* o, T* lse, const T* q, const T* k, const T* v, const T* keymask, const AttentionParams& s) {
  std::vector<T> p(size_t(s.tq * s.tk));
  for (int64_t bh = 0; bh < s.batch * s.heads; ++bh) {
    const int64_t qo = bh * s.tq * s.dim, ko = bh * s.kv_rows * s.dim;
    probabilities(p.data(), q + qo, k + ko, keymask ? keymask + bh / s.heads * s.tk : nullptr, s, (const T*)nullptr,
                  lse + bh * s.tq);
    matmul(o + qo, p.data(), v + ko, 1, s.tq, s.dim, s.tk, false, false, 1.0, 0.0);
  }
}

template <class T>
void attention_backward(T* dq, T* dk, T* dv, const T* q, const T* k, const T* v, const T* o, const T* lse,
                        const T* dout, const T* keymask, const AttentionParams& s) {
  const double scale = 1.0 / std::sqrt(double(s.dim));
  std::vector<T> p(size_t(s.tq * s.tk)), ds(size_t(s.tq * s.tk));
  for (int64_t bh = 0; bh < s.batch * s.heads; ++bh) {
    const int64_t qo = bh * s.tq * s.dim, ko = bh * s.tk * s.dim;
    probabilities(p.data(), q + qo, k + ko, keymask ? keymask + bh / s.heads * s.tk : nullptr, s, lse + bh * s.tq,
                  (T*)nullptr);
    matmul(dv + ko, p.data(), dout + qo, 1, s.tk, s.dim, s.tq, true, false, 1.0, 0.0);      // dV = Pᵀ·dO
    matmul(ds.data(), dout + qo, v + ko, 1, s.tq, s.tk, s.dim, false, true, 1.0, 0.0);   // dP = dO·Vᵀ
    for (int64_t i = 0; i < s.tq; ++i) {
      double d_i = 0;  // D_i = dO_i·O_i
      for (int64_t c = 0; c < s.dim; ++c) d_i += double(dout[qo + i * s.dim + c]) * double(o[qo + i * s.dim + c]);
      for (int64_t j = 0; j < s.tk; ++j) {
        const size_t n = size_t(i * s.tk + j);
        ds[n] = T(double(p[n]) * (double(ds[n]) - d_i) * scale);
      }
    }
    matmul(dq + qo, ds.data(), k + ko, 1, s.tq, s.dim, s.tk, false, false, 1.0, 0.0);    // dQ = dS·K
    matmul(dk + ko, ds.data(), q + qo, 1, s.tk, s.dim, s.tq, true, false, 1.0, 0.0);     // dK = dSᵀ·Q
  }
}

#define COOPGEN_ATTENTION(T)                                                                                  \
  template void attention_forward<T>(T*, T*, const T*, const T*, const T*, const T*, const AttentionParams&); \
  template void attention_backward<T>(T*, T*, T*, const T*, const T*, const T*, const T*, const T*, const T*, \
                                      const T*, const AttentionParams&);
COOPGEN_ATTENTION(float)
COOPGEN_ATTENTION(double)
#undef COOPGEN_ATTENTION

}  // namespace coopgen::cpu
