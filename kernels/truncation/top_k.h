// top-k (Fan et al. 2018): keep the k most likely tokens (every token tied with the k-th too).
#ifndef COOPGEN_TRUNCATION_TOP_K_H
#define COOPGEN_TRUNCATION_TOP_K_H
#include "kernels/truncation/rule.h"

namespace coopgen {
struct TopK {
  int64_t top_k = 0;  // 0: off
  template <class V> void visit(V& v) { v("top_k", top_k, Range{0, kUnbounded}); }
  COOPGEN_HD bool cuts(int64_t vocab) const { return top_k > 0 && top_k < vocab; }
  template <class Row> COOPGEN_HD typename Row::Key cut(Row& row, typename Row::Key floor) const {
    return row.count_select(floor, top_k);
  }
};
}  // namespace coopgen
#endif
COOPGEN_TRUNCATION(TopK)
