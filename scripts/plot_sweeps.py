#!/usr/bin/env python3
"""Temperature-sweep curves of several runs on one plot (Caccia et al.'s protocol).

usage: plot_sweeps.py OUT.png RUN_DIR [RUN_DIR ...]

Each RUN_DIR holds sweep/sweep.csv from `coopgen sweep`. Draws the reverse LM score (diversity,
lower is better) against the LM score (quality, lower is better), one curve per run with its α
values marked, and prints a Markdown table of every point. A method beats MLE only if its curve
lies below-left of MLE's. Needs matplotlib; not used by the build or the tests.
"""
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, runs = sys.argv[1], sys.argv[2:]
    fig, ax = plt.subplots(figsize=(6.5, 5))
    header_done = False
    for run in runs:
        path = os.path.join(run, "sweep", "sweep.csv")
        if not os.path.exists(path):
            print(f"{path}: missing, skipped", file=sys.stderr)
            continue
        rows = list(csv.DictReader(open(path)))
        name = os.path.basename(run.rstrip("/"))
        xs = [float(r["lm_score"]) for r in rows]
        ys = [float(r["reverse_lm_score"]) for r in rows]
        ax.plot(xs, ys, marker="o", label=name)
        for r, x, y in zip(rows, xs, ys):
            ax.annotate(f"{float(r['alpha']):g}", (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
        cols = [c for c in rows[0] if c not in ("temperature",)]
        if not header_done:
            print("| run | " + " | ".join(cols) + " |")
            print("|---|" + "---|" * len(cols))
            header_done = True
        for r in rows:
            print(f"| {name} | " + " | ".join(f"{float(r[c]):.3f}" for c in cols) + " |")
    ax.set_xlabel("LM score: NLL of samples under an MLE model of the data (quality, lower is better)")
    ax.set_ylabel("reverse LM score: NLL of test data (diversity, lower is better)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    fig.savefig(out, dpi=90)
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
