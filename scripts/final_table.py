#!/usr/bin/env python3
"""A table of runs: each run's first and last evaluation, and its training means.

usage: final_table.py [--metrics M1,M2,...] [--start] [--best] RUN_DIR [RUN_DIR ...]

One Markdown row per run from RUN_DIR/metrics.jsonl: the metrics of its last evaluation row (the
`final eval` line of `coopgen train`), or with --best of its evaluation of lowest nll_valid (the
early-stopped model, chosen on the validation split; `steps` is then that evaluation's step) —
with --start as "first → last" (the run's step-0 evaluation, i.e. its start, beside its end) —
then the mean effective sample size and the mean D training accuracy over its training rows ("—"
where the run logs none, as MLE does). The default metrics are the text tasks'.
"""
import argparse
import json
import os
import statistics

TEXT = "nll_test,bleu2,bleu3,bleu4,bleu5,self_bleu2,self_bleu3,self_bleu4,self_bleu5,d_acc_real,d_acc_fake"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--metrics", default=TEXT)
    ap.add_argument("--start", action="store_true", help="print each metric as start → final")
    ap.add_argument("--best", action="store_true", help="the evaluation of lowest nll_valid, not the last")
    ap.add_argument("runs", nargs="+")
    a = ap.parse_args()
    metrics = a.metrics.split(",")
    print("| run | steps | " + " | ".join(metrics) + " | mean ESS | mean D acc (training) |")
    print("|---" * (len(metrics) + 4) + "|")
    for run in a.runs:
        evals, train = [], []
        with open(os.path.join(run, "metrics.jsonl")) as f:
            for line in f:
                row = json.loads(line)
                (train if "loss" in row else evals).append(row)
        if not evals:
            print(f"| {os.path.basename(run.rstrip('/'))} | no evaluation row |")
            continue
        first, last = evals[0], evals[-1]
        if a.best and any("nll_valid" in r for r in evals):
            last = min((r for r in evals if "nll_valid" in r), key=lambda r: r["nll_valid"])

        def cell(k):
            if k not in last:
                return "—"
            return f"{first[k]:.3f} → {last[k]:.3f}" if a.start and k in first else f"{last[k]:.3f}"

        def mean(key, digits):
            values = [r[key] for r in train if key in r]
            return f"{statistics.mean(values):.{digits}f}" if values else "—"

        print(f"| {os.path.basename(run.rstrip('/'))} | {last['step']} | " + " | ".join(cell(k) for k in metrics) +
              f" | {mean('ess', 1)} | {mean('d_acc', 2)} |")


if __name__ == "__main__":
    main()
