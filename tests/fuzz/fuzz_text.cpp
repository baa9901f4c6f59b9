// libFuzzer target: the text readers and the tokenizer. The input is written to a file and read as
// a training corpus (BOM, CRLF, strict UTF-8, whitespace) and, split at its first "\n\n", as the
// src/tgt pair files of conditional generation; a vocabulary is built from what was read and every
// line encoded and decoded again.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "models/tokenizer.h"
#include "trainers/loop/tasks.h"

namespace {

std::string scratch_stem() {
  static const std::string stem =
      (std::filesystem::temp_directory_path() / ("coopgen_fuzz_text_" + std::to_string(::getpid()))).string();
  return stem;
}

void write(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coopgen;
  const std::string input(reinterpret_cast<const char*>(data), size), stem = scratch_stem();
  const size_t split = input.find("\n\n");
  write(stem + ".txt", input);
  write(stem + ".src.txt", input.substr(0, split));
  write(stem + ".tgt.txt", split == std::string::npos ? "" : input.substr(split + 2));
  try {
    LineStats stats, pair_stats;
    std::vector<Words> corpus = read_corpus(stem + ".txt", 8, stats);
    for (auto& [src, tgt] : read_pairs(stem, 12, pair_stats)) corpus.push_back(src), corpus.push_back(tgt);
    (void)stats.summary(stem, 8);
    const Vocab vocab = Vocab::build(corpus, 1);
    for (const Words& line : corpus) {  // every word read is in the vocabulary; control spellings read as <unk>
      const Words back = vocab.decode(vocab.encode(line));
      if (back.size() != line.size()) __builtin_trap();
      for (size_t k = 0; k < line.size(); ++k)
        if (back[k] != line[k] && back[k] != "<unk>") __builtin_trap();
    }
    (void)read_text_lines(stem + ".txt");
  } catch (const Error&) {
  }
  return 0;
}
