"""`coopgen score` against the reference implementations: sacreBLEU's corpus_bleu (default 13a
tokenisation, exp smoothing) and Google's rouge-score (ROUGE-1/2/L F1, no stemming, mean over
pairs), on SQuAD question generation and Gigaword headline data with a lead baseline (the first
words of the source as the hypothesis); on the field cases of tests/data (HTML entities and
Unicode spaces, an empty hypothesis line); and line by line on a stress file of entities, Unicode
spaces, punctuation of every ASCII class, numbers and non-ASCII text, where sacreBLEU's own 13a
tokens of each line are its reference: coopgen must score every line 100 (its tokens equal).
Usage: score_reference.py COOPGEN SHARED_DIR DATA_DIR. Exits 77 (CTest: Skipped) without the
shared data, or without sacrebleu / rouge-score (a failure under COOPGEN_REQUIRE_REFERENCES=1)."""
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_tools import lines_of, skip  # noqa: E402

try:
    import sacrebleu
    from rouge_score import rouge_scorer
except ImportError:
    skip("the python3 packages sacrebleu and rouge-score are not installed")

coopgen, shared, data_dir = sys.argv[1], sys.argv[2], sys.argv[3]
failures = 0


def coopgen_score(hyp, ref):
    with tempfile.TemporaryDirectory() as d:
        h, r = os.path.join(d, "hyp.txt"), os.path.join(d, "ref.txt")
        open(h, "w", encoding="utf-8").write("\n".join(hyp) + "\n")
        open(r, "w", encoding="utf-8").write("\n".join(ref) + "\n")
        out = subprocess.run([coopgen, "score", "--hyp", h, "--ref", r], capture_output=True, text=True, check=True).stdout
    return {k: float(v) for k, v in (l.rsplit(" ", 1) for l in out.splitlines()) if k != "pairs"}


def compare(label, hyp, ref, rouge=True):
    global failures
    got = coopgen_score(hyp, ref)
    want = {"BLEU-4": sacrebleu.corpus_bleu(hyp, [ref]).score}
    if rouge:
        scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"])
        scores = [scorer.score(b, a) for a, b in zip(hyp, ref)]
        for key, name in (("rouge1", "ROUGE-1"), ("rouge2", "ROUGE-2"), ("rougeL", "ROUGE-L")):
            want[name] = 100 * statistics.mean(s[key].fmeasure for s in scores)
    for k, v in want.items():
        ok = abs(got[k] - v) < 1e-3
        failures += not ok
        print(f"{label} {k}: coopgen {got[k]:.4f} reference {v:.4f} {'ok' if ok else 'DIFFERENT'}")


for data, n, lead in (("qg_squad", 400, 10), ("summ_gigaword", 400, 8)):
    stem = os.path.join(shared, "data", data, "test")
    if not os.path.exists(stem + ".src.txt"):
        skip(f"no data at {stem}", required=False)
    src = lines_of(stem + ".src.txt")[:n]
    compare(data, [" ".join(s.split()[:lead]) for s in src], lines_of(stem + ".tgt.txt")[:n])
for case in ("entities", "unicode_space"):
    compare("field case " + case, lines_of(f"{data_dir}/score_13a/{case}_hyp.txt"),
            lines_of(f"{data_dir}/score_13a/{case}_ref.txt"))
compare("field case: an empty hypothesis line", lines_of(f"{data_dir}/empty_outputs/score_hyp.txt"),
        lines_of(f"{data_dir}/empty_outputs/score_ref.txt"))

# The stress lines, each scored against sacreBLEU's own tokens of it (joined by spaces: 13a leaves
# a tokenised line as it is), one pair per line: BLEU-4 100 when coopgen's tokens equal sacreBLEU's.
spaces = ["\u00a0", "\u2009", "\u3000", "\u2002", "\u202f", "\u205f", "\u1680", "\u2028", "\u0085", "\t", "\x0b", "\x0c", "\x1c"]
stress = [
    "AT&amp;T said &quot;no deal&quot; on 3.5 million-dollar offers , yes .",
    "&lt;b&gt;bold&lt;/b&gt; &amp;amp; &amp;quot; &apos;single&apos; &#39;numeric&#39; & alone; &ampersand",
    "prices: $5.00, 1,000,000 and 3.14-2.71 - 10-20 % (approx.) [note] {x} <y> |z| ~w~ `q` ^ _ @home #tag !?",
    "U.S. e.g. i.e. Mr. Smith's dog -- don't stop; it's 5:30 p.m. 1990s-era 2-3x",
    "caf\u00e9 na\u00efve \u201cquoted\u201d \u2014 dash \u2019apostrophe\u2019 \u00bfqu\u00e9? \u4e2d\u6587, \u65e5\u672c\u8a9e. emoji \U0001F600!",
    "<skipped> kept <skipped>words and four more tokens",
    "trailing punctuation...!!! ,,, ... .5 5. ,5 5,",
] + [f"one{sp}two{sp}{sp}three four{sp}five{sp}" for sp in spaces]
tokenize = sacrebleu.tokenizers.tokenizer_13a.Tokenizer13a()
for k, line in enumerate(stress):
    want = tokenize(line)
    assert len(want.split()) >= 4, f"stress line {k} is too short to test: {want!r}"
    bleu = coopgen_score([line], [want])["BLEU-4"]
    ok = abs(bleu - 100.0) < 1e-6
    failures += not ok
    print(f"stress line {k}: 13a tokens {want!r}: coopgen BLEU-4 {bleu:.4f} {'ok' if ok else 'DIFFERENT'}")
sys.exit(1 if failures else 0)
