// min-p (Nguyen et al. 2024, "Turning Up the Heat: Min-p Sampling"): keep the tokens whose tempered
// probability is at least min_p times the most likely token's.
#ifndef COOPGEN_TRUNCATION_MIN_P_H
#define COOPGEN_TRUNCATION_MIN_P_H
#include "kernels/truncation/rule.h"

namespace coopgen {
struct MinP {
  double min_p = 0.0;  // 0: off
  template <class V> void visit(V& v) { v("min_p", min_p, Range{0, 1}); }
  COOPGEN_HD bool cuts(int64_t) const { return min_p > 0; }
  template <class Row> COOPGEN_HD typename Row::Key cut(Row& row, typename Row::Key floor) const {
    return row.relative_select(floor, min_p);
  }
};
}  // namespace coopgen
#endif
COOPGEN_TRUNCATION(MinP)
