#include "models/bpe.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <climits>

#include "core/error.h"
#include "engine/io.h"
#include "engine/utf8.h"
#include "models/tokenizer.h"

namespace coopgen {

namespace {

// GPT-2's pre-tokenisation pattern (its encoder.py), compiled for UTF-8 with Unicode properties.
constexpr const char* kPattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// The UTF-8 bytes of code point c (c < 0x800 here: the table's characters).
std::string utf8_of(uint32_t c) {
  std::string s;
  if (c < 0x80) {
    s += char(c);
  } else {
    s += char(0xC0 | (c >> 6));
    s += char(0x80 | (c & 0x3F));
  }
  return s;
}

// The UTF-8 characters of a valid UTF-8 string, one string each.
std::vector<std::string> characters(std::string_view s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    out.emplace_back(s.substr(i, len));
    i += len;
  }
  return out;
}

}  // namespace

struct Gpt2Bpe::Pattern {
  pcre2_code* code = nullptr;
  ~Pattern() { pcre2_code_free(code); }
};

Gpt2Bpe::Gpt2Bpe(const std::string& vocab_json, const std::string& merges_txt) : pattern_(std::make_unique<Pattern>()) {
  // bytes_to_unicode: the printable bytes '!'..'~', '¡'..'¬', '®'..'ÿ' map to themselves, the
  // other 68 to U+0100 + n in byte order.
  uint32_t next = 0;
  for (uint32_t b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    byte_char_[b] = utf8_of(printable ? b : 256 + next++);
    char_byte_[byte_char_[b]] = uint8_t(b);
  }
  const Json::Value vocab = parse_json(read_file(vocab_json), vocab_json);
  tokens_.resize(vocab.size());
  for (const std::string& token : vocab.getMemberNames()) {
    const Json::Value& id = vocab[token];
    if (!id.isUInt() || id.asUInt() >= vocab.size())
      fail(vocab_json, ": token ", json_quote(token), " has id ", id.toStyledString().substr(0, 20), ", not one of 0 to ",
           vocab.size() - 1);
    if (!tokens_[id.asUInt()].empty()) fail(vocab_json, ": id ", id.asUInt(), " is given to two tokens");
    tokens_[id.asUInt()] = token;
    ids_[token] = int32_t(id.asUInt());
  }
  for (uint32_t b = 0; b < 256; ++b)
    if (!ids_.count(byte_char_[b])) fail(vocab_json, ": the byte token ", json_quote(byte_char_[b]), " is missing (not a byte-level BPE?)");
  if (auto it = ids_.find("<|endoftext|>"); it != ids_.end()) eot_ = it->second;
  else fail(vocab_json, ": no <|endoftext|> token");
  int32_t rank = 0, line_no = 0;
  for_each_line(merges_txt, [&](std::string& line) {
    ++line_no;
    if (line.empty() || (line_no == 1 && line.rfind("#version", 0) == 0)) return;
    const size_t space = line.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == line.size() || line.find(' ', space + 1) != std::string::npos)
      fail(merges_txt, ":", line_no, ": expected two symbols separated by one space");
    const std::string a = line.substr(0, space), b = line.substr(space + 1);
    if (!ids_.count(a + b)) fail(merges_txt, ":", line_no, ": the merge ", json_quote(a + b), " is not in ", vocab_json);
    ranks_.emplace(std::pair(a, b), rank++);
  });
  int error = 0;
  PCRE2_SIZE offset = 0;
  pattern_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(kPattern), PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP,
                                 &error, &offset, nullptr);
  CG_CHECK(pattern_->code, "GPT-2 pre-tokeniser: the pattern does not compile (PCRE2 error ", error, ")");
}

std::string Gpt2Bpe::vocab_text() const {
  std::string text;
  for (const std::string& t : tokens_) text += t + "\n";
  return text;
}

Gpt2Bpe::~Gpt2Bpe() = default;

std::vector<std::string> Gpt2Bpe::pretokenize(std::string_view text) const {
  if (const size_t bad = invalid_utf8_at(text); bad != std::string_view::npos)
    fail("GPT-2 tokeniser: the text is not UTF-8 (byte ", bad, ")");
  std::vector<std::string> out;
  pcre2_match_data* m = pcre2_match_data_create_from_pattern(pattern_->code, nullptr);
  PCRE2_SIZE at = 0;
  while (at < text.size()) {
    const int rc = pcre2_match(pattern_->code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), at,
                               PCRE2_NO_UTF_CHECK, m, nullptr);
    if (rc < 0) break;  // the last alternative, \s+, and the others cover every character: unreachable
    const PCRE2_SIZE* span = pcre2_get_ovector_pointer(m);
    out.emplace_back(text.substr(span[0], span[1] - span[0]));
    at = span[1] > span[0] ? span[1] : span[0] + 1;
  }
  pcre2_match_data_free(m);
  return out;
}

std::vector<std::string> Gpt2Bpe::bpe(const std::string& symbols) const {
  std::vector<std::string> parts = characters(symbols);
  while (parts.size() > 1) {
    int32_t best = INT32_MAX;
    size_t at = 0;
    for (size_t k = 0; k + 1 < parts.size(); ++k)
      if (auto it = ranks_.find({parts[k], parts[k + 1]}); it != ranks_.end() && it->second < best) best = it->second, at = k;
    if (best == INT32_MAX) break;
    // Merge every occurrence of the best pair, left to right (GPT-2's loop).
    const std::string a = parts[at], b = parts[at + 1];
    std::vector<std::string> merged;
    for (size_t k = 0; k < parts.size();) {
      if (k + 1 < parts.size() && parts[k] == a && parts[k + 1] == b) merged.push_back(a + b), k += 2;
      else merged.push_back(parts[k++]);
    }
    parts = std::move(merged);
  }
  return parts;
}

std::vector<int32_t> Gpt2Bpe::encode(std::string_view text) const {
  std::vector<int32_t> ids;
  for (const std::string& piece : pretokenize(text)) {
    auto cached = cache_.find(piece);
    if (cached == cache_.end()) {
      std::string symbols;
      for (unsigned char c : piece) symbols += byte_char_[c];
      std::vector<int32_t> piece_ids;
      for (const std::string& s : bpe(symbols)) {
        auto it = ids_.find(s);
        CG_CHECK(it != ids_.end(), "GPT-2 tokeniser: symbol ", json_quote(s), " is not in the vocabulary");
        piece_ids.push_back(it->second);
      }
      cached = cache_.emplace(piece, std::move(piece_ids)).first;
    }
    ids.insert(ids.end(), cached->second.begin(), cached->second.end());
  }
  return ids;
}

std::string Gpt2Bpe::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  for (int32_t id : ids) {
    CG_CHECK(id >= 0 && id < size(), "GPT-2 tokeniser: token id ", id, " is outside the vocabulary [0, ", size(), ")");
    if (id == eot_) break;
    for (const std::string& ch : characters(tokens_[size_t(id)])) {
      auto it = char_byte_.find(ch);
      CG_CHECK(it != char_byte_.end(), "GPT-2 tokeniser: token ", id, " holds a character outside the byte table");
      out += char(it->second);
    }
  }
  return out;
}

}  // namespace coopgen
