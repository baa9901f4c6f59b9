#!/usr/bin/env python3
"""coopgen's pictures, all drawn with matplotlib from the files runs write.

  plot.py run RUN_DIR [OUT.png]            training curves of one run from RUN_DIR/metrics.jsonl
                                           (loss and every evaluated metric against the step;
                                           default OUT: RUN_DIR/curves.png)
  plot.py compare OUT.png RUN_DIR [RUN_DIR ...] [--metrics M1,M2]
                                           several runs' evaluated metrics against the step, one
                                           line per run (default kl_test,nll_oracle)
  (a grid's curves, mean ± sd over seeds: scripts/grid.py plot)
  plot.py sweep OUT.png RUN_DIR [RUN_DIR ...]
                                           temperature sweeps (RUN_DIR/sweep/sweep.csv of `coopgen
                                           sweep`): reverse LM score against LM score, one curve
                                           per run, each point labelled with its α
  plot.py enumerable CSV OUT.png           KL(p*‖p_t) curves of `coopgen enumerate`
  plot.py noise TABLE.csv OUT.png          final KL against the discriminator's logit noise σ,
                                           one line per method (columns method, sigma, kl, kl_sd)

Needs python3-matplotlib (scripts/install_deps.sh installs it).
"""
import argparse
import collections
import csv
import json
import math
import os
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LABELS = {
    "loss": "training loss",
    "nll_oracle": "NLL-oracle (nats/token, lower is better)",
    "nll_test": "NLL-test (nats/token)",
    "kl_test": "KL(p*‖p) (nats/token, from the test set)",
    "ess": "effective sample size of the weights",
    "bleu4": "BLEU-4",
}


def read_metrics(path):
    """(evaluations by step, training lines) of one metrics.jsonl."""
    evals, train = {}, []
    with open(path) as f:
        for line in f:
            row = json.loads(line)
            if "loss" in row:
                train.append(row)
            else:
                evals[row["step"]] = row
    return evals, train


def save(fig, out):
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    print(f"wrote {out}", file=sys.stderr)


