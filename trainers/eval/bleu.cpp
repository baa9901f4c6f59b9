#include "trainers/eval/bleu.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <string>
#include <unordered_map>

#include "core/error.h"
#include "engine/utf8.h"

namespace coopgen {

namespace {

struct Gram {
  std::array<int32_t, kMaxBleuOrder> w{};
  int n = 0;
  bool operator==(const Gram& o) const { return n == o.n && w == o.w; }
};
struct GramHash {
  size_t operator()(const Gram& g) const {
    uint64_t h = 0x9e3779b97f4a7c15ull * uint64_t(g.n + 1);
    for (int k = 0; k < g.n; ++k) h = (h ^ uint64_t(uint32_t(g.w[size_t(k)]))) * 0x100000001b3ull;
    return size_t(h ^ (h >> 29));
  }
};
struct MaxCount {
  int32_t first = 0, second = 0;
  int64_t holder = -1;  // the reference holding `first`
};

using Ids = std::vector<int32_t>;

std::unordered_map<Gram, int32_t, GramHash> count_grams(const Ids& s) {
  std::unordered_map<Gram, int32_t, GramHash> c;
  for (int n = 1; n <= kMaxBleuOrder; ++n)
    for (size_t i = 0; i + size_t(n) <= s.size(); ++i) {
      Gram g;
      g.n = n;
      for (int k = 0; k < n; ++k) g.w[size_t(k)] = s[i + size_t(k)];
      c[g]++;
    }
  return c;
}

class References {
 public:
  explicit References(const std::vector<Ids>& refs) {
    for (size_t r = 0; r < refs.size(); ++r) {
      for (auto& [g, c] : count_grams(refs[r])) {
        MaxCount& m = max_[g];
        if (c > m.first) m.second = m.first, m.first = c, m.holder = int64_t(r);
        else if (c > m.second) m.second = c;
      }
      lengths_[int64_t(refs[r].size())]++;
    }
  }

  // Mean-able BLEU-1..5 of `h`, leaving reference `skip` out (−1: none), as NLTK computes them.
  std::array<double, kMaxBleuOrder> score(const Ids& h, int64_t skip, int64_t skip_len) const {
    std::array<double, kMaxBleuOrder> num{}, den{}, out{};
    for (auto& [g, c] : count_grams(h)) {
      auto it = max_.find(g);
      if (it == max_.end()) continue;
      const int32_t cap = it->second.holder == skip ? it->second.second : it->second.first;
      num[size_t(g.n - 1)] += std::min(c, cap);
    }
    const int64_t len = int64_t(h.size());
    for (int n = 1; n <= kMaxBleuOrder; ++n) den[size_t(n - 1)] = double(std::max<int64_t>(1, len - n + 1));
    if (num[0] == 0) return out;  // NLTK: no unigram match scores 0
    const int64_t ref_len = closest_length(len, skip_len);
    const double bp = len > ref_len ? 1.0 : (len == 0 ? 0.0 : std::exp(1.0 - double(ref_len) / double(len)));
    double log_sum = 0;
    for (int n = 1; n <= kMaxBleuOrder; ++n) {
      const double p = num[size_t(n - 1)] > 0 ? num[size_t(n - 1)] / den[size_t(n - 1)] : 0.1 / den[size_t(n - 1)];
      log_sum += std::log(p);  // method1 smoothing: ε = 0.1 on zero counts
      out[size_t(n - 1)] = bp * std::exp(log_sum / n);
    }
    return out;
  }

