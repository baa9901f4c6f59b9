#include "kernels/cpu/top_k.h"

#include "kernels/philox.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace coopgen::cpu {

template <class T>
void top_k_logits(T* out, const T* logits, int64_t rows, int64_t vocab, const TopKParams& p) {
  const int64_t k = p.k;
  std::vector<int32_t> ids(static_cast<size_t>(vocab));
  std::vector<T> keys(static_cast<size_t>(vocab));
  for (int64_t n = 0; n < rows; ++n) {
    const T* z = logits + n * vocab;
    const T* key = z;
    if (p.gumbel) {
      for (int64_t v = 0; v < vocab; ++v)
        keys[size_t(v)] = T(float(z[v]) + philox::gumbel(p.seed, p.offset, uint64_t(n * vocab + v)));
      key = keys.data();
    }
    T* o = out + n * (2 * k + 2);
    double top = -std::numeric_limits<double>::infinity();
    bool defined = true;
    for (int64_t v = 0; v < vocab; ++v) {
      defined &= !std::isnan(double(z[v])) && double(z[v]) != std::numeric_limits<double>::infinity();
      top = std::max(top, double(z[v]));
    }
    defined &= top > -std::numeric_limits<double>::infinity();
    if (!defined) {  // no order to sort by
      std::fill(o, o + 2 * k, T(0));
      o[2 * k] = o[2 * k + 1] = std::numeric_limits<T>::quiet_NaN();
      continue;
    }
    double s = 0, s_t = 0;
    for (int64_t v = 0; v < vocab; ++v)
      s += std::exp(double(z[v]) - top), s_t += std::exp((double(z[v]) - top) / p.temperature);
    std::iota(ids.begin(), ids.end(), 0);
    std::partial_sort(ids.begin(), ids.begin() + k, ids.end(),
                      [&](int32_t a, int32_t b) { return key[a] > key[b] || (key[a] == key[b] && a < b); });
    for (int64_t j = 0; j < k; ++j) o[j] = z[ids[size_t(j)]], o[k + j] = T(ids[size_t(j)]);
    o[2 * k] = T(top + std::log(s));
    o[2 * k + 1] = T(top / p.temperature + std::log(s_t));
  }
}

template void top_k_logits<float>(float*, const float*, int64_t, int64_t, const TopKParams&);
template void top_k_logits<double>(double*, const double*, int64_t, int64_t, const TopKParams&);

}  // namespace coopgen::cpu
