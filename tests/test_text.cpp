// Tokenizer edge cases, and BLEU against hand-computed cases and the published COCO anchor.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/utf8.h"
#include "models/tokenizer.h"
#include "trainers/eval/bleu.h"
#include "trainers/eval/rouge.h"
#include "tests/testing.h"

using namespace coopgen;
namespace fs = std::filesystem;

static fs::path scratch(const std::string& name, const std::string& bytes) {
  const fs::path dir = testing::scratch_dir("text", false);
  std::ofstream(dir / name, std::ios::binary) << bytes;
  return dir / name;
}

static Words w(const std::string& line) {
  Words out;
  std::istringstream in(line);
  for (std::string t; in >> t;) out.push_back(t);
  return out;
}

TEST_CASE("corpus reader counts empty, long and non-UTF-8 lines instead of dropping them silently", "[text]") {
  const fs::path p = scratch("c.txt", "a b c\n\n   \nd e f g h\nbad \xff\xfe byte\ncaf\xc3\xa9 ok\r\nover\xc0\xaf long\n");
  LineStats st;
  std::vector<Words> lines = read_corpus(p.string(), 4, st);
  REQUIRE(st.read == 7);
  REQUIRE(st.kept == 2);
  REQUIRE(st.empty == 2);
  REQUIRE(st.too_long == 1);
  REQUIRE(st.not_utf8 == 2);
  REQUIRE(lines[1] == Words{"caf\xc3\xa9", "ok"});
  REQUIRE_THAT(st.summary(p.string(), 4), Catch::Contains("7 lines read, 2 kept, 2 empty, 1 longer than 4 tokens, 2 not UTF-8"));
  REQUIRE_THROWS_WITH(read_corpus("/nonexistent/x.txt", 0, st), Catch::Contains("/nonexistent/x.txt: no such file"));
}

// The field case (tests/data/utf8/train.txt): a byte-order mark, a CRLF line, and five lines that
// are not UTF-8 under RFC 3629 (an encoded surrogate, a code point past U+10FFFF, overlong 3-, 4-
// and 2-byte forms). None of their words may reach the vocabulary.
TEST_CASE("strict UTF-8: BOM removed, CRLF handled, surrogates, out-of-range and overlong forms refused", "[text]") {
  const char* shared = std::getenv("COOPGEN_TEST_DATA");
  const fs::path file = fs::path(shared ? shared : "tests/data") / "utf8/train.txt";
  LineStats st;
  const std::vector<Words> lines = read_corpus(file.string(), 0, st);
  REQUIRE(st.read == 9);
  REQUIRE(st.not_utf8 == 5);
  REQUIRE(st.kept == 4);
  REQUIRE(lines[0] == w("the cat sat"));  // not "\xEF\xBB\xBFthe"
  REQUIRE(lines[1] == w("the dog ran"));  // no "\r" on "ran"
  const Vocab v = Vocab::build(lines, 1);
  for (const char* word : {"bad", "surrogate", "beyond", "overlong2", "overlong3", "overlong4"})
    REQUIRE(v.id(word) == Vocab::kUnk);
  REQUIRE_THAT(st.summary(file.string(), 0), Catch::Contains("5 not UTF-8"));
  // Aligned readers refuse such a line, naming file:line.
  REQUIRE_THROWS_WITH(read_text_lines(file.string()), Catch::Contains("train.txt:3: not UTF-8"));
  // The validator on its own: valid edges accepted, each invalid kind refused.
  REQUIRE(valid_utf8("\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"));
  for (const char* bad : {"\xed\xa0\x80", "\xed\xbf\xbf", "\xf4\x90\x80\x80", "\xe0\x9f\xbf", "\xf0\x8f\xbf\xbf", "\xc1\xbf",
                          "\x80", "\xc2", "\xe2\x82", "\xf8\x88\x80\x80\x80", "\xff"})
    REQUIRE_FALSE(valid_utf8(bad));
}

TEST_CASE("vocabulary: specials, min count, unknown words, decode, save/load", "[text]") {
  Vocab v = Vocab::build({w("the cat sat"), w("the dog sat"), w("the end")}, 2);
  REQUIRE(v.size() == 5 + 2);  // the (3), sat (2)
  REQUIRE(v.word(5) == "the");
  REQUIRE(v.encode(w("the zebra sat")) == std::vector<int32_t>{5, Vocab::kUnk, 6});
  REQUIRE(v.decode({Vocab::kBos, 5, 6, Vocab::kEos, 5}) == w("the sat"));
  REQUIRE_THROWS_WITH(v.word(99), Catch::Contains("token id 99 is outside the vocabulary [0, 7)"));
  const fs::path p = scratch("vocab.txt", "");
  v.save(p.string());
  Vocab back = Vocab::load(p.string());
  REQUIRE(back.size() == v.size());
  REQUIRE(back.id("sat") == 6);
}

TEST_CASE("BLEU matches hand-computed NLTK values", "[text]") {
  // Identical sentence: every precision 1, no brevity penalty.
  auto b = mean_bleu({w("the cat sat on the mat")}, {w("the cat sat on the mat")});
  for (double x : b) REQUIRE(x == Approx(1.0));
  // "the cat" against a 6-word reference: p1 = p2 = 1, BP = e^(1−6/2); p3 has no trigram: 0.1/1.
  b = mean_bleu({w("the cat")}, {w("the cat sat on the mat")});
  REQUIRE(b[1] == Approx(std::exp(-2.0)));
  REQUIRE(b[2] == Approx(std::exp(-2.0) * std::cbrt(0.1)));
  // Clipping: "the the the the" against "the cat": unigram matches clip to 1 of 4 → p1 = 1/4;
  // bigrams "the the" ×3, none match → p2 = 0.1/3; BP = 1 (4 > 2).
  b = mean_bleu({w("the the the the")}, {w("the cat")});
  REQUIRE(b[1] == Approx(std::sqrt(0.25 * 0.1 / 3)));
  // No unigram in common: 0, whatever the smoothing.
  REQUIRE(mean_bleu({w("x y")}, {w("a b")})[1] == 0.0);
  // Closest reference length (ties go to the shorter): hypothesis of 3 against refs of 2 and 4.
  b = mean_bleu({w("a b c")}, {w("a b"), w("a b c d")});
  REQUIRE(b[0] == Approx(1.0));  // 3 > 2: no penalty
}

