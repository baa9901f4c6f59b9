#!/usr/bin/env python3
"""coopgen's experiment driver: runs a grid of training runs, N at a time, and tables and plots
them by their validation-chosen evaluation. Every experiment of docs/results.md is a grid file in
configs/grids/ (its header names the commands that made its numbers).

usage: grid.py run GRID.yaml [--jobs N] [--bin PATH] [--reverse] [--print] [--override KEY=VALUE ...]
       grid.py table GRID.yaml [--metrics M1,M2,...] [--start] [--train T1,T2,...] [--paired LABEL]
       grid.py plot GRID.yaml OUT_PREFIX [--metrics M1,M2,...]
       grid.py sweeps GRID.yaml [--metrics C1,C2,...] [--paired LABEL]   (RUN_DIR/sweep/sweep.csv, by α)
       grid.py finished RUN_DIR     (exit 0 when the run finished, by its own files)

A grid file (YAML):

    vars: {task: oracle}                   # {task} in every config path and override below
    config: configs/{task}_gcn.yaml        # the config of every run (a method may name its own)
    out: runs/opt
    seeds: [0, 1, 2]
    stages:                                # single runs the grid starts from, trained first
      - {name: mle, config: configs/oracle_mle.yaml, run_dir: runs/oracle_mle}
    common: [model.init={stage:mle}/checkpoint_best, train.steps=300]
    axes:
      method: [mle, gcn_p, gcn_guided+d_base+k5]   # names from configs/grids/methods.yaml
      schedule: {constant: [optim.schedule.kind=constant], cosine: [optim.schedule.kind=cosine]}
    after: ["{bin}", sweep, --config, "{config}", "{overrides}", --alphas, "1,2"]
    after_done: sweep/sweep.csv            # the file that says `after` ran (default: RUN_DIR.after.done)

An axis is a list of method names: the method table (configs/grids/methods.yaml, written once for
every grid) gives each name's config and overrides, and NAME+VARIANT+... adds discriminator
variants' overrides; or a mapping from a value's label to its overrides, or to {method: NAME,
overrides: [...], after: [...]} (each key optional: the method's config and overrides first, then
the value's own; `after` added to the end of the grid's `after` for that value's runs). Every combination of
the axes' values runs once per seed, in OUT/<label>_<label>/seed<S>, with its overrides after
`common` ({seed}, {stage:NAME} — that stage's run folder — and the vars substituted, in `after` too). A stage
(config, run_dir, overrides; `after: true` to give it the grid's `after` too) is trained before
the runs that name it, when not finished, N at a time once the stages it names are, every stage
before any stage's `after`; a runner waits for a stage another runner holds. A run is finished by
its own files (its checkpoint's step is its last evaluation's) and done when also trained by the
commands it has now, its own and its stages' (kept in RUN_DIR.command): a done run is skipped, any
other trained again with --overwrite, and its `after` run again. A run being trained holds RUN_DIR.lock, so several `run` commands (e.g. one with
--reverse, which takes the runs last first) share a grid; while runs go, their newest evaluation is
printed every minute. `after` runs once per finished run (and stage) without `after_done`; its
"{overrides}" expands to the run's overrides, "{bin}", "{config}" and "{run_dir}" to the run's.

`table` prints one Markdown row per combination: the mean ± standard deviation over seeds of each
metric at each run's evaluation of lowest nll_valid (the early-stopped model, chosen on the
validation split only), the mean step of that evaluation; with --start each cell is "start → best"
(the step-0 evaluation: the run's start); --train adds the mean of training-row metrics (e.g. ess,
d_acc) over every logged step. `plot` draws each combination's mean ± sd over seeds of each
metric against the step, one picture per metric row (OUT_PREFIX.png). `sweeps` prints one row per
combination and α of the temperature sweeps the runs' `after` wrote (`coopgen sweep`): the mean ±
sd over seeds of each column. --paired LABEL (table, sweeps) adds, per metric, the mean ± sd over
seeds of the difference from combination LABEL's run of the same seed (the control): in `table`
between the changes from each run's start to its best evaluation, in `sweeps` between the values
at the same α. --print prints the commands instead of running them.
"""
import argparse
import concurrent.futures
import csv
import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time

import yaml

METHODS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "configs", "grids", "methods.yaml")


def load_methods():
    with open(METHODS) as f:
        table = yaml.safe_load(f)
    return table["methods"], table.get("discriminators", {})


