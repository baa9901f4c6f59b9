// libFuzzer target: the tokenisers of the scores (13a, ROUGE, whitespace) and BLEU / Self-BLEU /
// corpus BLEU / ROUGE on the lines of the input, which the readers would have checked to be UTF-8.
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "engine/utf8.h"
#include "trainers/eval/bleu.h"
#include "trainers/eval/rouge.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coopgen;
  const std::string input(reinterpret_cast<const char*>(data), size);
  if (!valid_utf8(input)) return 0;  // the readers refuse such text before any tokeniser sees it
  std::vector<std::string> lines;
  std::istringstream in(input);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  if (lines.size() < 2) return 0;
  std::vector<Words> words;
  for (const std::string& line : lines) {
    words.push_back(split_whitespace(line));
    for (const std::string& t : tokenize_13a(line))
      if (t.empty()) __builtin_trap();  // a token is never empty
    (void)rouge_tokens(line);
  }
  try {
  const size_t half = lines.size() / 2;
  const std::vector<std::string> hyp(lines.begin(), lines.begin() + long(half)), ref(lines.begin() + long(half), lines.begin() + long(2 * half));
  const double b = corpus_bleu(hyp, ref);
  if (!(b >= 0 && b <= 100.0 + 1e-9)) __builtin_trap();
  const RougeScores r = mean_rouge(hyp, ref);
  if (!(r.rouge1 >= 0 && r.rouge1 <= 100.0 + 1e-9)) __builtin_trap();
  for (double v : mean_bleu(words, words)) if (!(v >= 0 && v <= 1.0 + 1e-9)) __builtin_trap();
  for (double v : self_bleu(words)) if (!(v >= 0 && v <= 1.0 + 1e-9)) __builtin_trap();
  } catch (const Error&) {
  }
  return 0;
}
