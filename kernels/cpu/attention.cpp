#include "kernels/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace coopgen::cpu {

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// The scores of query i of one (b, h) against every key, −∞ where masked, in double.
template <class T>
void scores(std::vector<double>& out, const T* qi, const T* k, const T* keymask, const AttentionShape& s, int64_t i) {
  const double scale = 1.0 / std::sqrt(double(s.dim));
  for (int64_t j = 0; j < s.tk; ++j) {
    const bool masked = (keymask && keymask[j] == T(0)) || (s.causal && j > i + s.tk - s.tq);
    double dot = 0;
    if (!masked)
      for (int64_t c = 0; c < s.dim; ++c) dot += double(qi[c]) * double(k[j * s.dim + c]);
    out[size_t(j)] = masked ? kNegInf : scale * dot;
  }
}

}  // namespace

template <class T>
void attention_forward(T* o, T* lse, const T* q, const T* k, const T* v, const T* keymask, const AttentionShape& s) {
  std::vector<double> sc(size_t(s.tk)), acc(size_t(s.dim));
  for (int64_t bh = 0; bh < s.batch * s.heads; ++bh) {
    const int64_t b = bh / s.heads;
    const T *kb = k + bh * s.tk * s.dim, *vb = v + bh * s.tk * s.dim, *mb = keymask ? keymask + b * s.tk : nullptr;
    for (int64_t i = 0; i < s.tq; ++i) {
      const int64_t row = bh * s.tq + i;
      scores(sc, q + row * s.dim, kb, mb, s, i);
      const double mx = *std::max_element(sc.begin(), sc.end());
      std::fill(acc.begin(), acc.end(), 0.0);
      double z = 0;
      if (mx != kNegInf)
        for (int64_t j = 0; j < s.tk; ++j) {
          const double p = std::exp(sc[size_t(j)] - mx);
          z += p;
          for (int64_t c = 0; c < s.dim; ++c) acc[size_t(c)] += p * double(vb[j * s.dim + c]);
        }
      lse[row] = T(z > 0 ? mx + std::log(z) : kNegInf);
      for (int64_t c = 0; c < s.dim; ++c) o[row * s.dim + c] = T(z > 0 ? acc[size_t(c)] / z : 0.0);
    }
  }
}

template <class T>
void attention_backward(T* dq, T* dk, T* dv, const T* q, const T* k, const T* v, const T* o, const T* lse,
                        const T* dout, const T* keymask, const AttentionShape& s) {
  const double scale = 1.0 / std::sqrt(double(s.dim));
  const int64_t kv = s.batch * s.heads * s.tk * s.dim;
  std::vector<double> sc(size_t(s.tk)), dkd(size_t(kv), 0.0), dvd(size_t(kv), 0.0), dqi(size_t(s.dim));
  for (int64_t bh = 0; bh < s.batch * s.heads; ++bh) {
    const int64_t b = bh / s.heads, base = bh * s.tk * s.dim;
    const T *kb = k + base, *vb = v + base, *mb = keymask ? keymask + b * s.tk : nullptr;
    for (int64_t i = 0; i < s.tq; ++i) {
      const int64_t row = bh * s.tq + i;
      const T *qi = q + row * s.dim, *doi = dout + row * s.dim, *oi = o + row * s.dim;
      std::fill(dqi.begin(), dqi.end(), 0.0);
      if (double(lse[row]) != kNegInf) {
        scores(sc, qi, kb, mb, s, i);
        double d_i = 0;
        for (int64_t c = 0; c < s.dim; ++c) d_i += double(doi[c]) * double(oi[c]);
        for (int64_t j = 0; j < s.tk; ++j) {
          if (sc[size_t(j)] == kNegInf) continue;
          const double p = std::exp(sc[size_t(j)] - double(lse[row]));
          double dp = 0;
          for (int64_t c = 0; c < s.dim; ++c) dp += double(doi[c]) * double(vb[j * s.dim + c]);
          const double ds = p * (dp - d_i) * scale;
          for (int64_t c = 0; c < s.dim; ++c) {
            dvd[size_t(base + j * s.dim + c)] += p * double(doi[c]);
            dkd[size_t(base + j * s.dim + c)] += ds * double(qi[c]);
            dqi[size_t(c)] += ds * double(kb[j * s.dim + c]);
          }
        }
      }
      for (int64_t c = 0; c < s.dim; ++c) dq[row * s.dim + c] = T(dqi[size_t(c)]);
    }
  }
  for (int64_t n = 0; n < kv; ++n) dk[n] = T(dkd[size_t(n)]), dv[n] = T(dvd[size_t(n)]);
}

#define COOPGEN_ATTENTION(T)                                                                                  \
  template void attention_forward<T>(T*, T*, const T*, const T*, const T*, const T*, const AttentionShape&); \
  template void attention_backward<T>(T*, T*, T*, const T*, const T*, const T*, const T*, const T*, const T*, \
                                      const T*, const AttentionShape&);
COOPGEN_ATTENTION(float)
COOPGEN_ATTENTION(double)
#undef COOPGEN_ATTENTION

}  // namespace coopgen::cpu
