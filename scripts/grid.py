#!/usr/bin/env python3
"""Runs a grid of coopgen training runs and tables them by their validation-chosen evaluation.

usage: grid.py run GRID.yaml [--jobs N] [--bin PATH] [--reverse] [--print]
       grid.py table GRID.yaml [--metrics M1,M2,...]
       grid.py finished RUN_DIR     (exit 0 when the run finished, by its own files)

A grid file (YAML) names a config, an output folder, seeds, overrides common to every run and
axes, each a mapping from a value's label to its overrides:

    config: configs/oracle_mle.yaml
    out: runs/mle_star
    seeds: [0, 1, 2]
    common: [train.eval_every=250, train.patience=4]
    axes:
      lr: {"1e-3": [optim.lr=1e-3], "3e-3": [optim.lr=3e-3]}
      width: {"32": [model.d_model=32], "64": [model.d_model=64, model.heads=4]}

An override may name its run's seed as {seed} (e.g. model.init=runs/mle_star/seed{seed}/checkpoint_best).
Every combination of the axes' values runs once per seed, in OUT/<label>_<label>/seed<S> (a
finished run, by its own files, is skipped; an unfinished one is trained again with --overwrite),
N at a time with one BLAS thread each. A run being trained holds RUN_DIR.lock, so several `run`
commands (e.g. one with --reverse, which takes the runs last first) share a grid. `table` prints one Markdown row per combination: the mean
± standard deviation over seeds of each metric at each run's evaluation of lowest nll_valid (the
early-stopped model, chosen on the validation split only), and the mean step of that evaluation.
The command of every run is printed with --print instead of run.
"""
import argparse
import concurrent.futures
import itertools
import json
import os
import statistics
import subprocess
import sys

import yaml


def runs_of(grid):
    """(run_dir, overrides, labels) for every combination of the axes and every seed."""
    axes = grid.get("axes", {})
    names = list(axes)
    for combo in itertools.product(*(list(axes[n].items()) for n in names)):
        labels = [label for label, _ in combo]
        overrides = [o for _, os_ in combo for o in os_]
        for seed in grid.get("seeds", [0]):
            name = "_".join(labels) or "run"
            runs = [f"seed={seed}"] + grid.get("common", []) + overrides
            yield os.path.join(grid["out"], name, f"seed{seed}"), [o.replace("{seed}", str(seed)) for o in runs], name


def evaluations(run_dir):
    """The evaluation rows of a run's metrics.jsonl (rows without a training loss)."""
    path = os.path.join(run_dir, "metrics.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [r for r in map(json.loads, f) if "loss" not in r]


def finished(run_dir):
    """A run is finished when its checkpoint's step is the step of its last evaluation: the
    final evaluation comes after the final checkpoint, whether the run stopped early or not."""
    state = os.path.join(run_dir, "checkpoint", "trainer_state.json")
    evals = evaluations(run_dir)
    if not evals or not os.path.exists(state):
        return False
    with open(state) as f:
        return json.load(f)["step"] == evals[-1]["step"]


def best(run_dir):
    """The evaluation row of lowest nll_valid (the last row where the run has no validation)."""
    evals = evaluations(run_dir)
    scored = [r for r in evals if r.get("nll_valid") is not None]
    return min(scored, key=lambda r: r["nll_valid"]) if scored else (evals[-1] if evals else None)


def take_lock(path):
    """The lock file of a run, holding this process's id; None while a live process holds it (a
    lock left by a process that died is taken over)."""
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            os.write(fd, str(os.getpid()).encode())
            return fd
        except FileExistsError:
            try:
                with open(path) as f:
                    os.kill(int(f.read().strip() or 0), 0)
                return None  # its holder is alive
            except (ProcessLookupError, ValueError):
                os.remove(path)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["run", "table", "finished"])
    ap.add_argument("grid", help="the grid file (finished: a run folder)")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--bin", default="build-rel/coopgen")
    ap.add_argument("--print", action="store_true")
    ap.add_argument("--reverse", action="store_true", help="train the runs last first")
    ap.add_argument("--metrics", default="nll_valid,nll_test,kl_test,nll_oracle")
    a = ap.parse_args()
    if a.what == "finished":
        return 0 if finished(a.grid) else 1
    with open(a.grid) as f:
        grid = yaml.safe_load(f)
    runs = list(runs_of(grid))
    if a.what == "run":
        todo = [(d, o) for d, o, _ in (reversed(runs) if a.reverse else runs) if not finished(d)]
        commands = [[a.bin, "train", "--config", grid["config"], f"run_dir={d}", "--overwrite", *o] for d, o in todo]
        if a.print:
            print("\n".join(" ".join(c) for c in commands))
            return 0
        print(f"grid: {len(runs)} runs, {len(runs) - len(todo)} finished, {len(todo)} to train, {a.jobs} at a time",
              flush=True)

        def train(command):
            run_dir = command[4][len("run_dir="):]
            os.makedirs(os.path.dirname(run_dir), exist_ok=True)
            lock = take_lock(run_dir + ".lock")
            if lock is None:  # another runner of this grid has it
                return 0
            try:
                if finished(run_dir):
                    return 0
                with open(run_dir + ".log", "w") as log:
                    rc = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT,
                                         env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
            finally:
                os.close(lock)
                os.remove(run_dir + ".lock")
            row = best(run_dir) or {}
            print(f"grid: {run_dir} exit {rc}, best step {row.get('step')} nll_valid {row.get('nll_valid')}", flush=True)
            return rc

        with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
            codes = list(pool.map(train, commands))
        return 1 if any(codes) else 0
    metrics = a.metrics.split(",")
    print("| runs | seeds | best step | " + " | ".join(metrics) + " |")
    print("|---" * (len(metrics) + 3) + "|")
    for name in dict.fromkeys(n for _, _, n in runs):
        rows = [best(d) for d, _, n in runs if n == name and finished(d)]
        rows = [r for r in rows if r]
        if not rows:
            print(f"| {name} | 0 | — |" + " — |" * len(metrics))
            continue

        def cell(k):
            v = [r[k] for r in rows if r.get(k) is not None]
            if not v:
                return "—"
            return f"{statistics.mean(v):.3f} ± {statistics.stdev(v):.3f}" if len(v) > 1 else f"{v[0]:.3f}"

        print(f"| {name} | {len(rows)} | {statistics.mean(r['step'] for r in rows):.0f} | " +
              " | ".join(cell(k) for k in metrics) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
