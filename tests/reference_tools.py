"""What the Python cross-checks share: skipping when a reference tool is missing, named checks,
and GPT-2 BPE training with Hugging Face `tokenizers`.

A cross-check exits 77 (CTest: Skipped) when its reference package or data is missing, unless
COOPGEN_REQUIRE_REFERENCES=1 (CI sets it), which makes a missing package a failure: a check that
silently skips is no check.
"""
import os
import sys


def skip(why, required=True):
    """Exit Skipped (77); a failure (1) under COOPGEN_REQUIRE_REFERENCES=1 when `required`
    (a missing package; missing shared data is left to the machine: required=False)."""
    if required and os.environ.get("COOPGEN_REQUIRE_REFERENCES") == "1":
        print(f"FAILED: {why} (COOPGEN_REQUIRE_REFERENCES=1: cross-checks must run)")
        sys.exit(1)
    print(f"SKIPPED: {why}")
    sys.exit(77)


class Checks:
    """Named checks, each printed as it is made ("ok" or "FAILED"); finish() prints the count and
    exits 1 when any failed."""

    def __init__(self):
        self.failures = []

    def __call__(self, ok, what):
        print(("ok      " if ok else "FAILED  ") + what)
        if not ok:
            self.failures.append(what)

    def finish(self):
        print(f"{len(self.failures)} check(s) failed" if self.failures else "all passed")
        sys.exit(1 if self.failures else 0)


def lines_of(path):
    """The lines of a UTF-8 file split at "\\n" only, as coopgen reads files (str.splitlines also
    splits at U+2028 and others), a trailing "\\r" dropped."""
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    lines = text.split("\n")
    return [l[:-1] if l.endswith("\r") else l for l in (lines[:-1] if text.endswith("\n") else lines)]


def train_gpt2_bpe(files, vocab_size, out_dir):
    """A byte-level BPE as GPT-2's (its pre-tokeniser, no prefix space, <|endoftext|> = id 0)
    trained on `files`; writes out_dir/vocab.json and merges.txt; returns the Tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train(files, trainer)
    tok.model.save(out_dir)
    return tok
