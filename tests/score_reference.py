"""`coopgen score` against the reference implementations: sacreBLEU's corpus_bleu (default 13a
tokenisation, exp smoothing) and Google's rouge-score (ROUGE-1/2/L F1, no stemming, mean over
pairs), on SQuAD question generation and Gigaword headline data with a lead baseline (the first
words of the source as the hypothesis). Exits 77 (CTest: Skipped) without sacrebleu / rouge-score
or without the shared data."""
import os
import statistics
import subprocess
import sys
import tempfile

try:
    import sacrebleu
    from rouge_score import rouge_scorer
except ImportError:
    print("SKIPPED: the python3 packages sacrebleu and rouge-score are not installed")
    sys.exit(77)

coopgen, shared = sys.argv[1], sys.argv[2]
failures = 0
for data, n, lead in (("qg_squad", 400, 10), ("summ_gigaword", 400, 8)):
    stem = os.path.join(shared, "data", data, "test")
    if not os.path.exists(stem + ".src.txt"):
        print("SKIPPED: no data at", stem)
        sys.exit(77)
    src = open(stem + ".src.txt", encoding="utf-8").read().splitlines()[:n]
    ref = open(stem + ".tgt.txt", encoding="utf-8").read().splitlines()[:n]
    hyp = [" ".join(s.split()[:lead]) for s in src]
    with tempfile.TemporaryDirectory() as d:
        h, r = os.path.join(d, "hyp.txt"), os.path.join(d, "ref.txt")
        open(h, "w", encoding="utf-8").write("\n".join(hyp) + "\n")
        open(r, "w", encoding="utf-8").write("\n".join(ref) + "\n")
        out = subprocess.run([coopgen, "score", "--hyp", h, "--ref", r], capture_output=True, text=True, check=True).stdout
    got = {k: float(v) for k, v in (l.rsplit(" ", 1) for l in out.splitlines()) if k != "pairs"}
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"])
    scores = [scorer.score(b, a) for a, b in zip(hyp, ref)]
    want = {"BLEU-4": sacrebleu.corpus_bleu(hyp, [ref]).score}
    for key, name in (("rouge1", "ROUGE-1"), ("rouge2", "ROUGE-2"), ("rougeL", "ROUGE-L")):
        want[name] = 100 * statistics.mean(s[key].fmeasure for s in scores)
    for k, v in want.items():
        ok = abs(got[k] - v) < 1e-3
        failures += not ok
        print(f"{data} {k}: coopgen {got[k]:.4f} reference {v:.4f} {'ok' if ok else 'DIFFERENT'}")
sys.exit(1 if failures else 0)