def resolve_method(name, methods, variants):
    """(config or None, overrides) of a method name NAME[+VARIANT...]."""
    base, *parts = name.split("+")
    if base not in methods:
        sys.exit(f"grid: unknown method '{base}' (known: {', '.join(methods)}; {METHODS})")
    entry = methods[base] or {}
    overrides = list(entry.get("overrides", []))
    for v in parts:
        if v not in variants:
            sys.exit(f"grid: unknown discriminator variant '{v}' (known: {', '.join(variants)}; {METHODS})")
        overrides += variants[v]
    return (os.path.join("configs", entry["config"]) if entry.get("config") else None), overrides


class Run:
    """One training run: its folder, config, overrides, the label of its combination, and the
    stages it starts from."""

    def __init__(self, run_dir, config, overrides, label, after=True, seed=None, after_extra=()):
        self.run_dir, self.config, self.overrides, self.label, self.after = run_dir, config, overrides, label, after
        self.seed, self.after_extra = seed, list(after_extra)
        self.stages = []

    def command(self, binary):
        return [binary, "train", "--config", self.config, f"run_dir={self.run_dir}", "--overwrite", *self.overrides]

    def signature(self):
        """Its command and those of the stages it starts from: a retrained start retrains it."""
        return "\n".join(" ".join(r.command("BIN")[1:]) for r in [self] + self.stages)

    def done(self):
        """Finished, and trained by the signature it has now (RUN_DIR.command, written when it
        started; a run without one is taken as it is)."""
        if not finished(self.run_dir):
            return False
        try:
            with open(self.run_dir + ".command") as f:
                return f.read() == self.signature()
        except FileNotFoundError:
            return True


class Grid:
    def __init__(self, path):
        with open(path) as f:
            self.spec = yaml.safe_load(f)
        self.vars = {k: str(v) for k, v in (self.spec.get("vars") or {}).items()}
        self.stages = {}
        for s in self.spec.get("stages", []):
            self.stages[s["name"]] = Run(self.fill(s["run_dir"]), self.fill(s["config"]),
                                         [self.fill(o) for o in s.get("overrides", [])], s["name"], s.get("after", False))
        self.runs = list(self.combinations())
        for r in list(self.stages.values()) + self.runs:
            r.stages = [s for s in self.stages_of(r) if s is not r]
        order = list(self.stages.values())
        for i, s in enumerate(order):
            later = [d.label for d in s.stages if order.index(d) > i]
            if later:
                sys.exit(f"grid: stage {s.label} starts from stage {later[0]}, listed after it: list {later[0]} first")

    def fill(self, text, seed=None):
        text = str(text)
        for k, v in self.vars.items():
            text = text.replace("{" + k + "}", v)
        for name, stage in getattr(self, "stages", {}).items():
            text = text.replace("{stage:" + name + "}", stage.run_dir)
        return text if seed is None else text.replace("{seed}", str(seed))

    def combinations(self):
        methods, variants = load_methods()
        axes = []
        for axis, values in (self.spec.get("axes") or {}).items():
            if isinstance(values, list):  # method names
                axes.append([(name, *resolve_method(self.fill(name), methods, variants), []) for name in values])
            else:
                axes.append([(label, *self.axis_value(axis, label, v, methods, variants)) for label, v in values.items()])
        for combo in itertools.product(*axes):
            label = "_".join(c[0] for c in combo) or "run"
            config = next((c[1] for c in reversed(combo) if c[1]), self.spec.get("config"))
            after_extra = [w for c in combo for w in c[3]]
            for seed in self.spec.get("seeds", [0]):
                overrides = [f"seed={seed}"] + list(self.spec.get("common", [])) + [o for c in combo for o in c[2]]
                yield Run(os.path.join(self.fill(self.spec["out"]), label, f"seed{seed}"), self.fill(config, seed),
                          [self.fill(o, seed) for o in overrides], label, seed=seed, after_extra=after_extra)

    def axis_value(self, axis, label, value, methods, variants):
        """(config or None, overrides, after words) of an axis value: a list of overrides, or
        {method, overrides, after}, `method` a name of the method table (NAME+VARIANT...) whose
        config and overrides come first."""
        if isinstance(value, list):
            return None, value, []
        if not isinstance(value, dict) or not set(value) <= {"method", "overrides", "after"}:
            sys.exit(f"grid: axis {axis}, value {label}: expected a list of overrides or "
                     f"{{method: NAME, overrides: [...], after: [...]}}, got {value!r}")
        if value.get("after") and not self.spec.get("after"):
            sys.exit(f"grid: axis {axis}, value {label}: 'after' words complete the grid's after, which it has not")
        config, overrides = resolve_method(self.fill(value["method"]), methods, variants) if "method" in value else (None, [])
        return config, overrides + value.get("overrides", []), value.get("after", [])

    def stages_of(self, run):
        """The stages a run names (its `after` included) and those they name, in the grid's order."""
        named, todo = [], [run]
        while todo:
            r = todo.pop()
            after = list(self.spec.get("after", [])) + r.after_extra if r.after else []
            text = " ".join([r.config] + r.overrides + [self.fill(w, r.seed) for w in after])
            for s in self.stages.values():  # its folder as a whole path or the start of one
                if s is not run and s not in named and re.search(re.escape(s.run_dir) + r"(?![^/\s\"'])", text):
                    named.append(s)
                    todo.append(s)
        return [s for s in self.stages.values() if s in named]

    def after_command(self, run, binary):
        spec = self.spec.get("after")
        if not spec or not run.after or os.path.exists(self.after_marker(run)):
            return None
        out = []
        for word in list(spec) + run.after_extra:
            if word == "{overrides}":
                out += run.overrides + [f"run_dir={run.run_dir}"]
            else:
                out.append(self.fill(word, run.seed).replace("{bin}", binary).replace("{config}", run.config)
                           .replace("{run_dir}", run.run_dir))
        return out


    def after_marker(self, run):
        """The file that says `after` ran: RUN_DIR/<after_done>, else RUN_DIR.after.done."""
        done = self.spec.get("after_done")
        return os.path.join(run.run_dir, done) if done else run.run_dir + ".after.done"