TEST_CASE("corpus BLEU-4 and ROUGE-1/2/L match hand-computed values", "[text]") {
  const std::vector<std::string> hyp{"the cat sat on the mat"}, ref{"the cat is on the mat"};
  // Unigrams 5 of 6 match (the ×2, cat, on, mat), bigrams 3 of 5, trigrams 1 of 4, 4-grams 0 of 3:
  // exp smoothing counts the first empty order as 1/2 match; equal lengths, no brevity penalty.
  REQUIRE(corpus_bleu(hyp, ref) == Approx(100 * std::pow(5.0 / 6 * 3.0 / 5 * 1.0 / 4 * (0.5 / 3), 0.25)).epsilon(1e-9));
  const RougeScores r = mean_rouge(hyp, ref);
  REQUIRE(r.rouge1 == Approx(100 * 5.0 / 6));
  REQUIRE(r.rouge2 == Approx(100 * 3.0 / 5));
  REQUIRE(r.rouge_l == Approx(100 * 5.0 / 6));  // LCS "the cat on the mat"
  // ROUGE-L is a subsequence, not a substring; F1 of unequal lengths: P = 3/4, R = 3/6.
  REQUIRE(mean_rouge({"a b c d"}, {"a x b y c z"}).rouge_l == Approx(100 * 2 * 0.75 * 0.5 / 1.25));
  REQUIRE(corpus_bleu({"x y z w", "p q"}, {"a b c d", "e f"}) == 0.0);  // no match: 0
  // A hypothesis half the reference's length: brevity penalty e^(1 − 2).
  REQUIRE(corpus_bleu({"a b c d e"}, {"a b c d e f g h i j"}) == Approx(100 * std::exp(-1.0)));
  // An empty hypothesis counts: no n-grams of its own, its reference's length in the brevity penalty.
  REQUIRE(corpus_bleu({"a b c d e", ""}, {"a b c d e", "f g h i j"}) == Approx(100 * std::exp(-1.0)));
  REQUIRE(mean_rouge({"a b", ""}, {"a b", "c"}).rouge1 == Approx(50.0));
  // Tokenisation: 13a splits punctuation except inside numbers and keeps apostrophes, after
  // unescaping &quot; &amp; &lt; &gt; (in sacreBLEU's order), and splits at Unicode spaces as
  // Python does; ROUGE keeps lower-cased alphanumeric runs only.
  REQUIRE(tokenize_13a("u.s. troops, 1,000 - strong $5 it's") == w("u . s . troops , 1,000 - strong $ 5 it's"));
  REQUIRE(tokenize_13a("AT&amp;T &quot;no&quot; &lt;b&gt;") == w("AT & T \" no \" < b >"));
  REQUIRE(tokenize_13a("a\xc2\xa0" "b\xe2\x80\x89" "c\xe3\x80\x80" "d") == w("a b c d"));  // U+00A0, U+2009, U+3000
  // Each rule one left-to-right pass of non-overlapping matches: sacreBLEU 2.6's Tokenizer13a's
  // tokens of each input (tests/score_reference.py checks a stress file against it at run time).
  for (const auto& [in, out] : std::vector<std::pair<std::string, std::string>>{
           {"x,.5", "x , .5"}, {"3.-4", "3 . -4"}, {".5.", ". 5 ."}, {"1,000.", "1,000 ."}, {"5-5-3", "5 - 5 - 3"},
           {"a..b", "a . . b"}, {"9,,9", "9 , , 9"}, {"-5-", "-5 -"}})
    REQUIRE(tokenize_13a(in) == w(out));
  REQUIRE(rouge_tokens("U.S. troops, 1,000-strong") == w("u s troops 1 000 strong"));
  REQUIRE(mean_rouge({"x"}, {"."}).rouge1 == 0.0);  // nothing to match: 0, not NaN
}

TEST_CASE("Self-BLEU leaves the sample itself out", "[text]") {
  // Two identical samples and one unrelated: the identical pair scores 1 each, the third 0.
  auto s = self_bleu({w("a b c d"), w("a b c d"), w("x y z w")});
  REQUIRE(s[1] == Approx(2.0 / 3));
  // With the sample among its own references (Texygen's bug) every score would be 1.
  REQUIRE(self_bleu({w("a b c d"), w("x y z w")})[1] == 0.0);
}

TEST_CASE("COCO test sentences against the COCO training file score BLEU-2 near 0.74", "[text]") {
  const fs::path dir = testing::shared_path("data/coco");
  if (!fs::exists(dir / "test.txt")) {
    WARN("skipped: " << dir << " not found");
    return;
  }
  LineStats a, b;
  std::vector<Words> test = read_corpus((dir / "test.txt").string(), 0, a), train = read_corpus((dir / "train.txt").string(), 0, b);
  test.resize(1000);
  const double bleu2 = mean_bleu(test, train)[1];
  INFO("BLEU-2 " << bleu2);
  REQUIRE(bleu2 == Approx(0.74).margin(0.03));
}
