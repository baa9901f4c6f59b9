#!/usr/bin/env python3
"""Curves and tables of a set of coopgen runs (docs/results.md).

usage: plot_curves.py RUNS_DIR OUT_PREFIX [--metrics nll_oracle,nll_test]

RUNS_DIR holds one folder per run named METHOD-SCHEDULE-SEED (as scripts/oracle_experiments.sh
names them), each with the metrics.jsonl that `coopgen train` writes. For every schedule, draws
OUT_PREFIX-SCHEDULE.png (one panel per metric: the mean over seeds against the generator step,
shaded ± one standard deviation) and prints a Markdown table of the final values (mean ± std and
the seeds' count) with the mean effective sample size and D accuracy logged during training.
Needs matplotlib (pip install matplotlib); not used by the build or the tests.
"""
import argparse
import collections
import json
import os
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# Training-line statistics averaged over every logged step of every seed: the effective sample
# size of the weights (of M, or of N candidates for RML-GAN) and D's training accuracy.
TRAIN_STATS = ("ess", "d_acc")


def read_metrics(path):
    """(evaluations by step, training lines) of one metrics.jsonl."""
    evals, train = {}, []
    with open(path) as f:
        for line in f:
            row = json.loads(line)
            if any(k.startswith("nll_") for k in row):
                evals[row["step"]] = row
            elif "loss" in row:
                train.append(row)
    return evals, train


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("runs")
    ap.add_argument("out_prefix")
    ap.add_argument("--metrics", default="nll_oracle,nll_test")
    args = ap.parse_args()
    metrics = args.metrics.split(",")
    groups = collections.defaultdict(list)  # (method, schedule) -> [evals of each seed]
    train_stats = collections.defaultdict(lambda: collections.defaultdict(list))  # ... -> key -> values
    for name in sorted(os.listdir(args.runs)):
        parts = name.rsplit("-", 2)
        path = os.path.join(args.runs, name, "metrics.jsonl")
        if len(parts) != 3 or not os.path.exists(path):
            continue
        evals, train = read_metrics(path)
        if evals:
            key = (parts[0], parts[1])
            groups[key].append(evals)
            for k in TRAIN_STATS:
                train_stats[key][k] += [row[k] for row in train if k in row]
    if not groups:
        sys.exit(f"{args.runs}: no METHOD-SCHEDULE-SEED runs with metrics.jsonl")

    def final(evals, m):
        return evals[max(evals)][m]

    print("| method | schedule | seeds | " + " | ".join(f"{m} start → final" for m in metrics) +
          " | " + " | ".join(f"mean {k}" for k in TRAIN_STATS) + " |")
    print("|---|---|---|" + "---|" * (len(metrics) + len(TRAIN_STATS)))
    for (method, sched), runs in sorted(groups.items()):
        cells = []
        for m in metrics:
            start = statistics.mean(r[min(r)][m] for r in runs)
            ends = [final(r, m) for r in runs]
            sd = statistics.stdev(ends) if len(ends) > 1 else 0.0
            cells.append(f"{start:.3f} → {statistics.mean(ends):.3f} ± {sd:.3f}")
        stats = train_stats[(method, sched)]
        cells += [f"{statistics.mean(stats[k]):.3g}" if stats[k] else "—" for k in TRAIN_STATS]
        print(f"| {method} | {sched} | {len(runs)} | " + " | ".join(cells) + " |")

    os.makedirs(os.path.dirname(args.out_prefix) or ".", exist_ok=True)
    for sched in sorted({s for _, s in groups}):
        fig, axes = plt.subplots(1, len(metrics), figsize=(5.5 * len(metrics), 4))
        for ax, m in zip(axes if len(metrics) > 1 else [axes], metrics):
            for (method, s), runs in sorted(groups.items()):
                if s != sched:
                    continue
                steps = sorted(set.intersection(*(set(r) for r in runs)))
                mean = [statistics.mean(r[t][m] for r in runs) for t in steps]
                sd = [statistics.stdev([r[t][m] for r in runs]) if len(runs) > 1 else 0.0 for t in steps]
                line, = ax.plot(steps, mean, label=f"{method} ({len(runs)} seeds)")
                ax.fill_between(steps, [a - b for a, b in zip(mean, sd)], [a + b for a, b in zip(mean, sd)],
                                color=line.get_color(), alpha=0.2)
            ax.set_xlabel("generator step")
            ax.set_ylabel(m)
            ax.set_title(f"{m}, {sched} learning rate")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        fig.tight_layout()
        out = f"{args.out_prefix}-{sched}.png"
        fig.savefig(out, dpi=90)
        print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