def evaluations(run_dir):
    """The evaluation rows of a run's metrics.jsonl (rows without a training loss)."""
    return evaluations_in(rows_of(run_dir))


def evaluations_in(rows):
    return [r for r in rows if "loss" not in r]


def rows_of(run_dir):
    path = os.path.join(run_dir, "metrics.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


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
    return best_of(evaluations(run_dir))


def best_of(evals):
    scored = [r for r in evals if r.get("nll_valid") is not None]
    return min(scored, key=lambda r: r["nll_valid"]) if scored else (evals[-1] if evals else None)


def start_best_rows(run):
    """(its first evaluation, its evaluation of lowest nll_valid, every row) of a run, its
    metrics.jsonl read once; None without an evaluation."""
    rows = rows_of(run.run_dir)
    evals = evaluations_in(rows)
    return (evals[0], best_of(evals), rows) if evals else None


def take_lock(path):
    """The lock file of a run, holding this process's id; None while a live process holds it (a
    lock left by a process that died is taken over)."""
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            os.write(fd, str(os.getpid()).encode())
            return fd
        except FileExistsError:
            try:
                with open(path) as f:
                    os.kill(int(f.read().strip() or 0), 0)
                return None  # its holder is alive
            except PermissionError:
                return None  # alive, another user's
            except FileNotFoundError:
                continue  # released meanwhile: try again
            except (ProcessLookupError, ValueError):
                try:
                    os.remove(path)
                except FileNotFoundError:
                    pass
    return None


def call(command, log_path):
    with open(log_path, "w") as log:
        return subprocess.call(command, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))


def train(run, grid, binary, going, with_after=True, wait=False):
    """Trains `run` unless done, then (with_after) its `after`; the exit code. A run another
    runner of the grid holds is left to it, or with `wait` (a stage, which later runs need)
    waited for."""
    os.makedirs(os.path.dirname(run.run_dir) or ".", exist_ok=True)
    while (lock := take_lock(run.run_dir + ".lock")) is None:
        if not wait:
            return 0
        time.sleep(10)
    rc = 0
    try:
        if not run.done():
            for stale in (grid.after_marker(run), run.run_dir + ".after.log"):  # its `after` runs again
                if os.path.exists(stale) and not os.path.isdir(stale):
                    os.remove(stale)
            with open(run.run_dir + ".command", "w") as f:
                f.write(run.signature())
            going.add(run.run_dir)
            rc = call(run.command(binary), run.run_dir + ".log")
            going.discard(run.run_dir)
            row = best(run.run_dir) or {}
            print(f"grid: {run.run_dir} exit {rc}, best step {row.get('step')} nll_valid {row.get('nll_valid')}", flush=True)
        after = grid.after_command(run, binary) if rc == 0 and with_after else None
        if after:
            rc = call(after, run.run_dir + ".after.log")
            if rc == 0 and not grid.spec.get("after_done"):
                open(grid.after_marker(run), "w").close()
            print(f"grid: {run.run_dir} after: exit {rc} ({run.run_dir}.after.log)", flush=True)
    finally:
        os.close(lock)
        os.remove(run.run_dir + ".lock")
    return rc


