// What a truncation rule of the sampler is (a token-level proposal; the list: rules.def).
//
// A rule is a struct holding one setting, an int64_t or a double whose default switches it off, and
//   template <class V> void visit(V& v)     its config key and allowed values: v("key", field, Range{…})
//   COOPGEN_HD bool cuts(int64_t vocab)      whether it cuts a row of `vocab` tokens (false at every
//                                            vocabulary size when off)
//   template <class Row> COOPGEN_HD Row::Key cut(Row& row, Row::Key floor)
//                                            its threshold over the tokens the rules before it kept
//                                            (key ≥ floor), through the row's three selections:
//     row.count_select(floor, k)      keeps the k largest (all of them when fewer are kept);
//     row.mass_select(floor, f)       keeps the fewest largest whose tempered mass reaches f times
//                                     the kept mass;
//     row.relative_select(floor, x)   keeps those whose tempered probability is at least x times
//                                     the largest's.
// Every token equal to a threshold is kept (ties), and a rule's result is never below `floor`. The
// same `cut` runs in the CPU twin (kernels/cpu/truncation_row.h: Key is the tempered, unnormalised
// probability, 1 at the row's max) and in the fused CUDA sampler (kernels/cuda/sampling.cu: the
// logit's order-preserving 32-bit key, found by radix select), so a rule is written once.
// Its header ends, outside its include guard (not #pragma once: rules.h reads it twice), with
// COOPGEN_TRUNCATION(ItsStruct); adding it is that file and its #include in rules.def. Code reads
// the rules through kernels/params.h (or rules.h), never a rule header alone.
#pragma once
#include <cstdint>

#include "core/range.h"
#include "kernels/philox.h"  // COOPGEN_HD
