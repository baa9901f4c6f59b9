#!/usr/bin/env python3
"""A table of runs: each run's first and last evaluation, and its training means.

usage: final_table.py [--metrics M1,M2,...] [--start] [--seeds] RUN_DIR [RUN_DIR ...]

One Markdown row per run from RUN_DIR/metrics.jsonl: the metrics of its last evaluation row (the
`final eval` line of `coopgen train`) — with --start as "first → last" (the run's step-0
evaluation, i.e. its start, beside its end) — then the mean effective sample size and the mean D
training accuracy over its training rows ("—" where the run logs none, as MLE does). The default
metrics are the text tasks'.

--seeds: one row per group of runs named NAME-SEED (the experiment scripts' METHOD-SCHEDULE-SEED),
each cell the mean ± standard deviation over the group's finished runs (those whose last
evaluation is at the group's largest step), with the number of seeds.
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
    ap.add_argument("--seeds", action="store_true", help="one row per NAME over its runs NAME-SEED: mean ± sd")
    ap.add_argument("runs", nargs="+")
    a = ap.parse_args()
    metrics = a.metrics.split(",")
    if a.seeds:
        return seed_table(a.runs, metrics)
    print("| run | steps | " + " | ".join(metrics) + " | mean ESS | mean D acc (training) |")
    print("|---" * (len(metrics) + 4) + "|")
    for run in a.runs:
        evals, train = read_run(run)
        if not evals:
            print(f"| {os.path.basename(run.rstrip('/'))} | no evaluation row |")
            continue
        first, last = evals[0], evals[-1]

        def cell(k):
            if k not in last:
                return "—"
            return f"{first[k]:.3f} → {last[k]:.3f}" if a.start and k in first else f"{last[k]:.3f}"

        def mean(key, digits):
            values = [r[key] for r in train if key in r]
            return f"{statistics.mean(values):.{digits}f}" if values else "—"

        print(f"| {os.path.basename(run.rstrip('/'))} | {last['step']} | " + " | ".join(cell(k) for k in metrics) +
              f" | {mean('ess', 1)} | {mean('d_acc', 2)} |")


def read_run(run):
    """(evaluation rows, training rows) of RUN/metrics.jsonl."""
    evals, train = [], []
    with open(os.path.join(run, "metrics.jsonl")) as f:
        for line in f:
            row = json.loads(line)
            (train if "loss" in row else evals).append(row)
    return evals, train


def seed_table(runs, metrics):
    groups = {}
    for run in runs:
        name = os.path.basename(run.rstrip("/"))
        base, _, seed = name.rpartition("-")
        if not seed.isdigit() or not os.path.exists(os.path.join(run, "metrics.jsonl")):
            continue
        evals, train = read_run(run)
        if evals:
            groups.setdefault(base, []).append((evals[-1], train))
    print("| runs | seeds | steps | " + " | ".join(metrics) + " | mean ESS |")
    print("|---" * (len(metrics) + 4) + "|")
    for base in sorted(groups):
        steps = max(last["step"] for last, _ in groups[base])
        done = [(last, train) for last, train in groups[base] if last["step"] == steps]

        def cell(values, digits=3):
            if not values:
                return "—"
            sd = f" ± {statistics.stdev(values):.{digits}f}" if len(values) > 1 else ""
            return f"{statistics.mean(values):.{digits}f}{sd}"

        ess = [statistics.mean(r["ess"] for r in train if "ess" in r) for _, train in done
               if any("ess" in r for r in train)]
        print(f"| {base} | {len(done)} | {steps} | " + " | ".join(cell([last[k] for last, _ in done if k in last])
                                                            for k in metrics) + f" | {cell(ess, 1)} |")


if __name__ == "__main__":
    main()