def watch(going, stop):
    """Every minute, the newest evaluation line of each run being trained."""
    while not stop.wait(60):
        for run_dir in sorted(going):
            try:
                with open(run_dir + ".log") as f:
                    lines = [l for l in f if l.startswith(("eval step", "discriminator pre-training"))]
            except OSError:
                continue
            if lines:
                print(f"grid: {run_dir}: {lines[-1].strip()[:110]}", flush=True)


def cmd_run(grid, a):
    for r in grid.runs:
        r.overrides += a.override
    todo = [r for r in (reversed(grid.runs) if a.reverse else grid.runs) if not r.done() or grid.after_command(r, a.bin)]
    picked = [s for s in grid.stages.values()
              if any(s in r.stages for r in todo) or (s.after and (not s.done() or grid.after_command(s, a.bin)))]
    stages = [s for s in grid.stages.values() if s in picked or any(s in p.stages for p in picked)]
    if a.print:  # in the order they run: the stages, their `after`s, then each run and its `after`
        print("\n".join([" ".join(s.command(a.bin)) for s in stages if not s.done()] +
                        [" ".join(grid.after_command(s, a.bin)) for s in stages if grid.after_command(s, a.bin)]))
        for r in todo:
            if not r.done():
                print(" ".join(r.command(a.bin)))
            if grid.after_command(r, a.bin):
                print(" ".join(grid.after_command(r, a.bin)))
        return 0
    print(f"grid: {len(grid.runs)} runs, {len(grid.runs) - len(todo)} finished, {len(todo)} to go, {a.jobs} at a time"
          + (f"; first the stages {', '.join(s.label for s in stages)}" if stages else ""), flush=True)
    going, stop = set(), threading.Event()
    threading.Thread(target=watch, args=(going, stop), daemon=True).start()
    try:
        # N at a time, each once the stages it starts from are trained (Grid lists those first, so
        # they were taken first: no runner waits for a stage queued behind it); after a failure
        # no other starts (None: not trained). Their `after`s once all are trained.
        failure = threading.Event()
        with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
            trained = {}

            def train_stage(s):
                if failure.is_set() or any(trained[d].result() != 0 for d in s.stages):
                    return None
                rc = train(s, grid, a.bin, going, with_after=False, wait=True)
                if rc != 0:
                    failure.set()
                return rc

            for s in stages:
                trained[s] = pool.submit(train_stage, s)
            codes = {s: trained[s].result() for s in stages}
        if any(c != 0 for c in codes.values()):
            for s in stages:
                if codes[s]:
                    print(f"grid: stage {s.label} failed ({s.run_dir}.log)", flush=True)
            return 1
        for s in stages:
            if train(s, grid, a.bin, going, wait=True) != 0:
                print(f"grid: stage {s.label}: its `after` failed ({s.run_dir}.after.log)", flush=True)
                return 1
        with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
            codes = list(pool.map(lambda r: train(r, grid, a.bin, going), todo))
    finally:
        stop.set()
    return 1 if any(codes) else 0


def groups(grid):
    """label -> the finished runs of that combination, in the grid's order."""
    out = {}
    for r in grid.runs:
        out.setdefault(r.label, [])
        if finished(r.run_dir):
            out[r.label].append(r)
    return out


def paired(values, control):
    """The mean ± sd over seeds of value − control, for the seeds both have (dicts seed -> value)."""
    return mean_sd([values[k] - control[k] for k in values if k in control])


def mean_sd(values, digits=3):
    if not values:
        return "—"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}" if len(values) > 1 \
        else f"{values[0]:.{digits}f}"


def control_runs(found, a):
    """The finished runs of --paired's combination among groups(grid) (empty without --paired)."""
    if not a.paired:
        return []
    if a.paired not in found:
        sys.exit(f"grid: --paired {a.paired}: no such combination (known: {', '.join(found)})")
    return found[a.paired]


def changes(summaries, k):
    """seed -> metric k's change from the start to the best evaluation (summaries: seed -> start_best_rows)."""
    return {seed: b[k] - s[k] for seed, (s, b, _) in summaries.items() if b.get(k) is not None and s.get(k) is not None}


