// BLEU and Self-BLEU exactly as Texygen reports them: NLTK's sentence_bleu of each hypothesis
// against the whole reference set (uniform weights over orders 1..n, SmoothingFunction().method1,
// brevity penalty from the closest reference length), averaged over hypotheses. Self-BLEU scores
// each sample against all the others (leave-one-out; Texygen's own version wrongly kept the
// sample among its references).
//
// Cost: n-grams are counted once. For every n-gram of the references we keep the largest count
// in any single reference, its holder and the second largest, so a hypothesis is scored in
// O(its length) and leaving one reference out needs no recount.
#pragma once
#include <vector>

#include "models/tokenizer.h"

namespace coopgen {

constexpr int kMaxBleuOrder = 5;

// result[n − 1] = mean BLEU-n over the hypotheses, n = 1..kMaxBleuOrder.
std::vector<double> mean_bleu(const std::vector<Words>& hypotheses, const std::vector<Words>& references);
std::vector<double> self_bleu(const std::vector<Words>& samples);

}  // namespace coopgen
