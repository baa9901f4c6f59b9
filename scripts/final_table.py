#!/usr/bin/env python3
"""The table of docs/results.md's text experiments: each run's last evaluation and its training means.

usage: final_table.py RUN_DIR [RUN_DIR ...]

Prints one Markdown row per run: the metrics of the last evaluation row of RUN_DIR/metrics.jsonl
(the `final eval` line of `coopgen train`), then the mean effective sample size and the mean D
training accuracy over its training rows ("—" where the run logs none, as MLE and GAN do for ESS).
"""
import json
import os
import statistics
import sys

EVAL = ("nll_test", "bleu2", "bleu3", "bleu4", "bleu5", "self_bleu2", "self_bleu3", "self_bleu4", "self_bleu5",
        "d_acc_real", "d_acc_fake")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    print("| run | step | " + " | ".join(EVAL) + " | mean ESS | mean D acc (training) |")
    print("|---" * (len(EVAL) + 4) + "|")
    for run in sys.argv[1:]:
        last, train = None, []
        with open(os.path.join(run, "metrics.jsonl")) as f:
            for line in f:
                row = json.loads(line)
                if "nll_test" in row:
                    last = row
                elif "loss" in row:
                    train.append(row)
        if last is None:
            print(f"{run}: no evaluation row", file=sys.stderr)
            continue

        def mean(key, digits):
            values = [r[key] for r in train if key in r]
            return f"{statistics.mean(values):.{digits}f}" if values else "—"

        cells = [f"{last[k]:.3f}" if k in last else "—" for k in EVAL]
        print(f"| {os.path.basename(run.rstrip('/'))} | {last['step']} | " + " | ".join(cells) +
              f" | {mean('ess', 1)} | {mean('d_acc', 2)} |")


if __name__ == "__main__":
    main()
