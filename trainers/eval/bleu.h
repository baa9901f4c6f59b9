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
#include <string>
#include <string_view>
#include <vector>

#include "models/tokenizer.h"

namespace coopgen {

constexpr int kMaxBleuOrder = 5;

// result[n − 1] = mean BLEU-n over the hypotheses, n = 1..kMaxBleuOrder.
std::vector<double> mean_bleu(const std::vector<Words>& hypotheses, const std::vector<Words>& references);
std::vector<double> self_bleu(const std::vector<Words>& samples);

// Corpus BLEU-4 (×100) of line-aligned hypotheses and references (lines of text, empty ones
// included) as sacreBLEU computes it by default (Papineni et al. 2002; Post 2018): each line
// tokenised with the 13a (mteval-v13a) rules, case kept; clipped n-gram matches and totals summed
// over the corpus, brevity penalty exp(1 − r/c) from the summed lengths, and the `exp` smoothing
// (the k-th order with no match counts 1/2^k matches; no unigram match at all scores 0).
double corpus_bleu(const std::vector<std::string>& hypotheses, const std::vector<std::string>& references);
// The 13a tokenisation of one line, sacreBLEU's `tokenize="13a"`: "<skipped>" dropped, the HTML
// entities &quot; &amp; &lt; &gt; unescaped, ASCII punctuation split off (periods and commas not
// inside numbers, dashes after digits), then split at whitespace as Python's str.split() does
// (U+00A0, U+2009 and the other Unicode spaces included). `line` must be valid UTF-8.
Words tokenize_13a(std::string_view line);

}  // namespace coopgen