def label(ax, xlabel, ylabel, title, legend=True):
    """Axis labels, title, a light grid (major and minor ticks) and the legend: every plot's finish."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    if legend:
        ax.legend(fontsize=8)


def cmd_run(a):
    evals, train = read_metrics(os.path.join(a.run_dir, "metrics.jsonl"))
    names = ["loss"] + sorted({k for e in evals.values() for k in e if k != "step"})
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.4 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        src = train if name == "loss" else [evals[s] for s in sorted(evals)]
        pts = [(r["step"], r[name]) for r in src if name in r]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="." if len(pts) < 40 else None)
        label(ax, "step", LABELS.get(name, name), name, legend=False)
    for ax in axes.flat[len(names):]:
        ax.axis("off")
    fig.suptitle(os.path.basename(os.path.normpath(a.run_dir)))
    save(fig, a.out or os.path.join(a.run_dir, "curves.png"))


def run_label(run):
    """A run folder's name in a legend: a grid's runs (OUT/COMBINATION/seedS) by combination and seed."""
    parts = os.path.normpath(run).split(os.sep)
    return "/".join(parts[-2:]) if parts[-1].startswith("seed") and len(parts) > 1 else parts[-1]


def cmd_compare(a):
    metrics = a.metrics.split(",")
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.5 * len(metrics), 4), squeeze=False)
    for run in a.runs:
        evals, _ = read_metrics(os.path.join(run, "metrics.jsonl"))
        for ax, m in zip(axes[0], metrics):
            steps = [t for t in sorted(evals) if m in evals[t]]
            ax.plot(steps, [evals[t][m] for t in steps], marker=".", label=run_label(run))
    for ax, m in zip(axes[0], metrics):
        label(ax, "step", LABELS.get(m, m), m)
    save(fig, a.out)


def draw_curves(curves, metrics, out, title):
    """curves: label -> [evaluations by step, one per seed]. Per metric, each label's mean over
    seeds against the step, ± one standard deviation shaded (scripts/grid.py plot)."""
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.5 * len(metrics), 4), squeeze=False)
    for ax, m in zip(axes[0], metrics):
        for name, runs in curves.items():
            steps = sorted(t for t in set.intersection(*(set(r) for r in runs)) if all(m in r[t] for r in runs))
            if not steps:
                continue
            mean = [statistics.mean(r[t][m] for r in runs) for t in steps]
            sd = [statistics.stdev([r[t][m] for r in runs]) if len(runs) > 1 else 0.0 for t in steps]
            line, = ax.plot(steps, mean, label=f"{name} ({len(runs)} seeds)")
            ax.fill_between(steps, [x - y for x, y in zip(mean, sd)], [x + y for x, y in zip(mean, sd)],
                            color=line.get_color(), alpha=0.2)
        label(ax, "generator step", LABELS.get(m, m), f"{m}, {title}")
    save(fig, out)


def cmd_sweep(a):
    fig, ax = plt.subplots(figsize=(8, 5.5))
    header_done = False
    for run in a.runs:
        path = os.path.join(run, "sweep", "sweep.csv")
        if not os.path.exists(path):
            print(f"{path}: missing, skipped", file=sys.stderr)
            continue
        rows = list(csv.DictReader(open(path)))
        name = run_label(run)
        xs = [float(r["lm_score"]) for r in rows]
        ys = [float(r["reverse_lm_score"]) for r in rows]
        ax.plot(xs, ys, marker="o", label=name)
        for r, x, y in zip(rows, xs, ys):
            ax.annotate(f"α {float(r['alpha']):g}", (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
        cols = [c for c in rows[0] if c != "temperature"]
        if not header_done:
            print("| run | " + " | ".join(cols) + " |")
            print("|---|" + "---|" * len(cols))
            header_done = True
        for r in rows:
            print(f"| {name} | " + " | ".join(f"{float(r[c]):.3f}" for c in cols) + " |")
    label(ax, "LM score: NLL of the samples under an MLE model of the data (quality, lower is better)",
          "reverse LM score: NLL of test data (diversity, lower is better)", "temperature sweep (Caccia et al. 2020)")
    save(fig, a.out)


def cmd_enumerable(a):
    curves = collections.defaultdict(lambda: collections.defaultdict(dict))  # update -> problem -> t -> kl
    for r in csv.DictReader(open(a.csv)):
        curves[r["update"]][int(r["problem"])][int(r["iteration"])] = max(float(r["kl"]), 1e-17)
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for update, problems in sorted(curves.items()):
        ts = sorted(set.intersection(*(set(c) for c in problems.values())))
        med = [statistics.median(c[t] for c in problems.values()) for t in ts]
        lo = [min(c[t] for c in problems.values()) for t in ts]
        hi = [max(c[t] for c in problems.values()) for t in ts]
        line, = ax.plot(ts, med, lw=1.5, label=f"{update} (median of {len(problems)})")
        ax.fill_between(ts, lo, hi, color=line.get_color(), alpha=0.12)
    ax.set_yscale("log")
    label(ax, "iteration t (one generator update with the optimal discriminator each)", "KL(p*‖p_t) (nats)",
          "the method on enumerable problems (band: min to max over problems)")
    save(fig, a.out)


def cmd_noise(a):
    rows = list(csv.DictReader(open(a.table)))
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for method in sorted({r["method"] for r in rows}):
        pts = sorted((float(r["sigma"]), float(r["kl"]), float(r["kl_sd"]), r.get("note", "")) for r in rows
                     if r["method"] == method)
        line, = ax.plot([p[0] for p in pts if not p[3]], [p[1] for p in pts if not p[3]], marker="o", label=method)
        ax.errorbar([p[0] for p in pts], [p[1] for p in pts], yerr=[p[2] for p in pts], fmt="none",
                    ecolor=line.get_color(), alpha=0.5)
        # The learned D's points (a note in the table) are stars; they sit close together, so their
        # notes stay in the table, not on the plot.
        stars = [p for p in pts if p[3]]
        ax.scatter([p[0] for p in stars], [p[1] for p in stars], marker="*", s=120, color=line.get_color())
    label(ax, "σ of the discriminator's logit error (0: the optimal D*)", "final KL(p*‖p) (nats/token)",
          "how good must D be (stars: the learned D at its measured error)")
    save(fig, a.out)


def main():
    ap = argparse.ArgumentParser(description="coopgen's pictures (matplotlib)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("run")
    p.add_argument("run_dir")
    p.add_argument("out", nargs="?")
    p = sub.add_parser("compare")
    p.add_argument("out")
    p.add_argument("runs", nargs="+")
    p.add_argument("--metrics", default="kl_test,nll_oracle")
    p = sub.add_parser("sweep")
    p.add_argument("out")
    p.add_argument("runs", nargs="+")
    p = sub.add_parser("enumerable")
    p.add_argument("csv")
    p.add_argument("out")
    p = sub.add_parser("noise")
    p.add_argument("table")
    p.add_argument("out")
    a = ap.parse_args()
    {"run": cmd_run, "compare": cmd_compare, "sweep": cmd_sweep, "enumerable": cmd_enumerable, "noise": cmd_noise}[a.cmd](a)


if __name__ == "__main__":
    main()
