#include "trainers/eval/rouge.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "core/error.h"

namespace coopgen {

namespace {

double f1(double overlap, double hyp_total, double ref_total) {
  if (overlap == 0 || hyp_total == 0 || ref_total == 0) return 0.0;
  const double p = overlap / hyp_total, r = overlap / ref_total;
  return 2 * p * r / (p + r);
}

double rouge_n(const Words& h, const Words& r, size_t n) {
  std::map<std::vector<std::string>, int64_t> hc, rc;
  for (size_t i = 0; i + n <= h.size(); ++i) hc[{h.begin() + long(i), h.begin() + long(i + n)}]++;
  for (size_t i = 0; i + n <= r.size(); ++i) rc[{r.begin() + long(i), r.begin() + long(i + n)}]++;
  double overlap = 0;
  for (auto& [g, c] : hc)
    if (auto it = rc.find(g); it != rc.end()) overlap += double(std::min(c, it->second));
  return f1(overlap, double(h.size() >= n ? h.size() - n + 1 : 0), double(r.size() >= n ? r.size() - n + 1 : 0));
}

// Length of the longest common subsequence, by the O(|h|·|r|) table, one row at a time.
size_t lcs(const Words& h, const Words& r) {
  std::vector<size_t> prev(r.size() + 1, 0), cur(r.size() + 1, 0);
  for (size_t i = 1; i <= h.size(); ++i) {
    for (size_t j = 1; j <= r.size(); ++j)
      cur[j] = h[i - 1] == r[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    std::swap(prev, cur);
  }
  return prev[r.size()];
}

}  // namespace

Words rouge_tokens(std::string_view line) {
  Words out;
  std::string w;
  auto flush = [&] {
    if (!w.empty()) out.push_back(std::move(w)), w.clear();
  };
  for (char c : line) {  // bytes of non-ASCII characters are neither letters nor digits: separators
    const char l = char(std::tolower(static_cast<unsigned char>(c)));
    if ((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9')) w += l;
    else flush();
  }
  flush();
  return out;
}

RougeScores mean_rouge(const std::vector<std::string>& hypotheses, const std::vector<std::string>& references) {
  CG_CHECK(!hypotheses.empty() && hypotheses.size() == references.size(), "ROUGE: ", hypotheses.size(),
           " hypotheses for ", references.size(), " references (line-aligned, at least one)");
  RougeScores m;
  const double k = 100.0 / double(hypotheses.size());
  for (size_t i = 0; i < hypotheses.size(); ++i) {
    const Words h = rouge_tokens(hypotheses[i]), r = rouge_tokens(references[i]);
    m.rouge1 += k * rouge_n(h, r, 1);
    m.rouge2 += k * rouge_n(h, r, 2);
    m.rouge_l += k * f1(double(lcs(h, r)), double(h.size()), double(r.size()));
  }
  return m;
}

}  // namespace coopgen
