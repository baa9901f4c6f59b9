// top-p, the nucleus (Holtzman et al. 2020): keep the fewest most likely tokens whose mass reaches
// top_p of the mass the rules before it kept (every token tied with the last one too).
#ifndef COOPGEN_TRUNCATION_TOP_P_H
#define COOPGEN_TRUNCATION_TOP_P_H
#include "kernels/truncation/rule.h"

namespace coopgen {
struct TopP {
  double top_p = 1.0;  // 1: off
  template <class V> void visit(V& v) { v("top_p", top_p, Range{0, 1, true}); }
  COOPGEN_HD bool cuts(int64_t) const { return top_p < 1.0; }
  template <class Row> COOPGEN_HD typename Row::Key cut(Row& row, typename Row::Key floor) const {
    return row.mass_select(floor, top_p);
  }
};
}  // namespace coopgen
#endif
COOPGEN_TRUNCATION(TopP)
