// The CPU twin's row as the truncation rules see it (kernels/truncation/rule.h), apart from the
// sampler (kernels/cpu/sampling.cpp) so that a test can apply a rule list of its own to it.
#pragma once
#include <algorithm>
#include <cstdint>
#include <functional>
#include <vector>

#include "kernels/cpu/vecmath.h"

namespace coopgen::cpu {

// Key is e, the tempered, unnormalised probability, 1 at the row's max; the selections copy the
// kept elements to `scratch`.
template <class T> struct TruncationRow {
  using Key = T;
  const std::vector<T>& e;
  std::vector<T>& scratch;

  void keep(T floor) {
    scratch.clear();
    for (T x : e)
      if (x >= floor) scratch.push_back(x);
  }
  T count_select(T floor, int64_t k) {
    keep(floor);
    if (k >= int64_t(scratch.size())) return floor;
    std::nth_element(scratch.begin(), scratch.begin() + (k - 1), scratch.end(), std::greater<>());
    return scratch[size_t(k - 1)];
  }
  T mass_select(T floor, double fraction) {
    keep(floor);
    const double need = fraction * sum_f64(scratch.data(), int64_t(scratch.size()));
    std::sort(scratch.begin(), scratch.end(), std::greater<>());
    double acc = 0;
    for (T x : scratch)
      if ((acc += double(x)) >= need) return x;
    return floor;  // rounding left `need` just past the total: keep them all
  }
  T relative_select(T floor, double x) const { return std::max(floor, T(x)); }
};

}  // namespace coopgen::cpu
