#include "kernels/cpu/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/truncation_row.h"
#include "kernels/cpu/vecmath.h"
#include "kernels/philox.h"

namespace coopgen::cpu {

// The first v whose running sum of e over {e ≥ floor} exceeds target (the last v with
// 0 < e ≥ floor when rounding leaves the total at or below it): the inverse CDF in vocabulary order. Whole blocks
// are skipped by their sum (sum_f64), so the sequential scan covers one block.
template <class T> static int64_t invert_cdf(const T* e, int64_t n, T floor, double target) {
  constexpr int64_t block = 256;
  double acc = 0;
  for (int64_t v0 = 0; v0 < n; v0 += block) {
    const int64_t k = std::min(block, n - v0);
    const double mass = sum_f64(e + v0, k, floor);
    if (acc + mass <= target) {
      acc += mass;
      continue;
    }
    for (int64_t v = v0; v < v0 + k; ++v)
      if (e[v] >= floor && (acc += double(e[v])) > target) return v;
  }
  int64_t last = n - 1;
  while (last > 0 && !(e[last] > 0 && e[last] >= floor)) --last;
  return last;
}

template <class T>
void sample_logits(int32_t* tokens, T* logp, T* logq, const T* logits, int64_t rows, int64_t vocab,
                   const SampleParams& a) {
  const SamplerSettings& q = a.q;
  std::vector<T> e(static_cast<size_t>(vocab)), sorted;
  for (int64_t n = 0; n < rows; ++n) {
    const T* z = logits + n * vocab;
    bool bad = false;  // NaN or +∞ anywhere
    const T zmax = row_max(z, vocab, bad);
    if (bad || zmax == T(-INFINITY)) {  // no distribution to draw from: the caller names the row
      tokens[n] = -1;
      logp[n] = logq[n] = T(NAN);
      continue;
    }
    // e: the unnormalised tempered probabilities, the largest equal to 1; at temperature 1 they
    // are the softmax's own terms, so the exponentials are taken once (the oracle's data and every
    // CPU sample spend most of their time here), in T as the CUDA sampler takes them.
    exp_shifted(e.data(), z, vocab, zmax, T(1));
    const double mass = sum_f64(e.data(), vocab);
    const double lse = double(zmax) + std::log(mass);
    if (q.greedy()) {
      const int64_t argmax = std::find(z, z + vocab, zmax) - z;
      tokens[n] = int32_t(argmax);
      logp[n] = T(double(z[argmax]) - lse);
      logq[n] = T(0);
      continue;
    }
    if (q.temperature != 1.0)  // 1/τ held finite in T: a τ below T's range keeps its argmax alone
      exp_shifted(e.data(), z, vocab, zmax, T(std::min(1.0 / q.temperature, double(std::numeric_limits<T>::max()))));
    TruncationRow<T> row{e, sorted};
    const T threshold = q.threshold(row, vocab, T(0));  // keep tokens with e ≥ threshold
    const double all = q.temperature != 1.0 ? sum_f64(e.data(), vocab) : mass;
    const double kept = threshold > 0 ? sum_f64(e.data(), vocab, threshold) : all;
    // The mixture's component, chosen by u itself, and u rescaled within it.
    double u = double(philox::uniform(a.seed, a.offset, uint64_t(n)));
    const bool from_all = q.mix > 0 && u < q.mix;
    u = from_all ? u / q.mix : q.mix > 0 ? (u - q.mix) / (1 - q.mix) : u;
    const T floor = from_all ? T(0) : threshold;
    const int64_t token = invert_cdf(e.data(), vocab, floor, u * (from_all ? all : kept));
    const double et = double(e[size_t(token)]);
    tokens[n] = int32_t(token);
    logp[n] = T(double(z[token]) - lse);
    logq[n] = T(std::log(q.mix * et / all + (1 - q.mix) * (et >= threshold ? et / kept : 0.0)));
  }
}

template void sample_logits<float>(int32_t*, float*, float*, const float*, int64_t, int64_t, const SampleParams&);
template void sample_logits<double>(int32_t*, double*, double*, const double*, int64_t, int64_t, const SampleParams&);

}  // namespace coopgen::cpu