 private:
  // The reference length closest to `len` (ties: the shorter), one reference of `skip_len` left out.
  int64_t closest_length(int64_t len, int64_t skip_len) const {
    int64_t best = -1;
    for (auto& [l, count] : lengths_) {
      if (l == skip_len && count == 1) continue;
      if (best < 0 || std::llabs(l - len) < std::llabs(best - len)) best = l;
    }
    return best;
  }
  std::unordered_map<Gram, MaxCount, GramHash> max_;
  std::map<int64_t, int64_t> lengths_;
};

// Shared word ids for both sides.
std::vector<Ids> to_ids(const std::vector<Words>& text, std::unordered_map<std::string, int32_t>& ids) {
  std::vector<Ids> out;
  for (const Words& line : text) {
    Ids s;
    for (const std::string& w : line) s.push_back(ids.emplace(w, int32_t(ids.size())).first->second);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<double> mean(const std::vector<std::array<double, kMaxBleuOrder>>& scores) {
  std::vector<double> m(kMaxBleuOrder, 0.0);
  for (auto& s : scores)
    for (size_t n = 0; n < s.size(); ++n) m[n] += s[n] / double(scores.size());
  return m;
}

}  // namespace

std::vector<double> mean_bleu(const std::vector<Words>& hypotheses, const std::vector<Words>& references) {
  CG_CHECK(!hypotheses.empty() && !references.empty(), "BLEU needs hypotheses and references");
  std::unordered_map<std::string, int32_t> ids;
  const std::vector<Ids> refs = to_ids(references, ids), hyps = to_ids(hypotheses, ids);
  References r(refs);
  std::vector<std::array<double, kMaxBleuOrder>> scores;
  for (const Ids& h : hyps) scores.push_back(r.score(h, -1, -1));
  return mean(scores);
}

std::vector<double> self_bleu(const std::vector<Words>& samples) {
  CG_CHECK(samples.size() >= 2, "Self-BLEU needs at least two samples");
  std::unordered_map<std::string, int32_t> ids;
  const std::vector<Ids> s = to_ids(samples, ids);
  References r(s);
  std::vector<std::array<double, kMaxBleuOrder>> scores;
  for (size_t i = 0; i < s.size(); ++i) scores.push_back(r.score(s[i], int64_t(i), int64_t(s[i].size())));
  return mean(scores);
}

Words tokenize_13a(std::string_view line) {
  std::string text(line);
  auto replace_all = [&text](std::string_view from, std::string_view to) {
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
      text.replace(at, from.size(), to);
  };
  replace_all("<skipped>", "");
  if (text.find('&') != std::string::npos)  // in sacreBLEU's order: &amp;quot; becomes &quot;, not "
    replace_all("&quot;", "\""), replace_all("&amp;", "&"), replace_all("&lt;", "<"), replace_all("&gt;", ">");
  // mteval-v13a: the punctuation classes first, then periods and commas except inside numbers,
  // then dashes after digits, each rule one left-to-right pass of non-overlapping matches (as
  // sacreBLEU's regular expressions; character tests here: std::regex took most of a BLEU score's
  // time). Bytes of multi-byte characters fall in no class and are never separated from each other.
  const auto punct = [](unsigned char c) {  // [{-~[-` -&(-+:-@/]
    return (c >= '{' && c <= '~') || (c >= '[' && c <= '`') || (c >= ' ' && c <= '&') || (c >= '(' && c <= '+') ||
           (c >= ':' && c <= '@') || c == '/';
  };
  const auto digit = [](unsigned char c) { return c >= '0' && c <= '9'; };
  const auto period_or_comma = [](unsigned char c) { return c == '.' || c == ','; };
  std::string spaced = " ";
  for (char c : text) punct(static_cast<unsigned char>(c)) ? (spaced += ' ', spaced += c, spaced += ' ') : spaced += c;
  spaced += ' ';
  // s/(first)(second)/$1 $2 / (or / $1 $2/ with `lead`) over the pairs of adjacent characters.
  const auto split_pairs = [](const std::string& in, auto first, auto second, bool lead) {
    std::string out;
    out.reserve(in.size() + in.size() / 8);
    for (size_t i = 0; i < in.size();) {
      if (i + 1 < in.size() && first(static_cast<unsigned char>(in[i])) && second(static_cast<unsigned char>(in[i + 1]))) {
        if (lead) out += ' ';
        out += in[i], out += ' ', out += in[i + 1];
        if (!lead) out += ' ';
        i += 2;
      } else {
        out += in[i++];
      }
    }
    return out;
  };
  const auto not_digit = [&](unsigned char c) { return !digit(c); };
  text = split_pairs(spaced, not_digit, period_or_comma, false);
  text = split_pairs(text, period_or_comma, not_digit, true);
  text = split_pairs(text, digit, [](unsigned char c) { return c == '-'; }, false);
  return split_whitespace(text);
}

double corpus_bleu(const std::vector<std::string>& hypotheses, const std::vector<std::string>& references) {
  CG_CHECK(!hypotheses.empty() && hypotheses.size() == references.size(), "corpus BLEU: ", hypotheses.size(),
           " hypotheses for ", references.size(), " references (line-aligned, at least one)");
  constexpr int kOrder = 4;
  std::vector<Words> h, r;
  for (const std::string& line : hypotheses) h.push_back(tokenize_13a(line));
  for (const std::string& line : references) r.push_back(tokenize_13a(line));
  std::unordered_map<std::string, int32_t> ids;
  const std::vector<Ids> hyps = to_ids(h, ids), refs = to_ids(r, ids);
  std::array<double, kOrder> matches{}, totals{};
  double hyp_len = 0, ref_len = 0;
  for (size_t i = 0; i < hyps.size(); ++i) {
    const auto ref_counts = count_grams(refs[i]);
    for (auto& [g, c] : count_grams(hyps[i])) {
      if (g.n > kOrder) continue;
      auto it = ref_counts.find(g);
      if (it != ref_counts.end()) matches[size_t(g.n - 1)] += std::min(c, it->second);
    }
    for (int n = 1; n <= kOrder; ++n) totals[size_t(n - 1)] += double(std::max<int64_t>(0, int64_t(hyps[i].size()) - n + 1));
    hyp_len += double(hyps[i].size()), ref_len += double(refs[i].size());
  }
  if (hyp_len == 0 || matches[0] == 0) return 0.0;  // sacreBLEU: no unigram match scores 0, smoothing or not
  double log_sum = 0, smooth = 1;
  for (int n = 0; n < kOrder; ++n) {
    if (totals[size_t(n)] == 0) return 0.0;  // sacreBLEU: an order with no n-grams at all scores 0
    if (matches[size_t(n)] == 0) smooth *= 2, log_sum += std::log(1.0 / (smooth * totals[size_t(n)]));
    else log_sum += std::log(matches[size_t(n)] / totals[size_t(n)]);
  }
  const double bp = hyp_len < ref_len ? std::exp(1.0 - ref_len / hyp_len) : 1.0;
  return 100.0 * bp * std::exp(log_sum / kOrder);
}

}  // namespace coopgen
