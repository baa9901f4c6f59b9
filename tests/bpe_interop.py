"""coopgen's GPT-2 byte-level BPE against Hugging Face `tokenizers`.

`tokenizers` trains a byte-level BPE (vocabulary 2,000, GPT-2's pre-tokeniser, <|endoftext|>) on the
COCO and EMNLP2017 News training files, here, and saves vocab.json and merges.txt. coopgen reads
those files (`coopgen tokenize`); its ids must equal `tokenizers`' on every line of both test files
and of a stress file (accents, CJK, emoji, runs of spaces and tabs, contractions, digits), and its
decode(encode(x)) must give every line back byte for byte.
Usage: bpe_interop.py COOPGEN SHARED_DIR. Exits 77 (CTest: Skipped) without the data, or without
`tokenizers` (a failure under COOPGEN_REQUIRE_REFERENCES=1: tests/reference_tools.py).
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_tools import lines_of, skip, train_gpt2_bpe  # noqa: E402

try:
    import tokenizers  # noqa: F401
except ImportError:
    skip("the python3 package tokenizers is not installed (scripts/install_deps.sh --with-torch)")

coopgen, shared = sys.argv[1], sys.argv[2]
train_files = [os.path.join(shared, "data", d, "train.txt") for d in ("coco", "emnlp_news")]
test_files = [os.path.join(shared, "data", d, "test.txt") for d in ("coco", "emnlp_news")]
if not all(os.path.exists(f) for f in train_files + test_files):
    skip(f"no COCO / EMNLP News data under {shared}/data", required=False)


stress = [
    "Café, naïve façade — “quoted” ‘single’ and an élan vital.",
    "日本語のテキストと中文句子，还有한국어 문장.",
    "emoji 😀👍🏽 and flags 🇫🇷 mixed with text🙂",
    "   leading spaces and trailing spaces   ",
    "tabs\tbetween\t\twords and  double  spaces",
    "it's they're we've I'm you'll he'd IT'S THEY'RE",
    "numbers 3.14159 1,000,000 2026-11-30 007 ٣٤٥ (Arabic-Indic digits)",
    "punctuation!!! ??? ... --- *** ### @@@ $$$ %%% ^^^ &&& ((( )))",
    "mixed123abc ABC-def_ghi jkl.mno pqr/stu vwx\\yz",
    "a",
    "",
    " ",
    "Ünïcödé ÄÖÜ ß ñ ø å æ œ ĳ ǅ ﬁ",
    "zero\u200bwidth non\u00a0breaking thin\u2009space",
]

with tempfile.TemporaryDirectory() as d:
    tok = train_gpt2_bpe(train_files, 2000, d)
    vocab, merges = os.path.join(d, "vocab.json"), os.path.join(d, "merges.txt")
    failures = 0
    for name, lines in [("coco/test.txt", lines_of(test_files[0])), ("emnlp_news/test.txt", lines_of(test_files[1])),
                        ("stress", stress)]:
        path = os.path.join(d, "lines.txt")
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write("\n".join(lines) + "\n")
        out = subprocess.run([coopgen, "tokenize", "--vocab", vocab, "--merges", merges, path],
                             capture_output=True, text=True, check=True).stdout.split("\n")[:-1]
        assert len(out) == len(lines), (name, len(out), len(lines))
        want = [e.ids for e in tok.encode_batch(lines)]
        got = [[int(x) for x in o.split()] for o in out]
        differ = [k for k in range(len(lines)) if got[k] != want[k]]
        with open(path + ".ids", "w") as f:
            f.write("\n".join(o for o in out) + "\n")
        back = subprocess.run([coopgen, "tokenize", "--vocab", vocab, "--merges", merges, "--decode", path + ".ids"],
                              capture_output=True, check=True).stdout.split(b"\n")[:-1]
        round_trip = [k for k in range(len(lines)) if back[k] != lines[k].encode("utf-8")]
        tokens = sum(len(w) for w in want)
        print(f"{name}: {len(lines)} lines, {tokens} tokens: {len(differ)} lines encoded differently, "
              f"{len(round_trip)} not decoded back byte for byte")
        for k in differ[:3]:
            print(f"  line {k + 1} {lines[k]!r}: coopgen {got[k][:12]}, tokenizers {want[k][:12]}")
        failures += len(differ) + len(round_trip)
sys.exit(1 if failures else 0)