def cmd_table(grid, a):
    metrics = a.metrics.split(",")
    train_metrics = a.train.split(",") if a.train else []
    found = groups(grid)
    control = {r.seed: t for r in control_runs(found, a) if (t := start_best_rows(r))}
    control_changes = {k: changes(control, k) for k in metrics} if a.paired else {}
    deltas = [f"paired Δ {k}" for k in control_changes]
    print("| runs | seeds | best step | " + " | ".join(metrics + [f"mean {t}" for t in train_metrics] + deltas) + " |")
    print("|---" * (len(metrics) + len(train_metrics) + len(deltas) + 3) + "|")
    for label, runs in found.items():
        mine = {r.seed: t for r in runs if (t := start_best_rows(r))}
        if not mine:
            print(f"| {label} | 0 | — |" + " — |" * (len(metrics) + len(train_metrics) + len(deltas)))
            continue
        cells = []
        for k in metrics:
            cell = mean_sd([b[k] for _, b, _ in mine.values() if b.get(k) is not None])
            if a.start:
                cell = mean_sd([s[k] for s, _, _ in mine.values() if s.get(k) is not None]) + " → " + cell
            cells.append(cell)
        for t in train_metrics:
            cells.append(mean_sd([x[t] for _, _, all_rows in mine.values() for x in all_rows if "loss" in x and t in x], 4))
        # The change from each run's start, less the control's from the same seed's start.
        cells += [paired(changes(mine, k), theirs) for k, theirs in control_changes.items()]
        print(f"| {label} | {len(mine)} | {statistics.mean(b['step'] for _, b, _ in mine.values()):.0f} | "
              + " | ".join(cells) + " |")
    return 0


def sweep_rows(run):
    """α -> the row of a run's sweep/sweep.csv (empty when it has none)."""
    path = os.path.join(run.run_dir, "sweep", "sweep.csv")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return {float(row["alpha"]): row for row in csv.DictReader(f)}


def cmd_sweeps(grid, a):
    cols = a.metrics.split(",")
    found = groups(grid)
    control = {r.seed: sweep_rows(r) for r in control_runs(found, a)}
    deltas = [f"paired Δ {c}" for c in cols] if a.paired else []
    print("| runs | α | seeds | " + " | ".join(cols + deltas) + " |")
    print("|---" * (len(cols) + len(deltas) + 3) + "|")
    for label, runs in found.items():
        by_alpha = {}
        for r in runs:
            for alpha, row in sweep_rows(r).items():
                by_alpha.setdefault(alpha, {})[r.seed] = row
        for alpha, rows in sorted(by_alpha.items()):
            cells = [mean_sd([float(r[c]) for r in rows.values() if c in r]) for c in cols]
            for c in cols if a.paired else []:
                mine = {seed: float(r[c]) for seed, r in rows.items() if c in r}
                theirs = {seed: float(s[alpha][c]) for seed, s in control.items() if alpha in s and c in s[alpha]}
                cells.append(paired(mine, theirs))
            print(f"| {label} | {alpha:g} | {len(rows)} | " + " | ".join(cells) + " |")
    return 0


def cmd_plot(grid, a):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import plot  # scripts/plot.py: matplotlib

    curves = {label: [plot.read_metrics(os.path.join(r.run_dir, "metrics.jsonl"))[0] for r in runs]
              for label, runs in groups(grid).items() if runs}
    if not curves:
        sys.exit("grid: no finished run to plot")
    plot.draw_curves(curves, a.metrics.split(","), f"{a.out}.png", os.path.basename(grid.fill(grid.spec["out"])))
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["run", "table", "plot", "sweeps", "finished"])
    ap.add_argument("grid", help="the grid file (finished: a run folder)")
    ap.add_argument("out", nargs="?", help="plot: the picture's path without .png")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--bin", default="build-rel/coopgen")
    ap.add_argument("--print", action="store_true")
    ap.add_argument("--override", action="append", default=[], help="run: KEY=VALUE added to every run (not the stages)")
    ap.add_argument("--reverse", action="store_true", help="train the runs last first")
    ap.add_argument("--metrics", help="table and plot: nll_valid,nll_test,kl_test,nll_oracle by default; "
                    "sweeps: lm_score,reverse_lm_score,nll_oracle")
    ap.add_argument("--start", action="store_true", help="table: each cell as start → best")
    ap.add_argument("--train", default="", help="table: training-row metrics to average (e.g. ess,d_acc)")
    ap.add_argument("--paired", help="table and sweeps: a combination's label, the control: add each metric's "
                    "mean ± sd over seeds of the difference from it (table: of the changes from each run's start)")
    a = ap.parse_args()
    if a.what == "finished":
        return 0 if finished(a.grid) else 1
    grid = Grid(a.grid)
    if a.what == "plot" and not a.out:
        ap.error("plot needs OUT_PREFIX")
    if a.metrics is None:
        a.metrics = "lm_score,reverse_lm_score,nll_oracle" if a.what == "sweeps" else "nll_valid,nll_test,kl_test,nll_oracle"
    return {"run": cmd_run, "table": cmd_table, "plot": cmd_plot, "sweeps": cmd_sweeps}[a.what](grid, a)


if __name__ == "__main__":
    sys.exit(main())
