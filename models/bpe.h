// GPT-2's byte-level BPE (Radford et al. 2019), read from the files GPT-2 and Hugging Face
// `tokenizers` write: vocab.json (token → id) and merges.txt (one merge "a b" per line, in rank
// order, after an optional "#version" line). Encoding:
//   1. the text is cut into pre-tokens by GPT-2's pattern
//        's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//      (contractions, a letter run, a digit run or a punctuation run each with at most one space
//      before it, and whitespace; PCRE2 with Unicode properties);
//   2. each pre-token's bytes become printable characters (GPT-2's bytes_to_unicode table: 188
//      printable bytes stand for themselves, the other 68 move to U+0100 and up);
//   3. adjacent symbols are merged, always the pair of lowest rank first, until no merge applies;
//   4. each symbol is looked up in the vocabulary.
// Decoding concatenates the symbols and maps the characters back to bytes, so decode(encode(x)) = x
// byte for byte for any valid UTF-8 x. <|endoftext|> is the start and end token.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "models/tokenizer.h"

namespace coopgen {

class Gpt2Bpe : public TextCodec {
 public:
  // Reads both files; errors name the file (and line or token).
  Gpt2Bpe(const std::string& vocab_json, const std::string& merges_txt);
  ~Gpt2Bpe();
  Gpt2Bpe(const Gpt2Bpe&) = delete;
  Gpt2Bpe& operator=(const Gpt2Bpe&) = delete;

  int64_t size() const override { return int64_t(tokens_.size()); }
  // <|endoftext|> starts, ends and pads a sequence, as in GPT-2's own training.
  int32_t start() const override { return eot_; }
  int32_t end() const override { return eot_; }
  int32_t pad() const override { return eot_; }
  std::string vocab_text() const override;
  // The ids of a UTF-8 text (an error names the byte where it is not UTF-8).
  std::vector<int32_t> encode(std::string_view text) const override;
  // The bytes the ids stand for, up to the first <|endoftext|> (not included).
  std::string decode(const std::vector<int32_t>& ids) const override;
  // GPT-2's pre-tokens of a text (step 1 above), for tests.
  std::vector<std::string> pretokenize(std::string_view text) const;

 private:
  std::vector<std::string> bpe(const std::string& symbols) const;
  std::vector<std::string> tokens_;                          // id → token (in byte-to-unicode form)
  std::unordered_map<std::string, int32_t> ids_;             // token → id
  std::map<std::pair<std::string, std::string>, int32_t> ranks_;  // merge → rank
  std::string byte_char_[256];                                // byte → its character (UTF-8)
  std::unordered_map<std::string, uint8_t> char_byte_;       // and back
  int32_t eot_ = -1;
  struct Pattern;
  std::unique_ptr<Pattern> pattern_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;  // pre-token → ids
};

}  // namespace coopgen
