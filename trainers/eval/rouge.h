// ROUGE-1, ROUGE-2 and ROUGE-L F1 (Lin 2004) with the conventions of ROUGE-1.5.5 as Google's
// rouge-score reimplements them: text lower-cased, every character outside [a-z0-9] a separator,
// no stemming and no stop-word removal; per pair, F1 of the clipped n-gram overlap (ROUGE-N) or
// of the longest common subsequence (ROUGE-L, sentence level); reported as the mean over pairs ×100.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "models/tokenizer.h"

namespace coopgen {

struct RougeScores {
  double rouge1 = 0, rouge2 = 0, rouge_l = 0;
};

// Line-aligned hypotheses and references (lines of text; an empty hypothesis scores 0, as in
// rouge-score).
RougeScores mean_rouge(const std::vector<std::string>& hypotheses, const std::vector<std::string>& references);
// ROUGE's tokenisation of one line.
Words rouge_tokens(std::string_view line);

}  // namespace coopgen
