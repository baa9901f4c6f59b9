// Word-level tokenizer for the pre-tokenised benchmarks (whitespace-separated words): a
// vocabulary built from training text with a minimum count, five special tokens, and a reader
// that counts and reports the lines it cannot use instead of dropping them silently.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace coopgen {

using Words = std::vector<std::string>;

class Vocab {
 public:
  static constexpr int32_t kPad = 0, kBos = 1, kEos = 2, kUnk = 3, kSep = 4, kSpecials = 5;

  Vocab();  // the special tokens only
  // Words seen at least `min_count` times, most frequent first (ties in byte order).
  static Vocab build(const std::vector<Words>& corpus, int64_t min_count);
  static Vocab load(const std::string& path);  // one word per line, as save() writes
  void save(const std::string& path) const;     // atomic
  std::string text() const;                     // what save() writes: the words in id order, one per line

  int64_t size() const { return int64_t(words_.size()); }
  // kUnk for unknown words and for the spellings of the control tokens (<pad>, <bos>, <eos>,
  // <sep>) in text: only the task puts controls into a sequence.
  int32_t id(const std::string& word) const;
  const std::string& word(int32_t id) const;  // an id outside the vocabulary is an error naming it
  std::vector<int32_t> encode(const Words& words) const;
  // Words up to the first <eos>; <pad> and <bos> are skipped.
  Words decode(const std::vector<int32_t>& ids) const;

 private:
  void add(const std::string& word);
  std::vector<std::string> words_;
  std::unordered_map<std::string, int32_t> index_;
};

// How a text task turns a line into token ids and back: the word vocabulary built from the
// training file (WordCodec) or GPT-2's byte-level BPE (models/bpe.h). `start` is fed before the
// first token, `end` closes a sequence, `pad` fills batches (masked out of every loss).
class TextCodec {
 public:
  virtual ~TextCodec() = default;
  virtual int64_t size() const = 0;
  // The ids of one line of valid UTF-8 text, without start or end token.
  virtual std::vector<int32_t> encode(std::string_view line) const = 0;
  // The text that ids stand for, up to the first end token.
  virtual std::string decode(const std::vector<int32_t>& ids) const = 0;
  virtual int32_t start() const = 0;
  virtual int32_t end() const = 0;
  virtual int32_t pad() const = 0;
  // The tokens in id order, one per line: what identifies the vocabulary.
  virtual std::string vocab_text() const = 0;
};

// Words separated by whitespace, each its own token (the benchmarks' pre-tokenised text).
class WordCodec : public TextCodec {
 public:
  explicit WordCodec(Vocab vocab) : vocab_(std::move(vocab)) {}
  int64_t size() const override { return vocab_.size(); }
  std::vector<int32_t> encode(std::string_view line) const override;
  std::string decode(const std::vector<int32_t>& ids) const override;
  int32_t start() const override { return Vocab::kBos; }
  int32_t end() const override { return Vocab::kEos; }
  int32_t pad() const override { return Vocab::kPad; }
  std::string vocab_text() const override { return vocab_.text(); }
  const Vocab& vocab() const { return vocab_; }

 private:
  Vocab vocab_;
};

struct LineStats {
  int64_t read = 0, kept = 0, empty = 0, too_long = 0, not_utf8 = 0;
  std::string summary(const std::string& path, int64_t max_tokens) const;
};

// Calls each(line) for every line of a text file (an error naming the file if it cannot be
// opened), with a byte-order mark at its start and the CR of CRLF line ends removed. Every reader
// of text goes through it.
void for_each_line(const std::string& path, const std::function<void(std::string& line)>& each);

// Every line of a UTF-8 text file, empty ones included: the files whose lines are aligned
// (hypotheses with references). A line that is not UTF-8 (RFC 3629) is an error naming file:line.
std::vector<std::string> read_text_lines(const std::string& path);

// The lines of `path` split at whitespace (engine/utf8.h split_whitespace: Python's str.split);
// empty lines, lines of more than `max_tokens` words (when max_tokens > 0) and lines that are not
// UTF-8 (RFC 3629: no surrogates, nothing past U+10FFFF, no overlong forms) are counted in `stats`
// and skipped.
std::vector<Words> read_corpus(const std::string& path, int64_t max_tokens, LineStats& stats);

}  // namespace coopgen
