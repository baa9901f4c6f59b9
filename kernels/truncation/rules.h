// The truncation rules as one type (rule.h says what a rule is; rules.def lists them): the sampler's
// settings (SamplerSettings, kernels/params.h) inherit every rule's setting from it, and the
// kernels, the config and the decode-graph key ask their questions of all rules at once.
#pragma once
#include <cstdint>

#include "kernels/truncation/rule.h"

// rules.def is read twice: first for the rules' definitions, with COOPGEN_TRUNCATION empty ...
#undef COOPGEN_TRUNCATION
#define COOPGEN_TRUNCATION(Rule)
#include "kernels/truncation/rules.def"
#undef COOPGEN_TRUNCATION

namespace coopgen {

template <class... Rules> struct Truncation : Rules... {
  // One 8-byte, 8-aligned word each: no padding, so the settings' bits are a key (params.h).
  static_assert(((sizeof(Rules) == 8 && alignof(Rules) == 8) && ...),
                "a truncation rule holds one 8-byte setting (int64_t or double)");
  static constexpr int kRules = sizeof...(Rules);
  // Whether any rule cuts a row of `vocab` tokens.
  COOPGEN_HD bool truncated(int64_t vocab) const { return (static_cast<const Rules&>(*this).cuts(vocab) || ...); }
  // The threshold of the kept set: each rule that cuts, in rules.def's order, over what the ones
  // before it kept (key ≥ floor; `floor` itself keeps the whole row).
  template <class Row>
  COOPGEN_HD typename Row::Key threshold(Row& row, int64_t vocab, typename Row::Key floor) const {
    ((floor = static_cast<const Rules&>(*this).cuts(vocab) ? static_cast<const Rules&>(*this).cut(row, floor) : floor),
     ...);
    return floor;
  }
  // Every rule's config key (SamplingConfig::visit, engine/ops.h).
  template <class V> void visit_rules(V& v) { (static_cast<Rules&>(*this).visit(v), ...); }
};

template <class First, class... Rules> struct RuleList {
  using type = Truncation<Rules...>;
};

}  // namespace coopgen

// ... then for the list, each rule's last line giving ", Rule".
#define COOPGEN_TRUNCATION(Rule) , ::coopgen::Rule
namespace coopgen {
using TruncationRules = RuleList<void
#include "kernels/truncation/rules.def"
                                 >::type;
}  // namespace coopgen
#undef COOPGEN_TRUNCATION
// A rule header read again later (include guard closed) registers nothing.
#define COOPGEN_TRUNCATION(Rule)
