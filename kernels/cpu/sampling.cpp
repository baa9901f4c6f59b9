#include "kernels/cpu/sampling.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "kernels/philox.h"

namespace coopgen::cpu {

template <class T>
void sample_logits(int32_t* tokens, T* logp, T* logq, const T* logits, int64_t rows, int64_t vocab,
                   const SampleParams& a) {
  const SamplerSettings& q = a.q;
  std::vector<double> e(static_cast<size_t>(vocab)), sorted;
  for (int64_t n = 0; n < rows; ++n) {
    const T* z = logits + n * vocab;
    double zmax = double(z[0]);
    int64_t argmax = 0;
    bool bad = false;  // NaN or +∞ anywhere
    for (int64_t v = 0; v < vocab; ++v) {
      bad |= std::isnan(double(z[v])) || double(z[v]) == HUGE_VAL;
      if (double(z[v]) > zmax) zmax = double(z[v]), argmax = v;
    }
    if (bad || zmax == -HUGE_VAL) {  // no distribution to draw from: the caller names the row
      tokens[n] = -1;
      logp[n] = logq[n] = T(NAN);
      continue;
    }
    // e: the unnormalised tempered probabilities, the largest equal to 1; at temperature 1 they
    // are the softmax's own terms, so the exponentials are taken once (the oracle's data and every
    // CPU sample spend most of their time here).
    double s = 0;
    for (int64_t v = 0; v < vocab; ++v) s += e[size_t(v)] = std::exp(double(z[v]) - zmax);
    const double lse = zmax + std::log(s);
    if (q.greedy()) {
      tokens[n] = int32_t(argmax);
      logp[n] = T(double(z[argmax]) - lse);
      logq[n] = T(0);
      continue;
    }
    if (q.temperature != 1.0)
      for (int64_t v = 0; v < vocab; ++v) e[size_t(v)] = std::exp((double(z[v]) - zmax) / q.temperature);
    double threshold = 0;  // keep tokens with e ≥ threshold
    if (q.cuts_top_k(vocab)) {
      sorted = e;
      std::nth_element(sorted.begin(), sorted.begin() + (q.top_k - 1), sorted.end(), std::greater<>());
      threshold = sorted[size_t(q.top_k - 1)];
    }
    if (q.cuts_top_p()) {
      sorted.clear();
      double mass = 0;
      for (double x : e)
        if (x >= threshold) sorted.push_back(x), mass += x;
      std::sort(sorted.begin(), sorted.end(), std::greater<>());
      double acc = 0;
      for (double x : sorted) {
        acc += x;
        if (acc >= q.top_p * mass) {
          threshold = x;
          break;
        }
      }
    }
    double kept = 0, all = 0;
    for (double x : e) {
      all += x;
      if (x >= threshold) kept += x;
    }
    // The mixture's component, chosen by u itself, and u rescaled within it.
    double u = double(philox::uniform(a.seed, a.offset, uint64_t(n)));
    const bool from_all = q.mix > 0 && u < q.mix;
    u = from_all ? u / q.mix : q.mix > 0 ? (u - q.mix) / (1 - q.mix) : u;
    const double floor = from_all ? 0.0 : threshold, target = u * (from_all ? all : kept);
    double acc = 0;
    int64_t token = -1;
    for (int64_t v = 0; v < vocab; ++v) {
      if (e[size_t(v)] < floor) continue;
      token = v;
      acc += e[size_t(v)];
      if (acc > target) break;
    }
    const double et = e[size_t(token)];
    tokens[n] = int32_t(token);
    logp[n] = T(double(z[token]) - lse);
    logq[n] = T(std::log(q.mix * et / all + (1 - q.mix) * (et >= threshold ? et / kept : 0.0)));
  }
}

template void sample_logits<float>(int32_t*, float*, float*, const float*, int64_t, int64_t, const SampleParams&);
template void sample_logits<double>(int32_t*, double*, double*, const double*, int64_t, int64_t, const SampleParams&);

}  // namespace coopgen::cpu
