"""`coopgen bleu` against NLTK's sentence_bleu (the implementation Texygen calls): BLEU-2..5 of
hypotheses against references and leave-one-out Self-BLEU, on COCO sentences (60 hypotheses, 400
references), on hypotheses with blank and whitespace-only lines (an empty decode scores 0, as in
NLTK; tests/data/empty_outputs), and on a file of empty hypotheses only (all zeros, no error).
Usage: bleu_nltk.py COOPGEN SHARED_DIR DATA_DIR. Exits 77 (CTest: Skipped) without nltk (a failure under COOPGEN_REQUIRE_REFERENCES=1) or the
shared data."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_tools import lines_of, skip  # noqa: E402

try:
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
except ImportError:
    skip("the python3 package nltk is not installed")

coopgen, shared, data = sys.argv[1], sys.argv[2], sys.argv[3]
train = os.path.join(shared, "data/coco/train.txt")
if not os.path.exists(train):
    skip(f"no COCO data at {train}", required=False)
smooth = SmoothingFunction().method1


def nltk_bleu(hyps, refs_for):
    out = {}
    for n in range(2, 6):
        w = tuple([1.0 / n] * n)
        # NLTK scores an empty hypothesis 0 (it warns about it).
        out[n] = sum(sentence_bleu(refs_for(i), h, w, smoothing_function=smooth) if h else 0.0
                     for i, h in enumerate(hyps)) / len(hyps)
    return out


def compare(label, hyp_text, ref_text):
    """hyp_text, ref_text: the files' lines; NLTK and coopgen both split them at whitespace."""
    hyp = [l.split() for l in hyp_text]
    ref = [l.split() for l in ref_text if l.strip()]
    bleu = nltk_bleu(hyp, lambda i: ref)
    self_bleu = nltk_bleu(hyp, lambda i: hyp[:i] + hyp[i + 1:])
    with tempfile.TemporaryDirectory() as d:
        for name, lines in (("hyp", hyp_text), ("ref", ref_text)):
            with open(os.path.join(d, name), "w", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
        out = subprocess.run([coopgen, "bleu", "--hyp", os.path.join(d, "hyp"), "--ref", os.path.join(d, "ref")],
                             check=True, capture_output=True, text=True).stdout
    got = {}
    for line in out.splitlines():
        if line.startswith("BLEU-"):
            parts = line.split()
            got[int(parts[0][5:])] = (float(parts[1]), float(parts[3]))
    for n in range(2, 6):
        assert abs(got[n][0] - bleu[n]) < 1e-4, (label, n, got[n][0], bleu[n])
        assert abs(got[n][1] - self_bleu[n]) < 1e-4, (label, n, got[n][1], self_bleu[n])
        print(f"{label}: BLEU-{n} {got[n][0]:.4f} (nltk {bleu[n]:.4f})  Self-BLEU-{n} {got[n][1]:.4f} (nltk {self_bleu[n]:.4f})")


coco = [l for l in lines_of(train) if l.strip()]
compare("COCO", coco[:60], coco[1000:1400])
compare("empty outputs", lines_of(os.path.join(data, "empty_outputs/bleu_hyp.txt")),
        lines_of(os.path.join(data, "empty_outputs/bleu_ref.txt")))
compare("only empty outputs", ["", "  ", ""], coco[:20])
