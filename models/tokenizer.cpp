#include "models/tokenizer.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "core/error.h"
#include "engine/io.h"
#include "engine/utf8.h"

namespace coopgen {

Vocab::Vocab() {
  for (const char* s : {"<pad>", "<bos>", "<eos>", "<unk>", "<sep>"}) add(s);
}

void Vocab::add(const std::string& word) {
  if (index_.emplace(word, int32_t(words_.size())).second) words_.push_back(word);
}

Vocab Vocab::build(const std::vector<Words>& corpus, int64_t min_count) {
  std::map<std::string, int64_t> counts;
  for (const Words& line : corpus)
    for (const std::string& w : line) counts[w]++;
  std::vector<std::pair<std::string, int64_t>> sorted(counts.begin(), counts.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  Vocab v;
  for (auto& [w, c] : sorted)
    if (c >= min_count) v.add(w);
  return v;
}

Vocab Vocab::load(const std::string& path) {
  std::istringstream in(read_file(path));
  Vocab v;
  std::string line;
  for (int64_t k = 0; std::getline(in, line); ++k) {
    if (k < int64_t(v.words_.size())) {
      if (line != v.words_[size_t(k)]) fail(path, ":", k + 1, ": expected the special token ", v.words_[size_t(k)]);
      continue;
    }
    if (line.empty() || v.index_.count(line)) fail(path, ":", k + 1, ": empty or repeated word");
    v.add(line);
  }
  return v;
}

std::string Vocab::text() const {
  std::string text;
  for (const std::string& w : words_) text += w + "\n";
  return text;
}

void Vocab::save(const std::string& path) const { atomic_write(path, text()); }

int32_t Vocab::id(const std::string& word) const {
  auto it = index_.find(word);
  // The control tokens' spellings in text are words, not controls: a literal "<eos>" must not end
  // a sequence (nor "<sep>" split one). They read as unknown; "<unk>" stays what it says.
  return it == index_.end() || (it->second < kSpecials && it->second != kUnk) ? kUnk : it->second;
}

const std::string& Vocab::word(int32_t id) const {
  if (id < 0 || id >= int32_t(words_.size())) fail("token id ", id, " is outside the vocabulary [0, ", words_.size(), ")");
  return words_[size_t(id)];
}

std::vector<int32_t> Vocab::encode(const Words& words) const {
  std::vector<int32_t> ids;
  ids.reserve(words.size());
  for (const std::string& w : words) ids.push_back(id(w));
  return ids;
}

Words Vocab::decode(const std::vector<int32_t>& ids) const {
  Words out;
  for (int32_t i : ids) {
    if (i == kEos) break;
    if (i == kPad || i == kBos) continue;
    out.push_back(word(i));
  }
  return out;
}

std::vector<int32_t> WordCodec::encode(std::string_view line) const { return vocab_.encode(split_whitespace(line)); }

std::string WordCodec::decode(const std::vector<int32_t>& ids) const {
  std::string text;
  for (const std::string& w : vocab_.decode(ids)) text += (text.empty() ? "" : " ") + w;
  return text;
}

std::string LineStats::summary(const std::string& path, int64_t max_tokens) const {
  std::ostringstream os;
  os << path << ": " << read << " lines read, " << kept << " kept";
  if (empty) os << ", " << empty << " empty";
  if (too_long) os << ", " << too_long << " longer than " << max_tokens << " tokens";
  if (not_utf8) os << ", " << not_utf8 << " not UTF-8";
  if (kept < read) os << " (skipped)";
  return os.str();
}

void for_each_line(const std::string& path, const std::function<void(std::string& line)>& each) {
  std::ifstream in = open_input(path);
  std::string line;
  for (bool first = true; std::getline(in, line); first = false) {
    if (first && strip_bom(line).size() != line.size()) line.erase(0, 3);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    each(line);
  }
}

std::vector<std::string> read_text_lines(const std::string& path) {
  std::vector<std::string> out;
  for_each_line(path, [&](std::string& line) {
    if (const size_t bad = invalid_utf8_at(line); bad != std::string::npos)
      fail(path, ":", out.size() + 1, ": not UTF-8 (byte ", bad + 1, " of the line)");
    out.push_back(std::move(line));
  });
  return out;
}

std::vector<Words> read_corpus(const std::string& path, int64_t max_tokens, LineStats& stats) {
  std::vector<Words> out;
  for_each_line(path, [&](std::string& line) {
    stats.read++;
    if (!valid_utf8(line)) {
      stats.not_utf8++;
      return;
    }
    Words w = split_whitespace(line);
    if (w.empty()) {
      stats.empty++;
      return;
    }
    if (max_tokens > 0 && int64_t(w.size()) > max_tokens) {
      stats.too_long++;
      return;
    }
    stats.kept++;
    out.push_back(std::move(w));
  });
  return out;
}

}  // namespace coopgen
