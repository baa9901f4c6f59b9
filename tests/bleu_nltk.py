"""`coopgen bleu` against NLTK's sentence_bleu (the implementation Texygen calls) on COCO
sentences: BLEU-2..5 of 60 hypotheses against 400 references, and leave-one-out Self-BLEU.
Exits 77 (CTest: Skipped) without nltk or without the shared data."""
import os
import subprocess
import sys
import tempfile

try:
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
except ImportError:
    print("SKIPPED: the python3 package nltk is not installed")
    sys.exit(77)

coopgen, shared = sys.argv[1], sys.argv[2]
train = os.path.join(shared, "data/coco/train.txt")
if not os.path.exists(train):
    print("SKIPPED: no COCO data at", train)
    sys.exit(77)
lines = [l.split() for l in open(train, encoding="utf-8") if l.strip()]
hyp, ref = lines[:60], lines[1000:1400]
smooth = SmoothingFunction().method1


def mean_bleu(hyps, refs_for):
    out = {}
    for n in range(2, 6):
        w = tuple([1.0 / n] * n)
        out[n] = sum(sentence_bleu(refs_for(i), h, w, smoothing_function=smooth) for i, h in enumerate(hyps)) / len(hyps)
    return out


bleu = mean_bleu(hyp, lambda i: ref)
self_bleu = mean_bleu(hyp, lambda i: hyp[:i] + hyp[i + 1:])
with tempfile.TemporaryDirectory() as d:
    for name, data in (("hyp", hyp), ("ref", ref)):
        with open(os.path.join(d, name), "w", encoding="utf-8") as f:
            f.write("\n".join(" ".join(s) for s in data) + "\n")
    out = subprocess.run([coopgen, "bleu", "--hyp", os.path.join(d, "hyp"), "--ref", os.path.join(d, "ref")],
                         check=True, capture_output=True, text=True).stdout
got = {}
for line in out.splitlines():
    if line.startswith("BLEU-"):
        parts = line.split()
        got[int(parts[0][5:])] = (float(parts[1]), float(parts[3]))
for n in range(2, 6):
    assert abs(got[n][0] - bleu[n]) < 1e-4, (n, got[n][0], bleu[n])
    assert abs(got[n][1] - self_bleu[n]) < 1e-4, (n, got[n][1], self_bleu[n])
    print(f"BLEU-{n} {got[n][0]:.4f} (nltk {bleu[n]:.4f})  Self-BLEU-{n} {got[n][1]:.4f} (nltk {self_bleu[n]:.4f})")
